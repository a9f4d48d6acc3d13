"""Run a drill: guardrails, inject, recover, verify, measure, undo, score.

Phases follow Chaos Toolkit's vocabulary: the fault is injected (`inject`), the runbook
drives recovery (`recover`), and `verify` polls the steady-state checks until they all
pass. The RTO clock starts when the last inject step completed (`fault_at`) and stops at
the first instant every verify check passed (`recovered_at`). Whatever happens, every
journaled change is undone in reverse order, then the scenario's own rollback steps run.
"""

from __future__ import annotations

import contextlib
import getpass
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drtool import __version__
from drtool.context import StepContext
from drtool.documents import Drill, Step
from drtool.errors import DrillAborted, GuardrailRefusal
from drtool.guardrails import Plan, enforce, prepare, step_key
from drtool.journal import JOURNAL_NAME, Journal, read_journal
from drtool.rollback import undo_all
from drtool.scorecard import SCORECARD_NAME, build_scorecard, write_json_atomic
from drtool.timing import Clock, PollTimeout, SystemClock, wait_until

DEFAULT_WAIT_TIMEOUT = 600.0


class Interrupted(BaseException):
    """SIGTERM (or Ctrl-C) during a run."""


class _Abort(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _RecoveryFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class RunOptions:
    results: Path = Path("drill-results")
    yes: bool = False
    interactive: bool = False
    assume_manual: bool = False
    mode: str = "live"
    clock: Clock = field(default_factory=SystemClock)
    seed: int | None = None
    confirm: Callable[[str], bool] | None = None
    ask_manual: Callable[[str], str | None] | None = None
    report: Callable[[str], None] = lambda _line: None
    run_id: str | None = None
    previous_sha256: Callable[[str], str | None] | None = None


@dataclass
class RunResult:
    scorecard: dict[str, Any]
    run_dir: Path
    exit_code: int


def new_run_id(clock: Clock) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(clock.now())) + "-" + secrets.token_hex(3)


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGTERM raises Interrupted during the drill (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        raise Interrupted(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_shielded(report: Callable[[str], None]) -> Iterator[None]:
    """While undoing, Ctrl-C and SIGTERM are noted, not obeyed: rollback must finish."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        report(f"  ({signal.Signals(signum).name} ignored: rollback in progress)")

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


class DrillRun:
    """One execution of a drill; the journal records everything it does."""

    def __init__(self, drill: Drill, session: Any, plan: Plan, opts: RunOptions) -> None:
        self.drill = drill
        self.session = session
        self.plan = plan
        self.opts = opts
        self.clock = opts.clock
        self.run_id = opts.run_id or new_run_id(self.clock)
        self.run_dir = Path(opts.results) / drill.name / self.run_id
        self.journal = Journal(self.run_dir / JOURNAL_NAME, self.clock)
        self.started_mono = self.clock.monotonic()
        self.started_at = self.clock.now()
        self.meters: list[Any] = []
        self.fault_at: float | None = None
        rails = drill.doc.guardrails
        self.stop_conditions = [(c.alarm, c.region or plan.default_region) for c in rails.stop_conditions]

    # -- contexts ---------------------------------------------------------------------
    def context(self, region: str | None, step: str = "", read_only: bool = False,
                undoable: bool = True) -> StepContext:
        return StepContext(aws=self.session, clock=self.clock, region=region or self.plan.default_region,
                           run_id=self.run_id, step=step, journal=self.journal, read_only=read_only,
                           drill=self.drill.name, undoable=undoable)

    # -- checks every poll ------------------------------------------------------------
    def tick(self) -> None:
        limit = self.drill.doc.guardrails.time_limit
        if limit is not None and self.clock.monotonic() - self.started_mono > limit:
            raise _Abort(f"time limit {limit:g}s exceeded")
        if self.stop_conditions:
            from drtool.aws.cloudwatch import alarms_in_alarm

            firing = alarms_in_alarm(self.session, self.stop_conditions)
            if firing:
                raise _Abort(f"stop condition: alarm {', '.join(firing)} in ALARM")

    def remaining_time(self) -> float | None:
        limit = self.drill.doc.guardrails.time_limit
        if limit is None:
            return None
        return max(0.0, limit - (self.clock.monotonic() - self.started_mono))

    def _timed_out(self, reason: str) -> Exception:
        """A poll that ran out of time: an abort if the drill's time limit ran out."""
        left = self.remaining_time()
        if left is not None and left <= 0:
            return _Abort(f"time limit {self.drill.doc.guardrails.time_limit:g}s exceeded ({reason})")
        return _RecoveryFailed(reason)

    def _bounded(self, timeout: float) -> float:
        """A poll's timeout, cut short by what is left of the drill's time limit."""
        left = self.remaining_time()
        return timeout if left is None else min(timeout, left)

    # -- steps -----------------------------------------------------------------------
    def _started(self, step: Step) -> None:
        self.journal.write("step.started", phase=step.phase, step=step.label, kind=step.form,
                           index=step.index, ref=step.ref)

    def _finished(self, step: Step, status: str, detail: str, **data: Any) -> None:
        self.journal.write("step.finished", phase=step.phase, step=step.label, kind=step.form,
                           index=step.index, status=status, detail=detail, **data)
        mark = {"ok": "ok", "failed": "FAILED", "timeout": "TIMEOUT", "aborted": "ABORTED"}.get(status, status)
        self.opts.report(f"  {step.phase:<8} {step.label:<34} {mark:<7} {detail}")

    def run_step(self, step: Step, undoable: bool = True) -> None:
        from drtool.aws.errors import translate

        self.tick()
        self._started(step)
        if step.form == "manual":
            self._manual(step)
            return
        entry = step.entry
        region = step.region(self.plan.default_region)
        ctx = self.context(region, step.label, read_only=step.form != "action", undoable=undoable)
        if step.form == "wait":
            self._wait(step, ctx)
            return
        targets = self.plan.targets.get(step_key(step), [])
        try:
            outcome = entry.func(ctx, step.params, targets)
        except (Interrupted, KeyboardInterrupt):
            self._finished(step, "aborted", "interrupted")
            raise
        except Exception as exc:  # noqa: BLE001 - every step error aborts the drill with its reason
            try:
                err = translate(exc, entry.name, step.label)
                message = err.message
            except Exception:  # noqa: BLE001
                message = f"{entry.name}: {type(exc).__name__}: {exc}"
            self._finished(step, "failed", message)
            raise _Abort(message) from exc
        recovery_point_at = outcome.data.get("recovery_point_at")
        if recovery_point_at is not None:
            age = round(self.started_at - float(recovery_point_at), 3)
            self.journal.write("rpo.measured", measurements=[{
                "method": "recovery-point", "measured_s": max(0.0, age),
                "detail": f"{step.label} restored a recovery point {age:.1f}s older than the drill start",
                "evidence": {k: v for k, v in outcome.data.items() if isinstance(v, str | int | float)}}])
        self._finished(step, "ok", outcome.detail, data=_jsonable(outcome.data))

    def _wait(self, step: Step, ctx: StepContext) -> None:
        entry = step.entry
        timeout = self._bounded(step.timeout if step.timeout is not None else DEFAULT_WAIT_TIMEOUT)

        def probe() -> tuple[bool, Any]:
            result = entry.func(ctx, step.params)
            return result.ok, result

        try:
            _at, result = wait_until(probe, clock=self.clock, interval=self.drill.doc.poll,
                                     timeout=timeout, on_tick=self.tick)
        except PollTimeout as exc:
            detail = getattr(exc.last, "detail", "never true")
            self._finished(step, "timeout", f"not true after {timeout:g}s: {detail}")
            raise self._timed_out(f"{step.label} did not become true within {timeout:g}s") from None
        except _Abort as exc:
            self._finished(step, "aborted", exc.reason)
            raise
        self._finished(step, "ok", result.detail)

    def _manual(self, step: Step) -> None:
        text = step.ref
        if self.opts.interactive and self.opts.ask_manual is not None:
            who = self.opts.ask_manual(text)
            if not who:
                self._finished(step, "failed", "the operator declined")
                raise _Abort(f"manual step declined: {text}")
            self.journal.write("manual.acknowledged", step=step.label, text=text, acknowledged_by=who,
                               assumed=False)
            self._finished(step, "ok", f"acknowledged by {who}")
            return
        if self.opts.assume_manual:
            self.journal.write("manual.acknowledged", step=step.label, text=text,
                               acknowledged_by="--assume-manual", assumed=True)
            self._finished(step, "ok", "assumed done (--assume-manual)")
            return
        self._finished(step, "failed", "needs an operator: run interactively or pass --assume-manual")
        raise _Abort(f"manual step {step.label!r} needs an operator (run interactively or pass --assume-manual)")

    def verify(self) -> float | None:
        """Poll every verify check together; return the instant all passed."""
        checks = self.drill.steps.get("verify", [])
        if not checks:
            self.opts.report("  verify   (no checks: recovered when the runbook finished)")
            return self.clock.now()
        for step in checks:
            self._started(step)
        contexts = {step_key(s): self.context(s.region(self.plan.default_region), s.label, read_only=True)
                    for s in checks}
        last: dict[str, Any] = {}

        def all_pass() -> tuple[bool, Any]:
            ok = True
            for step in checks:
                result = step.entry.func(contexts[step_key(step)], step.params)
                last[step_key(step)] = result
                ok = ok and result.ok
            return ok, None

        explicit = [s.timeout for s in checks if s.timeout is not None]
        timeout = self._bounded(max(explicit) if explicit else max(2 * self.drill.doc.objectives.rto, 60.0))
        try:
            recovered_at, _ = wait_until(all_pass, clock=self.clock, interval=self.drill.doc.poll,
                                         timeout=timeout, on_tick=self.tick)
        except PollTimeout:
            for step in checks:
                result = last.get(step_key(step))
                ok = bool(result and result.ok)
                self._finished(step, "ok" if ok else "timeout", result.detail if result else "never polled")
            raise self._timed_out(f"verify checks did not all pass within {timeout:g}s") from None
        except _Abort as exc:
            for step in checks:
                self._finished(step, "aborted", exc.reason)
            raise
        self.journal.write("recovered", t=recovered_at)
        for step in checks:
            self._finished(step, "ok", last[step_key(step)].detail)
        return recovered_at

    # -- the whole run ----------------------------------------------------------------
    def start(self) -> None:
        doc = self.drill.doc
        self.journal.write(
            "run.started", t=self.started_at, run_id=self.run_id, drill=doc.name, scenario=self.drill.scenario.name,
            mode=self.opts.mode, service=doc.service.model_dump(), tool_version=__version__,
            objectives={"rto_s": doc.objectives.rto, "rpo_s": doc.objectives.rpo},
            account_ids=[self.plan.account] if self.plan.account else list(doc.run.account_ids),
            regions=self.plan.regions, seed=self.plan.seed, schedule_every_s=doc.schedule.every if doc.schedule else None,
            drill_path=str(self.drill.path.resolve()), parameters=_jsonable(self.drill.parameters),
            poll_s=doc.poll, operator=_operator(),
            aws={"profile": doc.aws.profile, "role_arn": doc.aws.role_arn, "external_id": doc.aws.external_id,
                 "default_region": self.plan.default_region},
        )
        for step in self.drill.all_steps():
            found = self.plan.targets.get(step_key(step))
            if found:
                self.journal.write("targets.resolved", step=step.label, targets=[r.to_json() for r in found])
        self._posture()

    def _posture(self) -> None:
        """Backup posture before the drill (read-only evidence; never fails the drill)."""
        posture = self.drill.doc.posture
        if posture is None or posture.backups is None:
            return
        from drtool.aws.errors import translate
        from drtool.backups import check_backups

        spec = posture.backups
        try:
            report = check_backups(self.session, regions=spec.regions or self.plan.regions,
                                   tags={k: [v] for k, v in spec.tags.items()}, rpo_s=spec.rpo,
                                   copy_regions=spec.copy_regions, now=self.clock.now())
        except Exception as exc:  # noqa: BLE001 - evidence we could not collect is said, not fatal
            try:
                message = translate(exc, "backups check", "posture").message
            except Exception:  # noqa: BLE001
                message = f"{type(exc).__name__}: {exc}"
            self.journal.write("posture", posture={"backups": {"error": message}})
            self.opts.report(f"  posture  backups check failed: {message}")
            return
        result = report.to_json()
        result["compliant"] = report.compliant
        result["violations"] = len(report.violations)
        self.journal.write("posture", posture={"backups": result})
        self.opts.report(f"  posture  backups: {len(report.verdicts)} resource(s), "
                         f"{len(report.violations)} violating RPO {spec.rpo:g}s")

    def execute(self) -> tuple[str, str | None]:
        """Run the phases; return (status, reason). Never raises for drill failures."""
        from drtool.rpo import build_meters

        status, reason = "passed", None
        try:
            self.meters = build_meters(self.drill.doc.rpo, self.context(None, "rpo"))
            for meter in self.meters:
                meter.start()
            self._rpo_steady_state()
            for step in self.drill.steps["inject"]:
                self.run_step(step)
            self.fault_at = self.clock.now()
            self.journal.write("fault", t=self.fault_at)
            self.opts.report(f"  fault injected; RTO clock started ({len(self.drill.steps['inject'])} inject steps)")
            for meter in self.meters:
                meter.mark_fault(self.fault_at)
            for step in self.drill.steps["recover"]:
                self.run_step(step)
            self.verify()
        except _RecoveryFailed as exc:
            status, reason = "failed", exc.reason
        except _Abort as exc:
            status, reason = "aborted", exc.reason
        except (Interrupted, KeyboardInterrupt) as exc:
            status, reason = "aborted", f"interrupted ({exc or 'SIGINT'})"
        finally:
            self._finish_meters()
        return status, reason

    def _rpo_steady_state(self) -> None:
        """Before the fault, every canary must be seen replicating (Chaos Toolkit's steady
        state): otherwise the measured RPO would say nothing about the service."""
        canary = self.drill.doc.rpo.canary if self.drill.doc.rpo else None
        for meter in self.meters:
            if not hasattr(meter, "wait_ready") or canary is None:
                continue
            self.journal.write("step.started", phase="rpo", step="canaries replicating", kind="check", index=0,
                               ref="rpo.canary")
            ok, detail = meter.wait_ready(min(canary.warmup, self.remaining_time() or canary.warmup))
            self.journal.write("step.finished", phase="rpo", step="canaries replicating", kind="check", index=0,
                               status="ok" if ok else "failed", detail=detail)
            self.opts.report(f"  {'rpo':<8} {'canaries replicating':<34} {'ok' if ok else 'FAILED':<7} {detail}")
            if not ok:
                raise _Abort(f"steady state not met before the fault: {detail}")

    def _finish_meters(self) -> None:
        measurements = []
        for meter in self.meters:
            try:
                if self.fault_at is None:
                    meter.mark_fault(self.clock.now())
                else:
                    measurements.append(_jsonable(meter.measure().__dict__))
            except Exception as exc:  # noqa: BLE001 - a broken meter must not stop the rollback
                measurements.append({"method": getattr(meter, "method", "unknown"), "measured_s": None,
                                     "detail": f"measurement failed: {type(exc).__name__}: {exc}", "evidence": {}})
        if measurements:
            self.journal.write("rpo.measured", measurements=measurements)
        for meter in self.meters:
            with contextlib.suppress(Exception):
                meter.cleanup()

    def rollback(self) -> None:
        """Undo every journaled change in reverse, then run the scenario's rollback steps.
        What could not be undone stays pending in the journal (the scorecard lists it)."""
        self.opts.report("  rollback")
        undo_all(read_journal(self.journal.path), lambda region: self.context(region), self.journal, self.opts.report)
        for step in self.drill.steps.get("rollback", []):
            try:
                self.run_step(step, undoable=False)
            except Exception as exc:  # noqa: BLE001 - journaled as a failed step; the others still run
                self.opts.report(f"  rollback step {step.label} failed: {getattr(exc, 'reason', exc)}")

    def finish(self, status: str, reason: str | None) -> None:
        """Record how execution ended. The verdict (objectives met or missed, rollback
        incomplete) is judged from the journal by `build_scorecard`, not here."""
        self.journal.write("run.finished", status=status, reason=reason)


def _operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return "unknown"


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))


