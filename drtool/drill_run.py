"""One execution of a drill (`DrillRun`): its phases and the one guaranteed ending.

`DrillRun.run()` is the only way the phases run. Whatever ends them (a failed check, an
AWS error in any call, an interrupt, a bug), it measures, undoes every journaled change
(in the scenario's failback order first, `drtool.failback`, which stops at its first
failure and leaves the rest for `drtool rollback`), records the ending and
writes the scorecard (SPEC 7.3). Watching the service (steady
state, impact, verify) lives in `drtool.watch`; RPO meters and posture in `drtool.measure`.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drtool import __version__, measure, watch
from drtool.context import StepContext
from drtool.documents import Drill, Step
from drtool.failback import FailbackOutcome, record_plan, run_failback, stopped_reason
from drtool.guardrails import Plan, step_key
from drtool.journal import JOURNAL_NAME, Journal, read_journal
from drtool.observe import RecoveryObserver
from drtool.rollback import undo_all
from drtool.run_types import (
    DEFAULT_WAIT_TIMEOUT,
    DrillStop,
    RunOptions,
    error_text,
    jsonable,
    new_run_id,
    operator,
)
from drtool.scorecard import write_scorecard
from drtool.signals import HeldSignals, Interrupted, held_signals, raise_on_signals
from drtool.timing import PollTimeout, wait_until
from drtool.workaround import WorkaroundTrack


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
        if opts.on_event is not None:
            self.journal.subscribe(opts.on_event)
        self.started_mono = self.clock.monotonic()
        self.started_at = self.clock.now() if started_at is None else started_at
        self.meters: list[Any] = []
        self.fault_at: float | None = None
        self.observer: RecoveryObserver | None = None
        self.where = "start"                                   # the step or phase running now
        self._open: dict[tuple[str, str, int], Step] = {}      # started, not yet finished
        self.workaround = WorkaroundTrack(self)
        self._runner_thread = threading.current_thread()
        rails = drill.doc.guardrails
        self.stop_conditions: list[tuple[str, str | None]] = []   # in the drill's own account
        self.account_stop_conditions: dict[str, list[tuple[str, str | None]]] = {}   # aws.accounts name -> ...
        for c in rails.stop_conditions:
            account = getattr(c, "account", None)
            where = self.account_stop_conditions.setdefault(account, []) if account else self.stop_conditions
            where.append((c.alarm, c.region or plan.default_region))

    # -- contexts ---------------------------------------------------------------------
    def context(self, region: str | None, step: str = "", read_only: bool = False,
                undoable: bool = True, account: str | None = None) -> StepContext:
        return StepContext(aws=self.session, clock=self.clock, region=region or self.plan.default_region,
                           run_id=self.run_id, step=step, journal=self.journal, read_only=read_only,
                           drill=self.drill.name, undoable=undoable, expires_at=self.expires_at, account=account)

    # -- the one guaranteed path ------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Run the phases; whatever ends them, measure, undo, record the ending and write
        the scorecard. Returns the sealed scorecard."""
        status: str = "aborted"
        reason: str | None = "the run ended before its phases completed"
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
            failback = FailbackOutcome()
            try:
                self.workaround.finish()
                measure.finish_meters(self)
                failback = self.rollback(held)
            finally:
                if failback.stopped:        # the failback runbook did not work: never a pass
                    status = failback.status if status == "passed" else status
                    reason = (f"{reason}; " if reason else "") + \
                        stopped_reason(failback, self.run_id, self.expires_at)
                if held:
                    status = "aborted"
                    reason = (f"{reason}; " if reason else "") + \
                        f"interrupted during rollback ({', '.join(held.names)}); " + \
                        ("the ordered failback stopped" if failback.stopped else "the rollback finished first")
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
        if threading.current_thread() is self._runner_thread:
            self.workaround.raise_if_failed()
        if self.stop_conditions or self.account_stop_conditions:
            from drtool.aws.cloudwatch import alarms_in_alarm

            firing = alarms_in_alarm(self.session, self.stop_conditions) if self.stop_conditions else []
            for account, conditions in self.account_stop_conditions.items():
                firing += alarms_in_alarm(self.session.for_account(account), conditions)
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

    def start_step(self, step: Step) -> None:
        self._started(step)

    def open_steps(self) -> set[tuple[str, str, int]]:
        return set(self._open)

    def finish_step(self, step: Step, status: str, detail: str) -> None:
        self._finished(step, status, detail)

    def run_step(self, step: Step, undoable: bool = True,
                 on_tick: Callable[[], None] | None = None) -> None:
        """Run one step. Any exception propagates to `run()`, which closes the step with it.
        `on_tick` replaces the poll hook of a wait (the workaround track has its own)."""
        (on_tick or self.tick)()
        self._started(step)
        if step.form == "manual":
            self._manual(step)
            return
        ctx = self.context(step.region(self.plan.default_region), step.label,
                           read_only=step.form != "action", undoable=undoable, account=step.account)
        if step.form == "wait":
            self._wait(step, ctx, on_tick or (lambda: watch.tick_and_watch(self)))
            return
        outcome = step.entry.func(ctx, step.params, self.plan.targets.get(step_key(step), []))
        recovery_point_at = outcome.data.get("recovery_point_at")
        if recovery_point_at is not None:
            age = round(self.started_at - float(recovery_point_at), 3)
            self.journal.write("rpo.measured", measurements=[{
                "method": "recovery-point", "measured_s": max(0.0, age),
                "detail": f"{step.label} restored a recovery point {age:.1f}s older than the drill start",
                "evidence": {k: v for k, v in outcome.data.items() if isinstance(v, str | int | float)}}])
        self._finished(step, "ok", outcome.detail, data=jsonable(outcome.data))

    def _wait(self, step: Step, ctx: StepContext, on_tick: Callable[[], None]) -> None:
        timeout = self._bounded(step.timeout if step.timeout is not None else DEFAULT_WAIT_TIMEOUT)

        def probe() -> tuple[bool, Any]:
            result = step.entry.func(ctx, step.params)
            if self.opts.on_poll is not None:
                self.opts.on_poll(step.label, result)
            return result.ok, result

        try:
            _at, result = wait_until(probe, clock=self.clock, interval=self.drill.doc.poll,
                                     timeout=timeout, on_tick=on_tick)
        except PollTimeout as exc:
            self._finished(step, "timeout", exc.describe(timeout))
            raise self._timed_out(f"{step.label} did not become true within {timeout:g}s") from None
        self._finished(step, "ok", getattr(result, "detail", ""))

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

    # -- the phases -------------------------------------------------------------------
    def start(self) -> None:
        from drtool.endpoint import configured_endpoints
        from drtool.rpo import source_names
        from drtool.services.attribution import run_services

        doc = self.drill.doc
        services = run_services(self.drill)
        self.journal.write(
            "run.started", t=self.started_at, run_id=self.run_id, drill=doc.name, scenario=self.drill.scenario.name,
            disruption=self.drill.scenario.disruption or _infer_disruption(self.drill.scenario.name),
            mode=self.opts.mode, service=doc.service.model_dump(), tool_version=__version__,
            objectives={"rto_s": self.drill.objectives.rto, "rpo_s": self.drill.objectives.rpo},
            account_ids=list(dict.fromkeys([self.plan.account, *self.plan.accounts.values()])) if self.plan.account
            else list(doc.run.account_ids),   # own first, then each named account the drill acts in
            regions=self.plan.regions, seed=self.plan.seed, schedule_every_s=doc.schedule.every if doc.schedule else None,
            drill_path=str(self.drill.path.resolve()), parameters=jsonable(self.drill.parameters),
            sources={"drill": {"path": str(self.drill.path.resolve()), "sha256": self.drill.sha256},
                     "scenario": {"path": str(Path(self.drill.scenario_path).resolve()),
                                  "sha256": self.drill.scenario_sha256}, **services.sources},
            poll_s=doc.poll, operator=operator(), time_scale=self.opts.scale, expires_at=self.expires_at,
            time_limit_s=doc.guardrails.time_limit,
            steady_state_checks=len(self.drill.steps.get("steady_state", [])),
            aws={"profile": doc.aws.profile, "role_arn": doc.aws.role_arn,
                 "default_region": self.plan.default_region},
            endpoint=", ".join(configured_endpoints(self.session)) or None, rpo_sources=source_names(doc.rpo),
            **services.started,
        )
        if services.problem:
            self.journal.write("note", step=None, message=services.problem)
            self.opts.report(f"  warning: {services.problem}")
        record_plan(self)
        for step in self.drill.all_steps():
            found = self.plan.targets.get(step_key(step))
            if found:
                self.journal.write("targets.resolved", step=step.label, targets=[r.to_json() for r in found])
        measure.posture(self)

    def execute(self) -> None:
        """Inject, recover, verify. Raises whatever ended them; `run()` handles every case."""
        from drtool.rpo import build_meters

        self.where = "rpo meters"
        dr_region = self.drill.parameters.get("dr_region")
        self.meters = build_meters(self.drill.doc.rpo, self.context(None, "rpo"),
                                   dr_region if isinstance(dr_region, str) and dr_region else None)
        for meter in self.meters:
            meter.start()
        measure.rpo_steady_state(self)
        for step in self.drill.steps["inject"]:
            self.run_step(step)
        self.fault_at = self.clock.now()
        self.journal.write("fault", t=self.fault_at)
        self.opts.report(f"  fault injected; RTO clock started ({len(self.drill.steps['inject'])} inject steps)")
        self.observer = watch.make_observer(self.drill, self.fault_at, self.opts.scale)
        for meter in self.meters:
            meter.mark_fault(self.fault_at)
        self.workaround.start()
        for step in self.drill.steps["recover"]:
            self.run_step(step)
        watch.verify(self)

    def rollback(self, held: HeldSignals | None = None) -> FailbackOutcome:
        """Run the scenario's failback in order (once the fault was injected), undo every
        journaled change left in reverse, then run the scenario's rollback steps. What could
        not be undone stays pending in the journal (the scorecard lists it). A failback that
        stops (`stopped`) holds back everything after it: no reverse undo, no rollback steps.
        Returns how the failback went (`stopped` None: it ran through, or there was none)."""
        self.opts.report("  rollback")
        self.where = "rollback"
        failback = FailbackOutcome()
        if self.drill.steps.get("failback") and self.fault_at is not None:
            failback = run_failback(self, held if held is not None else HeldSignals())
            self.where = "rollback"
        if not failback.stopped:
            undo_all(read_journal(self.journal.path), lambda region: self.context(region), self.journal,
                     self.opts.report, skip=failback.attempted)
        if self.expires_at is not None:
            from drtool.expiry import untag_undone

            events = read_journal(self.journal.path)
            untag_undone(events, self.session, events[0], self.clock)
        for step in self.drill.steps.get("rollback", []):
            if failback.stopped:            # extra undo steps: only once the changes are undone
                self.journal.write("note", step=step.label, message="rollback step not run: the ordered failback "
                                   "stopped; run it by hand once `drtool rollback` has finished")
                self.opts.report(f"  rollback step {step.label} NOT RUN: the ordered failback stopped")
                continue
            try:
                self.run_step(step, undoable=False)
            except Exception as exc:  # noqa: BLE001 - journaled as a failed step; the others still run
                message = exc.reason if isinstance(exc, DrillStop) else error_text(exc)
                if (step.phase, step.label, step.index) in self._open:
                    self._finished(step, "failed", message)
                self.opts.report(f"  rollback step {step.label} failed: {message}")
        return failback

    def finish(self, status: str, reason: str | None) -> None:
        """Record how execution ended. The verdict (objectives met or missed, rollback
        incomplete) is judged from the journal by `build_scorecard`, not here."""
        self.journal.write("run.finished", status=status, reason=reason)


def _infer_disruption(scenario_name: str | None) -> str:
    from drtool.services.model import infer_disruption  # the services models load only when needed

    return infer_disruption(scenario_name)
