"""The failure matrix (tests/safety) for the Region switch writes, at step level: a start whose
execution waits for approval past the step's timeout, then the undo that cancels it, with the
Nth AWS call failing as tests/safety/faults.py fails it (every N, every kind). No bundled drill
uses Region switch, so the drill-level matrix has no cell for these calls.

Every cell: at most one execution (the client token), no execution left running once the undo
returned, and an undo that did not return failed loudly (the rollback lists it). Transient
faults (throttling, a lost answer on a read, and on StartPlanExecution, which is resent with its
token) end as the un-faulted run does."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from drtool.aws import arc_region_switch
from drtool.aws.session import AwsSession
from drtool.context import StepContext
from drtool.journal import Journal
from drtool.sandbox.fakes.arc_switch_http import serving
from drtool.sandbox.fakes.arc_switch_run import FINISHED
from drtool.sandbox.fakes.arc_switch_state import FakeRegionSwitch
from drtool.timing import FakeClock
from tests.region.helpers import journal_events, run_undo
from tests.region.test_arc_region_switch_fake import plan_request
from tests.safety.faults import KINDS, FaultInjector, is_read

RESENT_WITH_TOKEN = "arc-region-switch:StartPlanExecution"
BUGS = ("TypeError", "KeyError", "AttributeError", "AssertionError", "ValueError", "IndexError")


@dataclass
class Cell:
    action_error: str | None
    undo_error: str | None
    executions: list[str]
    live: list[str]
    calls: list[str]
    hit: str | None


def run_cell(tmp_path, kind: str, n: int | None) -> Cell:
    clock = FakeClock()
    with serving(FakeRegionSwitch(clock, "123456789012", step_seconds=30)) as fake:
        plan = AwsSession(region="us-east-1").client("arc-region-switch").create_plan(
            **plan_request(approval=True))["plan"]["arn"]
        injector = FaultInjector(kind=kind, at=n)
        session = AwsSession(region="us-east-1", on_client=injector.attach, base_delay=0.0)
        ctx = StepContext(aws=session, clock=clock, region="us-east-1", run_id="run-m", step="recover/switch",
                          journal=Journal(tmp_path / f"{kind}-{n}.jsonl", clock), drill="t")
        action_error = undo_error = None
        try:
            arc_region_switch.start_region_switch(ctx, arc_region_switch.StartParams(
                plan_arn=plan, target_region="us-west-2", poll=10, timeout=20), [])
        except Exception as exc:  # noqa: BLE001 - the cell records how it ended
            action_error = f"{type(exc).__name__}: {exc}"
        for intent in journal_events(ctx, "change.intent"):
            try:
                run_undo(ctx, intent["undo"])
            except Exception as exc:  # noqa: BLE001
                undo_error = f"{type(exc).__name__}: {exc}"
        hit = injector.injected[0].operation if injector.injected else None
        return Cell(action_error, undo_error, list(fake.executions),
                    [e.id for e in fake.executions.values() if e.state not in FINISHED], list(injector.calls), hit)


@pytest.fixture
def baseline(aws, tmp_path):
    return run_cell(tmp_path, "throttling", None)


def test_the_unfaulted_cell_times_out_waiting_and_its_undo_cancels(baseline):
    assert baseline.action_error is not None and "still pendingManualApproval" in baseline.action_error
    assert baseline.undo_error is None and len(baseline.executions) == 1 and baseline.live == []
    assert {"arc-region-switch:StartPlanExecution", "arc-region-switch:CancelPlanExecution"} <= set(baseline.calls)


@pytest.mark.parametrize("kind", KINDS)
def test_every_call_failing_leaves_one_execution_at_most_and_none_running(tmp_path, baseline, kind):
    problems = []
    for n in range(1, len(baseline.calls) + 1):
        cell = run_cell(tmp_path, kind, n)
        where = f"{kind} N={n} ({cell.hit})"
        if len(cell.executions) > 1:
            problems.append(f"{where}: {len(cell.executions)} executions")
        if cell.live and cell.undo_error is None:
            problems.append(f"{where}: undo returned but {cell.live} still running")
        transient = kind == "throttling" or (kind == "read-timeout" and cell.hit is not None and (
            is_read(cell.hit) or cell.hit == RESENT_WITH_TOKEN))
        if transient and (cell.undo_error is not None or (cell.action_error or "").split(":")[0] !=
                          (baseline.action_error or "").split(":")[0] or cell.live):
            problems.append(f"{where}: a transient fault changed the outcome: {cell.action_error} / {cell.undo_error}")
        for error in (cell.action_error, cell.undo_error):
            if error and error.startswith(BUGS):
                problems.append(f"{where}: {error}")
    assert not problems, "\n".join(problems)


def test_a_denied_cancel_fails_the_undo_loudly(tmp_path, baseline):
    n = baseline.calls.index("arc-region-switch:CancelPlanExecution") + 1
    cell = run_cell(tmp_path, "access-denied", n)
    assert cell.live and cell.undo_error is not None and "AccessDenied" in cell.undo_error