def run_drill(drill: Drill, session: Any, opts: RunOptions) -> RunResult:
    """Run `drill` against `session`; always leaves a journal and a scorecard once started.

    Raises GuardrailRefusal (exit 4) before anything changes.
    """
    if not opts.yes and not opts.interactive:
        raise GuardrailRefusal("confirmation", "stdin is not a terminal and --yes was not given",
                               "pass --yes to run non-interactively; nothing was changed")
    plan = prepare(drill, session, opts.clock, seed=opts.seed)
    enforce(plan)
    if not opts.yes and opts.confirm is not None and not opts.confirm(describe_plan(plan)):
        raise GuardrailRefusal("confirmation", "the operator declined", "nothing was changed")

    run = DrillRun(drill, session, plan, opts)
    opts.report(f"drill {drill.name} (scenario {drill.scenario.name}) run {run.run_id} [{opts.mode}]")
    try:
        with _signals_raise():
            try:
                run.start()
                status, reason = run.execute()
            except (Interrupted, KeyboardInterrupt) as exc:
                status, reason = "aborted", f"interrupted ({exc or 'SIGINT'})"
        with _signals_shielded(opts.report):
            run.rollback()
            run.finish(status, reason)
    finally:
        run.journal.close()
    scorecard = write_scorecard(run.run_dir, drill.name, opts.previous_sha256)
    return RunResult(scorecard=scorecard, run_dir=run.run_dir, exit_code=scorecard["run"]["exit_code"])


