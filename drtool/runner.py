"""Run a drill: guardrails, inject, recover, verify, measure, undo, score.

Phases follow Chaos Toolkit's vocabulary: the steady state must hold before the fault,
the fault is injected (`inject`), the runbook drives recovery (`recover`), and the
steady-state and `verify` checks are polled until they pass and keep passing (SPEC 7.1).
The RTO clock starts when the last inject step completed (`fault_at`).

One guarantee, one place: `DrillRun.run()` is the only way the phases run, and whatever
ends them (a failed check, an AWS error in any call, an interrupt, a bug) it undoes every
journaled change, records the ending and writes the scorecard (SPEC 7.3).
"""

from __future__ import annotations

import getpass
import secrets
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drtool import __version__
from drtool.context import StepContext
from drtool.documents import Drill, Step
from drtool.errors import GuardrailRefusal
from drtool.guardrails import Plan, enforce, prepare, step_key
from drtool.journal import JOURNAL_NAME, Journal, read_journal
from drtool.observe import FaultNotObserved, RecoveryObserver
from drtool.plan_text import describe_plan
from drtool.rollback import rollback_run, undo_all
from drtool.scorecard import write_scorecard
from drtool.signals import Interrupted, held_signals, raise_on_signals
from drtool.timing import Clock, PollTimeout, SystemClock, wait_until

DEFAULT_WAIT_TIMEOUT = 600.0
# The sandbox runs AWS's clock this much faster (issue 11's `time_scale`): a drill's own
# AWS-sized windows (`impact.within`, `recovery.stable_for`) shrink by the same factor so
# a sandbox rehearsal keeps the live drill's shape in seconds instead of minutes.
SANDBOX_TIME_SCALE = 1 / 30


