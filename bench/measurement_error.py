"""Measurement error, measured (issue 11.5): run bundled drills N times in the sandbox and
compare the RTO and RPO each scorecard reports with the truth the simulator records
(bench/truth.py).

- RTO (instance-termination): truth = the first simulator tick from which the target group
  is whole again. Errors of `objectives.rto.measured_s` (the first passing poll, the
  conservative bound `met` is judged on) and of `estimate_s` (the midpoint of the last
  failing and the first passing poll).
- RPO (checkout-region-loss, S3 canary): `measured_s` against the newest canary in the
  replica at the fault (what the canary can know), then `measured_s` (the bound) and
  `estimate_s` (the midpoint of the canary interval around the truth) against the data
  truth: fault - the newest write (the bench's dense writes every 20 ms, or a canary) that
  had replicated at the fault.

Goal (issue 11): |error| <= poll/2 (canary: interval/2) + one probe (write) latency at p95.

    PYTHONPATH=. python bench/measurement_error.py [rto|rpo|all] [N]    # default: all, 30
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.truth import DenseWriter, FleetTruth, ProbeLatency, ReplicaTruth  # noqa: E402

RTO_DRILL = ROOT / "drills" / "instance-termination.yaml"
RPO_DRILL = ROOT / "drills" / "checkout-region-loss.yaml"
ACCOUNT, PRIMARY, BUCKET = "123456789012", "us-east-1", "shop-orders-use1"
DENSE_PERIOD_S = 0.02
CANARY_PREFIX = "drtool-canary/"          # S3CanaryConfig.prefix default (the drill sets none)
FLEET = FleetTruth(target=(PRIMARY, "shop-use1-tg"))
REPLICA = ReplicaTruth(bucket=BUCKET)
PROBES = ProbeLatency()


@dataclass(frozen=True)
class RtoRun:
    truth_s: float
    measured_s: float
    estimate_s: float
    half_width_s: float
    poll_s: float


@dataclass(frozen=True)
class RpoRun:
    canary_truth_s: float     # fault - the newest canary in the replica at the fault (S3's timestamps)
    data_truth_s: float       # fault - the newest write (dense or canary) in the replica at the fault
    truth_resolution_s: float  # gap from that write to the next dense write
    measured_s: float
    estimate_s: float
    half_width_s: float
    interval_s: float


def _run(drill: Path, before: Any = None) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
    """Run `drill` in a fresh sandbox; `before(session)` starts anything that runs beside it and
    returns a callable run after the drill, inside the sandbox (its result is returned)."""
    from drtool.api import drill_target
    from drtool.journal import read_journal
    from drtool.runner import RunOptions, run_drill

    with tempfile.TemporaryDirectory() as tmp, drill_target(drill, sandbox=True) as (loaded, session, mode):
        after = before(session) if before else None
        result = run_drill(loaded, session, RunOptions(results=Path(tmp), yes=True, mode=mode))
        extra = after() if after else None
        events = read_journal(result.run_dir / "journal.jsonl")
    return result.scorecard, events, extra


def _event(events: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(e for e in events if e["event"] == name)


def rto_run() -> RtoRun:
    FLEET.ticks.clear()
    card, events, _ = _run(RTO_DRILL)
    rto, fault = card["objectives"]["rto"], _event(events, "fault")["t"]
    truth = FLEET.true_rto(fault)
    if rto["measured_s"] is None or rto["estimate_s"] is None or truth is None:
        raise RuntimeError(f"run without an RTO: scorecard {rto}, truth {truth}")
    return RtoRun(truth, rto["measured_s"], rto["estimate_s"], rto["estimate_half_width_s"],
                  _event(events, "run.started")["poll_s"])


def rpo_run() -> RpoRun:
    REPLICA.reset()

    def dense(session: Any) -> Any:
        from drtool.sandbox.provision import isolated_session

        client = isolated_session(PRIMARY).client("s3", endpoint_url=session.endpoint_url)
        writer = DenseWriter(client, BUCKET, DENSE_PERIOD_S)
        writer.start()

        def stop() -> list[float]:
            writer.stop()
            return DenseWriter.write_times(ACCOUNT, BUCKET)
        return stop

    card, events, dense_times = _run(RPO_DRILL, dense)
    rpo, fault = card["objectives"]["rpo"], _event(events, "fault")["t"]
    [canary] = [m for m in rpo["measurements"] if m["method"] == "canary"]
    newest_canary = REPLICA.newest_by(fault, CANARY_PREFIX)
    newest = REPLICA.newest_by(fault, "")      # a canary is a write of the service too
    if rpo["measured_s"] is None or rpo["estimate_s"] is None or newest_canary is None or newest is None:
        raise RuntimeError(f"run without an RPO: scorecard {rpo['measured_s']} {rpo['detail']}")
    following = [t for t in dense_times if t > newest.written_at]
    return RpoRun(fault - newest_canary.written_at, fault - newest.written_at,
                  (following[0] if following else fault) - newest.written_at,
                  rpo["measured_s"], rpo["estimate_s"], rpo["estimate_half_width_s"],
                  canary["evidence"]["interval_s"])


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def spread(errors: list[float]) -> dict[str, float]:
    """Median (signed), p95 and max of |error|, in seconds."""
    absolute = [abs(e) for e in errors]
    return {"median_s": round(statistics.median(errors), 3), "p95_abs_s": round(p95(absolute), 3),
            "max_abs_s": round(max(absolute), 3)}


def inside(truths: list[float], estimates: list[float], half_widths: list[float]) -> str:
    """How many truths lie in [estimate - half-width, estimate + half-width] (1 ms slack)."""
    hits = sum(abs(t - e) <= h + 0.001 for t, e, h in zip(truths, estimates, half_widths, strict=True))
    return f"{hits}/{len(truths)}"


def row(what: str, runs: int, step: str, errors: list[float], goal: str, covered: str) -> str:
    s = spread(errors)
    return (f"| {what} | {runs} | {step} | {s['median_s']:+.3f} s | {s['p95_abs_s']:.3f} s | {s['max_abs_s']:.3f} s "
            f"| {goal} | {covered} |")


def main() -> int:
    part = sys.argv[1] if len(sys.argv) > 1 else "all"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    rows, notes, results = [], [], {}
    if part in ("rto", "all"):
        FLEET.install()
        PROBES.install()
        rto_runs, rto_missing = [], []
        for i in range(n):
            try:
                r = rto_run()
            except RuntimeError as exc:     # counted and said, never silently dropped
                rto_missing.append(str(exc))
                print(f"rto {i + 1}/{n}: {exc}", file=sys.stderr)
                continue
            rto_runs.append(r)
            print(f"rto {i + 1}/{n}: truth {r.truth_s:.3f} measured {r.measured_s:.3f} estimate "
                  f"{r.estimate_s:.3f} ±{r.half_width_s:.3f}", file=sys.stderr)
        poll = max(r.poll_s for r in rto_runs)
        probe = p95(PROBES.per_check_s)
        goal = f"≤ {poll / 2:g} s + one probe ({probe:.3f} s p95) = {poll / 2 + probe:.3f} s"
        step, truths = f"poll {poll:g} s", [r.truth_s for r in rto_runs]
        covered = inside(truths, [r.estimate_s for r in rto_runs], [r.half_width_s for r in rto_runs])
        rows += [row("RTO `measured_s` (bound) − truth", len(rto_runs), step,
                     [r.measured_s - r.truth_s for r in rto_runs], "—", covered),
                 row("RTO `estimate_s` − truth", len(rto_runs), step,
                     [r.estimate_s - r.truth_s for r in rto_runs], goal, covered)]
        results["rto"] = {"drill": RTO_DRILL.name, "runs": [asdict(r) for r in rto_runs], "unmeasured": rto_missing,
                          "half_width_median_s": statistics.median(r.half_width_s for r in rto_runs),
                          "probe_latency_s": {"median": statistics.median(PROBES.per_check_s), "p95": probe}}
    if part in ("rpo", "all"):
        REPLICA.install()
        rpo_runs, rpo_missing = [], []
        for i in range(n):
            try:
                p = rpo_run()
            except RuntimeError as exc:
                rpo_missing.append(str(exc))
                print(f"rpo {i + 1}/{n}: {exc}", file=sys.stderr)
                continue
            rpo_runs.append(p)
            print(f"rpo {i + 1}/{n}: canary truth {p.canary_truth_s:.3f} data truth {p.data_truth_s:.3f} "
                  f"(±{p.truth_resolution_s:.3f}) measured {p.measured_s:.3f} estimate {p.estimate_s:.3f} "
                  f"±{p.half_width_s:.3f}", file=sys.stderr)
        interval = max(p.interval_s for p in rpo_runs)
        write = p95([max(0.0, p.measured_s - p.canary_truth_s) for p in rpo_runs])   # request start -> stored
        goal = f"≤ {interval / 2:g} s + one write ({write:.3f} s p95) = {interval / 2 + write:.3f} s"
        step = f"canary {interval:g} s"
        covered = inside([p.data_truth_s for p in rpo_runs], [p.estimate_s for p in rpo_runs],
                         [p.half_width_s for p in rpo_runs])
        rows += [row("RPO `measured_s` − newest canary in the replica at the fault", len(rpo_runs), step,
                     [p.measured_s - p.canary_truth_s for p in rpo_runs], "0 + one write", "—"),
                 row("RPO `measured_s` (bound) − data truth", len(rpo_runs), step,
                     [p.measured_s - p.data_truth_s for p in rpo_runs], "—", covered),
                 row("RPO `estimate_s` − data truth", len(rpo_runs), step,
                     [p.estimate_s - p.data_truth_s for p in rpo_runs], goal, covered)]
        on_time = [p for p in rpo_runs if p.half_width_s <= interval / 2 + 0.01]   # canaries written on schedule
        if on_time:
            s = spread([p.estimate_s - p.data_truth_s for p in on_time])
            notes.append(f"RPO runs whose canaries kept their schedule (half-width <= interval/2 + 10 ms): "
                         f"{len(on_time)}/{len(rpo_runs)}; estimate error there median {s['median_s']:+.3f} s, "
                         f"|error| p95 {s['p95_abs_s']:.3f} s, max {s['max_abs_s']:.3f} s")
        results["rpo"] = {"drill": RPO_DRILL.name, "dense_period_s": DENSE_PERIOD_S, "unmeasured": rpo_missing,
                          "truth_resolution_p95_s": p95([p.truth_resolution_s for p in rpo_runs]),
                          "runs": [asdict(p) for p in rpo_runs]}
    print("| error | runs | step | median | \\|error\\| p95 | \\|error\\| max | goal (p95) | truth in interval |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\n".join(f"\n{note}" for note in notes))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    for name, result in results.items():
        (out / f"measurement_error_{name}.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