def write_scorecard(run_dir: Path, drill_name: str,
                    previous_sha256: Callable[[str], str | None] | None = None) -> dict[str, Any]:
    """Fold the journal in `run_dir`, seal it into the hash chain and write it atomically."""
    from drtool.integrity import seal

    events = read_journal(run_dir / JOURNAL_NAME)
    card = build_scorecard(events)
    previous = previous_sha256(drill_name) if previous_sha256 else None
    sealed = seal(card, previous)
    write_json_atomic(run_dir / SCORECARD_NAME, sealed)
    return sealed


def describe_plan(plan: Plan) -> str:
    """The plan in words: steps, targets, guardrails and IAM actions."""
    drill = plan.drill
    lines = [f"drill {drill.name}: scenario {drill.scenario.name}, service {drill.doc.service.name}",
             f"  account {plan.account or '?'}, regions {', '.join(plan.regions) or plan.default_region}, "
             f"seed {plan.seed}",
             f"  objectives: RTO {drill.doc.objectives.rto:g}s"
             + (f", RPO {drill.doc.objectives.rpo:g}s" if drill.doc.objectives.rpo is not None else "")]
    for step in drill.all_steps():
        region = step.region(plan.default_region) if step.form != "manual" else "-"
        lines.append(f"  {step.phase:<8} {step.form:<6} {step.label}  [{region}]")
        for resource in plan.targets.get(step_key(step), []):
            lines.append(f"             -> {resource.type} {resource.id} ({resource.selected_by})")
        for resource in plan.touched.get(step_key(step), []):
            lines.append(f"             -> {resource.type} {resource.id}")
    rails = drill.doc.guardrails
    lines.append(f"  guardrails: accounts {rails.accounts}, max_targets {rails.max_targets}, "
                 f"require_tags {rails.require_tags or '{}'}, time_limit {rails.time_limit}, "
                 f"stop conditions {[c.alarm for c in rails.stop_conditions]}")
    for refusal in plan.refusals:
        lines.append(f"  REFUSED: {refusal}")
    lines.append("  IAM actions: " + ", ".join(plan.iam_actions))
    return "\n".join(lines)