class DrillStop(Exception):
    """Ends the phases early with a status: `failed` (recovery not achieved, exit 1) or
    `aborted` (stop condition, time limit, a step that could not run: exit 3)."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
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
    previous_sha256: Callable[[str], Any] | None = None   # store.previous_integrity (or _digest)
    time_scale: float | None = None      # None: 1 live, SANDBOX_TIME_SCALE in the sandbox
    store: Any = None                    # results store for locks and the journal mirror (default: local)

    @property
    def scale(self) -> float:
        if self.time_scale is not None:
            return self.time_scale
        return SANDBOX_TIME_SCALE if self.mode == "sandbox" else 1.0


@dataclass
class RunResult:
    scorecard: dict[str, Any]
    run_dir: Path
    exit_code: int


def new_run_id(clock: Clock) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(clock.now())) + "-" + secrets.token_hex(3)


def error_text(exc: BaseException) -> str:
    """One line for any exception: the AWS operation and error code where there is one."""
    from drtool.aws.errors import translate

    operation = getattr(exc, "operation_name", None) or "AWS call"
    try:
        return translate(exc, operation).message
    except Exception:  # noqa: BLE001 - not an AWS error: say what it is
        return f"internal error: {type(exc).__name__}: {exc}"


class DrillRun:
    """One execution of a drill; the journal records everything it does."""

    def __init__(self, drill: Drill, session: Any, plan: Plan, opts: RunOptions, *, run_id: str | None = None,
                 started_at: float | None = None, expires_at: float | None = None,
                 mirror: Callable[[str], None] | None = None) -> None:
        from drtool.redact import secret_values

        self.drill = drill
        self.session = session
        self.plan = plan
        self.opts = opts
        self.clock = opts.clock
        self.run_id = run_id or opts.run_id or new_run_id(self.clock)
        self.run_dir = Path(opts.results) / drill.name / self.run_id
        self.expires_at = expires_at
        self.journal = Journal(self.run_dir / JOURNAL_NAME, self.clock, mirror=mirror, secrets=secret_values(drill))
        self.started_mono = self.clock.monotonic()
        self.started_at = self.clock.now() if started_at is None else started_at
        self.meters: list[Any] = []
        self.fault_at: float | None = None
        self.observer: RecoveryObserver | None = None
        self.where = "start"                                   # the step or phase running now
        self._open: dict[tuple[str, str, int], Step] = {}      # started, not yet finished
        rails = drill.doc.guardrails
        self.stop_conditions = [(c.alarm, c.region or plan.default_region) for c in rails.stop_conditions]

    # -- contexts ---------------------------------------------------------------------
    def context(self, region: str | None, step: str = "", read_only: bool = False,
                undoable: bool = True) -> StepContext:
        return StepContext(aws=self.session, clock=self.clock, region=region or self.plan.default_region,
                           run_id=self.run_id, step=step, journal=self.journal, read_only=read_only,
                           drill=self.drill.name, undoable=undoable, expires_at=self.expires_at)

    # -- the one guaranteed path ------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Run the phases; whatever ends them, measure, undo, record the ending and write
        the scorecard. Returns the sealed scorecard."""
        status, reason = "aborted", "the run ended before its phases completed"
        escaping: BaseException | None = None
        try:
            with raise_on_signals():
                self.start()
                self.execute()
            status, reason = "passed", None
        except BaseException as exc:  # noqa: BLE001 - the one place every ending passes through
            status, reason = self._ending(exc)
            if not isinstance(exc, Exception | Interrupted | KeyboardInterrupt):
                escaping = exc                                   # SystemExit & co: after the rollback
        with held_signals(self.opts.report) as held:
            try:
                self._finish_meters()
                self.rollback()
            finally:
                if held:
                    status = "aborted"
                    reason = (f"{reason}; " if reason else "") + \
                        f"interrupted during rollback ({', '.join(held.names)}); the rollback finished first"
                self.finish(status, reason)
                self.journal.close()
                card = write_scorecard(self.run_dir, self.drill.name, self.opts.previous_sha256)
        if escaping is not None:
            raise escaping
        return card

    def _ending(self, exc: BaseException) -> tuple[str, str]:
        """(status, reason) for whatever ended the phases; open steps are closed with it."""
        if isinstance(exc, DrillStop):
            status, reason = exc.status, exc.reason
        elif isinstance(exc, Interrupted | KeyboardInterrupt):
            status, reason = "aborted", f"interrupted ({exc or 'SIGINT'}) during {self.where}"
        else:
            status, reason = "aborted", f"{self.where}: {error_text(exc)}"
            self.journal.write("run.error", step=self.where, error=reason, type=type(exc).__name__,
                               traceback=traceback.format_exception(exc)[-6:])
        for step in list(self._open.values()):
            self._finished(step, "failed" if status == "failed" else "aborted", reason)
        self.opts.report(f"  ended: {reason}")
        return status, reason

    # -- checks every poll ------------------------------------------------------------
    def tick(self) -> None:
        limit = self.drill.doc.guardrails.time_limit
        if limit is not None and self.clock.monotonic() - self.started_mono > limit:
            raise DrillStop("aborted", f"time limit {limit:g}s exceeded")
        if self.stop_conditions:
            from drtool.aws.cloudwatch import alarms_in_alarm

            firing = alarms_in_alarm(self.session, self.stop_conditions)
            if firing:
                raise DrillStop("aborted", f"stop condition: alarm {', '.join(firing)} in ALARM")

    def remaining_time(self) -> float | None:
        limit = self.drill.doc.guardrails.time_limit
        if limit is None:
            return None
        return max(0.0, limit - (self.clock.monotonic() - self.started_mono))

    def _timed_out(self, reason: str) -> DrillStop:
        """A poll that ran out of time: an abort if the drill's time limit ran out."""
        left = self.remaining_time()
        if left is not None and left <= 0:
            return DrillStop("aborted", f"time limit {self.drill.doc.guardrails.time_limit:g}s exceeded ({reason})")
        return DrillStop("failed", reason)

    def _bounded(self, timeout: float) -> float:
        """A poll's timeout, cut short by what is left of the drill's time limit."""
        left = self.remaining_time()
        return timeout if left is None else min(timeout, left)

    # -- steps -----------------------------------------------------------------------
    def _started(self, step: Step) -> None:
        self._open[(step.phase, step.label, step.index)] = step
        self.where = f"{step.phase} step {step.label}"
        self.journal.write("step.started", phase=step.phase, step=step.label, kind=step.form,
                           index=step.index, ref=step.ref)

    def _finished(self, step: Step, status: str, detail: str, **data: Any) -> None:
        self._open.pop((step.phase, step.label, step.index), None)
        self.journal.write("step.finished", phase=step.phase, step=step.label, kind=step.form,
                           index=step.index, status=status, detail=detail, **data)
        mark = {"ok": "ok", "failed": "FAILED", "timeout": "TIMEOUT", "aborted": "ABORTED"}.get(status, status)
        self.opts.report(f"  {step.phase:<8} {step.label:<34} {mark:<7} {detail}")

    def run_step(self, step: Step, undoable: bool = True) -> None:
        """Run one step. Any exception propagates to `run()`, which closes the step with it."""
        self.tick()
        self._started(step)
        if step.form == "manual":
            self._manual(step)
            return
        ctx = self.context(step.region(self.plan.default_region), step.label,
                           read_only=step.form != "action", undoable=undoable)
        if step.form == "wait":
            self._wait(step, ctx)
            return
        outcome = step.entry.func(ctx, step.params, self.plan.targets.get(step_key(step), []))
        recovery_point_at = outcome.data.get("recovery_point_at")
        if recovery_point_at is not None:
            age = round(self.started_at - float(recovery_point_at), 3)
            self.journal.write("rpo.measured", measurements=[{
                "method": "recovery-point", "measured_s": max(0.0, age),
                "detail": f"{step.label} restored a recovery point {age:.1f}s older than the drill start",
                "evidence": {k: v for k, v in outcome.data.items() if isinstance(v, str | int | float)}}])
        self._finished(step, "ok", outcome.detail, data=_jsonable(outcome.data))

    def _wait(self, step: Step, ctx: StepContext) -> None:
        timeout = self._bounded(step.timeout if step.timeout is not None else DEFAULT_WAIT_TIMEOUT)

        def probe() -> tuple[bool, Any]:
            result = step.entry.func(ctx, step.params)
            return result.ok, result

        try:
            _at, result = wait_until(probe, clock=self.clock, interval=self.drill.doc.poll,
                                     timeout=timeout, on_tick=self._tick_and_watch)
        except PollTimeout as exc:
            detail = getattr(exc.last, "detail", "never true")
            self._finished(step, "timeout", f"not true after {timeout:g}s: {detail}")
            raise self._timed_out(f"{step.label} did not become true within {timeout:g}s") from None
        self._finished(step, "ok", result.detail)

    def _manual(self, step: Step) -> None:
        text = step.ref
        if self.opts.interactive and self.opts.ask_manual is not None:
            who = self.opts.ask_manual(text)
            if not who:
                self._finished(step, "failed", "the operator declined")
                raise DrillStop("aborted", f"manual step declined: {text}")
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
        raise DrillStop("aborted", f"manual step {step.label!r} needs an operator "
                                   "(run interactively or pass --assume-manual)")

    # -- observing the service --------------------------------------------------------
    def _poll_checks(self, steps: list[Step], last: dict[str, Any]) -> bool:
        ok = True
        for step in steps:
            self.where = f"{step.phase} check {step.label}"
            ctx = self.context(step.region(self.plan.default_region), step.label, read_only=True)
            result = step.entry.func(ctx, step.params)
            last[step_key(step)] = result
            ok = ok and result.ok
        return ok

    def _note_impact(self, before: float | None, steady: list[Step], last: dict[str, Any]) -> None:
        if self.observer is not None and before is None and self.observer.impact_at is not None:
            failing = [f"{s.label}: {last[step_key(s)].detail}" for s in steady if not last[step_key(s)].ok]
            self.journal.write("impact", t=self.observer.impact_at, detail="; ".join(failing))
            self.opts.report(f"  impact   {'; '.join(failing)}")

    def _tick_and_watch(self) -> None:
        """Every poll while the runbook runs: stop conditions, then one look at the steady
        state so that impact is seen when it happens, not only once verify starts."""
        self.tick()
        steady = self.drill.steps.get("steady_state", [])
        if self.observer is None or not steady:
            return
        last: dict[str, Any] = {}
        before = self.observer.impact_at
        ok = self._poll_checks(steady, last)
        try:
            self.observer.observe(self.clock.now(), ok, verify_ok=False)
        except FaultNotObserved as exc:
            raise DrillStop("failed", str(exc)) from None
        finally:
            self._note_impact(before, steady, last)

    def verify(self) -> None:
        """Poll steady-state and verify checks together until recovery is stable."""
        assert self.observer is not None
        steady = self.drill.steps.get("steady_state", [])
        checks = self.drill.steps.get("verify", [])
        if not checks and not steady:
            self.opts.report("  verify   (no checks: recovered when the runbook finished)")
            self.journal.write("recovered", t=self.clock.now())
            return
        for step in checks:
            self._started(step)
        last: dict[str, Any] = {}

        def recovered() -> tuple[bool, Any]:
            before = self.observer.impact_at if self.observer else None
            steady_ok = self._poll_checks(steady, last)
            verify_ok = self._poll_checks(checks, last)
            assert self.observer is not None
            try:
                at = self.observer.observe(self.clock.now(), steady_ok, verify_ok)
            finally:
                self._note_impact(before, steady, last)
            return at is not None, at

        explicit = [s.timeout for s in checks if s.timeout is not None]
        base = max(explicit) if explicit else max(2 * self.drill.doc.objectives.rto, 60.0)
        timeout = self._bounded(base + self.observer.stable_for + (self.observer.impact_within or 0.0))
        try:
            _t, recovered_at = wait_until(recovered, clock=self.clock, interval=self.drill.doc.poll,
                                          timeout=timeout, on_tick=self.tick)
        except FaultNotObserved as exc:
            raise DrillStop("failed", str(exc)) from None
        except PollTimeout:
            for step in checks:
                result = last.get(step_key(step))
                self._finished(step, "ok" if result and result.ok else "timeout",
                               result.detail if result else "never polled")
            raise self._timed_out(f"the checks did not all pass (stably) within {timeout:g}s") from None
        self.journal.write("recovered", t=recovered_at)
        for step in checks:
            self._finished(step, "ok", last[step_key(step)].detail)

    # -- the phases -------------------------------------------------------------------
    def start(self) -> None:
        doc = self.drill.doc
        self.journal.write(
            "run.started", t=self.started_at, run_id=self.run_id, drill=doc.name, scenario=self.drill.scenario.name,
            mode=self.opts.mode, service=doc.service.model_dump(), tool_version=__version__,
            objectives={"rto_s": doc.objectives.rto, "rpo_s": doc.objectives.rpo},
            account_ids=[self.plan.account] if self.plan.account else list(doc.run.account_ids),
            regions=self.plan.regions, seed=self.plan.seed, schedule_every_s=doc.schedule.every if doc.schedule else None,
            drill_path=str(self.drill.path.resolve()), parameters=_jsonable(self.drill.parameters),
            sources={"drill": {"path": str(self.drill.path.resolve()), "sha256": self.drill.sha256},
                     "scenario": {"path": str(Path(self.drill.scenario_path).resolve()),
                                  "sha256": self.drill.scenario_sha256}},
            poll_s=doc.poll, operator=_operator(), time_scale=self.opts.scale, expires_at=self.expires_at,
            time_limit_s=doc.guardrails.time_limit,
            steady_state_checks=len(self.drill.steps.get("steady_state", [])),
            aws={"profile": doc.aws.profile, "role_arn": doc.aws.role_arn,
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
        from drtool.backups import check_backups

        spec = posture.backups
        self.where = "posture check"
        try:
            report = check_backups(self.session, regions=spec.regions or self.plan.regions,
                                   tags={k: [v] for k, v in spec.tags.items()}, rpo_s=spec.rpo,
                                   copy_regions=spec.copy_regions, now=self.clock.now())
        except Exception as exc:  # noqa: BLE001 - evidence we could not collect is said, not fatal
            message = error_text(exc)
            self.journal.write("posture", posture={"backups": {"error": message}})
            self.opts.report(f"  posture  backups check failed: {message}")
            return
        result = report.to_json()
        result["compliant"] = report.compliant
        result["violations"] = len(report.violations)
        self.journal.write("posture", posture={"backups": result})
        self.opts.report(f"  posture  backups: {len(report.verdicts)} resource(s), "
                         f"{len(report.violations)} violating RPO {spec.rpo:g}s")

    def execute(self) -> None:
        """Inject, recover, verify. Raises whatever ended them; `run()` handles every case."""
        from drtool.rpo import build_meters

        self.where = "rpo meters"
        self.meters = build_meters(self.drill.doc.rpo, self.context(None, "rpo"))
        for meter in self.meters:
            meter.start()
        self._rpo_steady_state()
        for step in self.drill.steps["inject"]:
            self.run_step(step)
        self.fault_at = self.clock.now()
        self.journal.write("fault", t=self.fault_at)
        self.opts.report(f"  fault injected; RTO clock started ({len(self.drill.steps['inject'])} inject steps)")
        self.observer = _observer(self.drill, self.fault_at, self.opts.scale)
        for meter in self.meters:
            meter.mark_fault(self.fault_at)
        for step in self.drill.steps["recover"]:
            self.run_step(step)
        self.verify()

    def _rpo_steady_state(self) -> None:
        """Before the fault, every canary must be seen replicating: otherwise the measured
        RPO would say nothing about the service."""
        canary = self.drill.doc.rpo.canary if self.drill.doc.rpo else None
        for meter in self.meters:
            if not hasattr(meter, "wait_ready") or canary is None:
                continue
            self.where = "rpo canaries replicating"
            self.journal.write("step.started", phase="rpo", step="canaries replicating", kind="check", index=0,
                               ref="rpo.canary")
            ok, detail = meter.wait_ready(min(canary.warmup, self.remaining_time() or canary.warmup))
            self.journal.write("step.finished", phase="rpo", step="canaries replicating", kind="check", index=0,
                               status="ok" if ok else "failed", detail=detail)
            self.opts.report(f"  {'rpo':<8} {'canaries replicating':<34} {'ok' if ok else 'FAILED':<7} {detail}")
            if not ok:
                raise DrillStop("aborted", f"steady state not met before the fault: {detail}")

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
                                     "detail": f"measurement failed: {error_text(exc)}", "evidence": {}})
        if measurements:
            self.journal.write("rpo.measured", measurements=measurements)
        for meter in self.meters:
            try:
                meter.cleanup()
            except Exception as exc:  # noqa: BLE001 - the canary undo stays pending in the journal
                self.opts.report(f"  canary cleanup failed (rollback retries it): {error_text(exc)}")

    def rollback(self) -> None:
        """Undo every journaled change in reverse, then run the scenario's rollback steps.
        What could not be undone stays pending in the journal (the scorecard lists it)."""
        self.opts.report("  rollback")
        self.where = "rollback"
        undo_all(read_journal(self.journal.path), lambda region: self.context(region), self.journal, self.opts.report)
        if self.expires_at is not None:
            from drtool.expiry import untag_undone

            events = read_journal(self.journal.path)
            untag_undone(events, self.session, events[0], self.clock)
        for step in self.drill.steps.get("rollback", []):
            try:
                self.run_step(step, undoable=False)
            except Exception as exc:  # noqa: BLE001 - journaled as a failed step; the others still run
                message = exc.reason if isinstance(exc, DrillStop) else error_text(exc)
                if (step.phase, step.label, step.index) in self._open:
                    self._finished(step, "failed", message)
                self.opts.report(f"  rollback step {step.label} failed: {message}")

    def finish(self, status: str, reason: str | None) -> None:
        """Record how execution ended. The verdict (objectives met or missed, rollback
        incomplete) is judged from the journal by `build_scorecard`, not here."""
        self.journal.write("run.finished", status=status, reason=reason)


