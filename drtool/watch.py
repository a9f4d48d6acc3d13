"""Watching the service after the fault: steady state, impact and stable recovery (SPEC 7.1).

Functions of a `DrillRun`: the steady-state checks are looked at on every poll while the
runbook runs (so impact is seen when it happens), then steady-state and verify checks are
polled together until `RecoveryObserver` says recovery is stable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drtool.documents import Drill, Step
from drtool.guardrails import step_key
from drtool.observe import FaultNotObserved, RecoveryObserver
from drtool.run_types import DrillStop
from drtool.timing import PollTimeout, wait_until

if TYPE_CHECKING:
    from drtool.drill_run import DrillRun


def poll_checks(run: DrillRun, steps: list[Step], last: dict[str, Any]) -> bool:
    ok = True
    for step in steps:
        run.where = f"{step.phase} check {step.label}"
        ctx = run.context(step.region(run.plan.default_region), step.label, read_only=True, account=step.account)
        result = step.entry.func(ctx, step.params)
        last[step_key(step)] = result
        if run.opts.on_poll is not None:
            run.opts.on_poll(step.label, result)
        ok = ok and result.ok
    return ok


def note_impact(run: DrillRun, before: float | None, steady: list[Step], last: dict[str, Any]) -> None:
    if run.observer is not None and before is None and run.observer.impact_at is not None:
        failing = [f"{s.label}: {last[step_key(s)].detail}" for s in steady if not last[step_key(s)].ok]
        run.journal.write("impact", t=run.observer.impact_at, detail="; ".join(failing))
        run.opts.report(f"  impact   {'; '.join(failing)}")


def tick_and_watch(run: DrillRun) -> None:
    """Every poll while the runbook runs: stop conditions, then one look at the steady
    state so that impact is seen when it happens, not only once verify starts."""
    run.tick()
    steady = run.drill.steps.get("steady_state", [])
    if run.observer is None or not steady:
        return
    last: dict[str, Any] = {}
    before = run.observer.impact_at
    ok = poll_checks(run, steady, last)
    try:
        run.observer.observe(run.clock.now(), ok, verify_ok=None)     # verify unknown until the runbook ends
    except FaultNotObserved as exc:
        raise DrillStop("failed", str(exc)) from None
    finally:
        note_impact(run, before, steady, last)


def verify(run: DrillRun) -> None:
    """Poll steady-state and verify checks together until recovery is stable."""
    assert run.observer is not None
    steady = run.drill.steps.get("steady_state", [])
    checks = run.drill.steps.get("verify", [])
    if not checks and not steady:
        run.opts.report("  verify   (no checks: recovered when the runbook finished)")
        run.journal.write("recovered", t=run.clock.now())
        return
    for step in checks:
        run._started(step)
    last: dict[str, Any] = {}

    def recovered() -> tuple[bool, Any]:
        before = run.observer.impact_at if run.observer else None
        steady_ok = poll_checks(run, steady, last)
        verify_ok = poll_checks(run, checks, last)
        assert run.observer is not None
        try:
            at = run.observer.observe(run.clock.now(), steady_ok, verify_ok)
        finally:
            note_impact(run, before, steady, last)
        return at is not None, at

    explicit = [s.timeout for s in checks if s.timeout is not None]
    base = max(explicit) if explicit else max(2 * run.drill.objectives.rto, 60.0)
    timeout = run._bounded(base + run.observer.stable_for + (run.observer.impact_within or 0.0))
    try:
        _t, recovered_at = wait_until(recovered, clock=run.clock, interval=run.drill.doc.poll,
                                      timeout=timeout, on_tick=run.tick)
    except FaultNotObserved as exc:
        raise DrillStop("failed", str(exc)) from None
    except PollTimeout:
        for step in checks:
            result = last.get(step_key(step))
            run._finished(step, "ok" if result and result.ok else "timeout",
                           result.detail if result else "never polled")
        raise run._timed_out(f"the checks did not all pass (stably) within {timeout:g}s") from None
    run.journal.write("recovered", t=recovered_at, resolution_s=run.observer.resolution)
    for step in checks:
        run._finished(step, "ok", last[step_key(step)].detail)


def make_observer(drill: Drill, fault_at: float, scale: float) -> RecoveryObserver:
    """The drill's `impact` (else the scenario's) and `recovery`, on the run's time scale."""
    doc = drill.doc
    impact = doc.impact or drill.scenario.impact
    within = impact.within * scale if impact and impact.within is not None else None
    return RecoveryObserver(
        fault_at=fault_at, has_steady_state=bool(drill.steps.get("steady_state")),
        expect_impact=bool(impact and impact.expect), impact_within=within,
        stable_for=doc.recovery.stable_for * scale)
