"""Run a drill: guardrails, inject, recover, verify, measure, undo, score.

Phases follow Chaos Toolkit's vocabulary: the steady state must hold before the fault,
the fault is injected (`inject`), the runbook drives recovery (`recover`) while an
optional `workaround` track keeps the business going, and the steady-state and `verify`
checks are polled until they pass and keep passing (SPEC 7.1). The RTO clock starts when
the last inject step completed (`fault_at`).

`run_drill` decides everything that can refuse a drill before any change (guardrails,
steady state, confirmation, the per-target lock), then hands over to `DrillRun.run()`,
the one place that guarantees rollback and a scorecard on every path (SPEC 7.3).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drtool.context import StepContext
from drtool.documents import Drill
from drtool.drill_run import DrillRun
from drtool.errors import GuardrailRefusal
from drtool.guardrails import Plan, enforce, prepare
from drtool.plan_text import describe_plan
from drtool.rollback import rollback_run
from drtool.run_types import (
    SANDBOX_TIME_SCALE,
    DrillStop,
    RunOptions,
    RunResult,
    error_text,
    new_run_id,
)
from drtool.scorecard import write_scorecard
from drtool.timing import Clock


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


__all__ = ["SANDBOX_TIME_SCALE", "DrillRun", "DrillStop", "RunOptions", "RunResult", "check_steady_state", "describe_plan",
           "rollback_run", "run_drill", "write_scorecard"]