def _observer(drill: Drill, fault_at: float, scale: float) -> RecoveryObserver:
    """The drill's `impact` (else the scenario's) and `recovery`, on the run's time scale."""
    doc = drill.doc
    impact = doc.impact or drill.scenario.impact
    within = impact.within * scale if impact and impact.within is not None else None
    return RecoveryObserver(
        fault_at=fault_at, has_steady_state=bool(drill.steps.get("steady_state")),
        expect_impact=bool(impact and impact.expect), impact_within=within,
        stable_for=doc.recovery.stable_for * scale)


def _operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return "unknown"


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))


def check_steady_state(drill: Drill, session: Any, plan: Plan, clock: Clock) -> None:
    """SPEC 7.1: every steady-state check holds once before the first change, else the run
    is refused (exit 4, guardrail `steady-state`) with nothing changed."""
    failing = []
    for step in drill.steps.get("steady_state", []):
        ctx = StepContext(aws=session, clock=clock, region=step.region(plan.default_region) or plan.default_region,
                          run_id="steady-state", step=step.label, read_only=True, drill=drill.name)
        try:
            result = step.entry.func(ctx, step.params)
        except Exception as exc:  # noqa: BLE001 - a check that cannot run does not hold
            failing.append(f"{step.label}: {error_text(exc)}")
            continue
        if not result.ok:
            failing.append(f"{step.label}: {result.detail}")
    if failing:
        raise GuardrailRefusal("steady-state", "the steady state does not hold before the fault: "
                               + "; ".join(failing), "fix the service (or the check) first; nothing was changed")