def rollback_run(journal_path: Path, session: Any, clock: Clock | None = None,
                 report: Callable[[str], None] = lambda _l: None,
                 previous_sha256: Callable[[str], str | None] | None = None) -> tuple[list[str], dict[str, Any]]:
    """Undo whatever a crashed run left changed; return (remaining, rewritten scorecard)."""
    clock = clock or SystemClock()
    events = read_journal(journal_path)
    started = next((e for e in events if e["event"] == "run.started"), None)
    if started is None:
        raise DrillAborted(f"{journal_path}: no run.started event; not a drtool journal")
    journal = Journal(journal_path, clock)
    try:
        default = started.get("aws", {}).get("default_region")

        def make_context(region: str | None) -> StepContext:
            return StepContext(aws=session, clock=clock, region=region or default or session.default_region,
                               run_id=started["run_id"], journal=journal, drill=started["drill"])

        remaining = undo_all(events, make_context, journal, report)
        if not any(e["event"] == "run.finished" for e in events):
            journal.write("run.finished", status="aborted",
                          reason="the run stopped without finishing (crash or kill); rolled back by drtool rollback")
    finally:
        journal.close()
    card = write_scorecard(journal_path.parent, started["drill"], previous_sha256)
    return remaining, card


__all__ = ["RunOptions", "RunResult", "run_drill", "rollback_run", "describe_plan", "write_scorecard"]
