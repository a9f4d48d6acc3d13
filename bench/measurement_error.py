"""Measurement error, measured (issue 11.5): run a bundled drill N times in the sandbox and
compare the RTO each scorecard reports with the truth the simulator knows.

Truth: the simulator's fleet step records, every tick, how many targets of the drill's
target group the load balancer reports healthy; the true recovery is the first tick after
the fault from which the group is whole again (and stays so). Error = measured RTO - true
RTO. Goal (issue 11): |error| <= poll/2 + one probe latency at p95.

    PYTHONPATH=. python bench/measurement_error.py [N] [drill]     # default 30, instance-termination

RPO error is not measured yet (the bundled drill with canaries is the region-loss demo;
see the report).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drtool.sandbox import fleet as fleet_module  # noqa: E402

TRUTH: list[tuple[float, int]] = []
TARGET = ("us-east-1", "shop-use1-tg")
_original_step = fleet_module.Fleet.step


def _recording_step(self, now, reachable, warm=False):   # type: ignore[no-untyped-def]
    healthy = _original_step(self, now, reachable, warm)
    TRUTH.append((time.time(), healthy.get(TARGET, 0)))
    return healthy


fleet_module.Fleet.step = _recording_step  # type: ignore[method-assign]


def true_rto(fault_at: float, whole: int) -> float | None:
    after = [(t, n) for t, n in TRUTH if t >= fault_at]
    last_short = max((i for i, (_, n) in enumerate(after) if n < whole), default=None)
    if last_short is None or last_short + 1 >= len(after):
        return None
    return after[last_short + 1][0] - fault_at


def one_run(drill: Path) -> tuple[float, float, float]:
    from drtool.api import drill_target
    from drtool.journal import read_journal
    from drtool.runner import RunOptions, run_drill

    TRUTH.clear()
    with tempfile.TemporaryDirectory() as tmp, drill_target(drill, sandbox=True) as (loaded, session, mode):
        result = run_drill(loaded, session, RunOptions(results=Path(tmp), yes=True, mode=mode))
        events = read_journal(result.run_dir / "journal.jsonl")
    fault = next(e["t"] for e in events if e["event"] == "fault")
    poll = next(e["poll_s"] for e in events if e["event"] == "run.started")
    whole = max(n for _, n in TRUTH)
    measured = result.scorecard["objectives"]["rto"]["measured_s"]
    truth = true_rto(fault, whole)
    if measured is None or truth is None:
        raise RuntimeError(f"run without an RTO: measured {measured}, truth {truth}")
    return measured, truth, poll


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    drill = ROOT / "drills" / (sys.argv[2] if len(sys.argv) > 2 else "instance-termination.yaml")
    errors, polls = [], set()
    for i in range(n):
        measured, truth, poll = one_run(drill)
        errors.append(measured - truth)
        polls.add(poll)
        print(f"run {i + 1}/{n}: measured {measured:.3f}s truth {truth:.3f}s error {measured - truth:+.3f}s",
              file=sys.stderr)
    absolute = [abs(e) for e in errors]
    poll = max(polls)
    summary = {"drill": drill.name, "runs": n, "poll_s": poll, "median_s": statistics.median(errors),
               "p95_abs_s": p95(absolute), "max_abs_s": max(absolute), "goal_s": f"poll/2 + probe latency = "
               f"{poll / 2:g} s + probe"}
    print("| Drill | Runs | poll | RTO error median | \\|error\\| p95 | \\|error\\| max | Goal (p95) |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {drill.stem} | {n} | {poll:g} s | {summary['median_s']:+.3f} s | {summary['p95_abs_s']:.3f} s "
          f"| {summary['max_abs_s']:.3f} s | <= {poll / 2:g} s + one probe |")
    print(json.dumps(summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