def run_drill(drill: Drill, session: Any, opts: RunOptions) -> RunResult:
    """Run `drill` against `session`; always leaves a journal and a scorecard once started.

    Raises GuardrailRefusal (exit 4) before anything changes.
    """
    if not opts.yes and not opts.interactive:
        raise GuardrailRefusal("confirmation", "stdin is not a terminal and --yes was not given",
                               "pass --yes to run non-interactively; nothing was changed")
    plan = prepare(drill, session, opts.clock, seed=opts.seed, mode=opts.mode, interactive=opts.interactive,
                   assume_manual=opts.assume_manual)
    enforce(plan)
    check_steady_state(drill, session, plan, opts.clock)
    if not opts.yes and opts.confirm is not None and not opts.confirm(describe_plan(plan)):
        raise GuardrailRefusal("confirmation", "the operator declined", "nothing was changed")

    from drtool.expiry import expires_at
    from drtool.locks import acquire, target_keys
    from drtool.outputs.store import LocalStore

    store = opts.store if opts.store is not None else LocalStore(Path(opts.results))
    run_id = opts.run_id or new_run_id(opts.clock)
    started_at = opts.clock.now()
    expiry = expires_at(started_at, drill.doc.guardrails.time_limit)
    lock = acquire(store, run_id, target_keys(plan), expiry, drill=drill.name, now=opts.clock.now)  # exit 4 if held
    for note in lock.notes:
        opts.report(f"  lock: {note}")
    if hasattr(session, "set_run_id"):
        session.set_run_id(run_id)                   # role session `drtool-<run id>` in CloudTrail
    mirror = store.journal_mirror(drill.name, run_id)
    try:
        run = DrillRun(drill, session, plan, opts, run_id=run_id, started_at=started_at, expires_at=expiry,
                       mirror=mirror)
        opts.report(f"drill {drill.name} (scenario {drill.scenario.name}) run {run.run_id} [{opts.mode}]")
        scorecard = run.run()
    finally:
        for note in lock.release():
            opts.report(f"  lock: {note}")
        mirror.flush()
        for problem in mirror.problems:
            opts.report(f"  warning: {problem}")
    return RunResult(scorecard=scorecard, run_dir=run.run_dir, exit_code=scorecard["run"]["exit_code"])


__all__ = ["DrillStop", "RunOptions", "RunResult", "run_drill", "rollback_run", "describe_plan", "write_scorecard"]
