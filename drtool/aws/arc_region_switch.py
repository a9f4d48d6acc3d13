"""ARC Region switch: start a plan execution, wait for it, record its steps in the timeline.

Service `arc-region-switch` (botocore >= 1.40; StartPlanExecution / GetPlanExecution,
https://docs.aws.amazon.com/arc-region-switch/latest/api/API_StartPlanExecution.html). An
execution moves through `pending`/`inProgress` to `completed`, `completedWithExceptions`,
`completedMonitoringApplicationHealth`, `failed`, `canceled` or `planExecutionTimedOut`, and
can pause (`pausedByFailedStep`, `pausedByOperator`, `pendingManualApproval`); each step
reports `notStarted`, `running`, `completed`, `failed`, `canceled`, `skipped` or
`pendingApproval` (botocore's service model, ExecutionState and StepStatus).

- Mode: `graceful` by default, the planned path; `ungraceful` is for a Region that is down:
  "Specifing ungraceful mode either changes the behavior of the execution blocks in a
  workflow or skips specific execution blocks" (StartPlanExecution).
- `postRecovery` passes `recoveryExecutionId`, "Required when starting a post-recovery
  execution": the recovery execution this run journaled for the plan, or `recovery_execution_id`.
- `clientToken` (the model's idempotency token) is derived from the run id and the step, so
  a resent or replayed start returns the execution the first one started: "If this token
  matches a previous request, the service ignores the request and returns the result of
  the original successful request". A start whose answer was lost is therefore sent again.
- GetPlanExecution pages `stepStates` (botocore's paginator: nextToken/maxResults): every
  page is read before the execution is judged.
- Undo (`arc.cancel-region-switch`): an execution of the step still running, paused or
  waiting for approval when the drill ends is cancelled (CancelPlanExecution "stops the
  execution of the plan and prevents any further steps from being processed",
  API_CancelPlanExecution.html), so nothing moves after the drill unobserved. The steps it
  already completed stay: switching back is another plan execution, the operator's
  decision, listed in `follow_up[]`.

The sandbox serves a fake of the service (`drtool.sandbox.fakes.arc_switch_state`, both wire
protocols) with a provisioned plan, `${sandbox.region_switch_plan}`.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from typing import Any, Literal

from pydantic import Field, model_validator

from drtool.aws.errors import AmbiguousWrite
from drtool.context import StepContext
from drtool.errors import DrToolError
from drtool.registry import Params, action, probe, undo
from drtool.resources import Outcome, ProbeResult, Resource, UndoSpec
from drtool.timing import PollTimeout, wait_until

SUCCESS = ("completed", "completedMonitoringApplicationHealth")
# botocore's PlanExecutionCompleted waiter counts completedWithExceptions as success; a drill
# reports it as a switch that did not fully work.
FAILED = ("failed", "canceled", "planExecutionTimedOut", "completedWithExceptions")
FINISHED = (*SUCCESS, *FAILED)
STOPPED = ("pausedByFailedStep", "pausedByOperator")       # paused until someone acts: the drill stops waiting
ExecutionState = Literal["inProgress", "pausedByFailedStep", "pausedByOperator", "completed",
                         "completedWithExceptions", "canceled", "planExecutionTimedOut", "pendingManualApproval",
                         "failed", "pending", "completedMonitoringApplicationHealth"]
EXECUTION_ID = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+/[0-9a-fA-F]{16}$")   # the model's recoveryExecutionId
READ_IAM = ["arc-region-switch:GetPlanExecution"]
CANCEL_IAM = ["arc-region-switch:ListPlanExecutions", "arc-region-switch:GetPlanExecution",
              "arc-region-switch:CancelPlanExecution"]
CANCEL_WAIT_S = 60.0


def client_token(run_id: str, step: str) -> str:
    """StartPlanExecution's clientToken for one step of one run (1-128 of [\\x21-\\x7E])."""
    return "drtool-" + hashlib.sha256(f"{run_id}/{step}".encode()).hexdigest()[:48]


def marker(run_id: str, step: str) -> str:
    """The execution's comment (at most 1024 characters): how the undo finds the step's execution."""
    return f"drtool run {run_id} step {step}"[:1024]


class StartParams(Params):
    plan_arn: str = Field(description="the Region switch plan")
    target_region: str = Field(description="the Region the action applies to")
    action: Literal["activate", "deactivate", "postRecovery"] = "activate"
    mode: Literal["graceful", "ungraceful"] = Field(
        default="graceful", description="graceful: the planned path; ungraceful: for a Region that is down (blocks "
                                        "with an ungraceful setting change behaviour or are skipped)")
    recovery_execution_id: str | None = Field(
        default=None, description="postRecovery only: the recovery execution it follows (default: the last "
                                  "activate/deactivate execution of this plan journaled by this run)")
    timeout: float = Field(default=3600.0, gt=0, description="seconds to wait for the execution to end")
    poll: float = Field(default=10.0, gt=0, description="seconds between GetPlanExecution calls")

    @model_validator(mode="after")
    def _recovery_only_for_post_recovery(self) -> StartParams:
        if self.recovery_execution_id is not None:
            if self.action != "postRecovery":
                raise ValueError("recovery_execution_id goes with action: postRecovery only")
            if not EXECUTION_ID.match(self.recovery_execution_id):
                raise ValueError(f"recovery_execution_id {self.recovery_execution_id!r} is not an execution id "
                                 "(<Region>/<16 hex digits>)")
        return self


def _touches(ctx: StepContext, params: StartParams) -> list[Resource]:
    return [Resource(id=params.plan_arn, type="arc-region-switch:plan", region="global", arn=params.plan_arn)]


@action("arc.start-region-switch",
        summary="Start an ARC Region switch plan execution (graceful unless asked) and wait for it to end; its "
                "steps land in the timeline (undo: cancel it if still running, paused or waiting for approval; "
                "switching back is another execution, listed in follow_up)",
        params=StartParams, touches=_touches, undo="arc.cancel-region-switch",
        iam=[*READ_IAM, "arc-region-switch:StartPlanExecution"])
def start_region_switch(ctx: StepContext, params: StartParams, targets: list[Resource]) -> Outcome:
    client = ctx.client("arc-region-switch", params.region)
    request: dict[str, Any] = {
        "planArn": params.plan_arn, "targetRegion": params.target_region, "action": params.action,
        "mode": params.mode, "comment": marker(ctx.run_id, ctx.step), "clientToken": client_token(ctx.run_id, ctx.step)}
    if params.action == "postRecovery":
        request["recoveryExecutionId"] = _recovery_execution(ctx, params)
    started = ctx.change(
        f"start Region switch plan {params.plan_arn}: {params.action} {params.target_region} ({params.mode})",
        lambda: _start(client, request),
        undo=UndoSpec("arc.cancel-region-switch", {"plan_arn": params.plan_arn, "marker": request["comment"]},
                      params.region or ctx.region),
        resources=[params.plan_arn])
    execution = started["executionId"]
    ctx.note(f"Region switch execution {execution} started", region_switch="started", execution_id=execution,
             plan_arn=params.plan_arn, switch_action=params.action, target_region=params.target_region,
             mode=params.mode)
    if params.action != "postRecovery":
        back = (started.get("deactivateRegion") or "<the other Region>") if params.action == "activate" \
            else params.target_region
        ctx.follow_up(params.plan_arn, f"Region switch execution {execution} ({params.action} "
                                       f"{params.target_region}, {params.mode})",
                      f"once the Region is healthy, switch back: aws arc-region-switch start-plan-execution "
                      f"--plan-arn {params.plan_arn} --target-region {back} --action activate")
    final = _wait(ctx, client, params, execution)
    state = final.get("executionState")
    data = {"execution_id": execution, "state": state, "mode": params.mode, "steps": _steps(final)}
    if state in STOPPED:
        raise DrToolError(f"Region switch execution {execution} is {state}",
                          "the rollback cancels it; the steps are in the timeline and the ARC console")
    if state not in SUCCESS:
        raise DrToolError(f"Region switch execution {execution} ended {state}",
                          "see the plan execution in the ARC console; steps are in the timeline")
    return Outcome(f"Region switch execution {execution} {state} ({len(data['steps'])} steps).", data)


def _start(client: Any, request: dict[str, Any]) -> dict[str, Any]:
    """StartPlanExecution; sent once more, with the same clientToken, when the answer was lost:
    AWS then returns the execution the first request started (or starts the one it did not)."""
    try:
        return dict(client.start_plan_execution(**request))
    except AmbiguousWrite:
        return dict(client.start_plan_execution(**request))


def _recovery_execution(ctx: StepContext, params: StartParams) -> str:
    """`recovery_execution_id`, or the last recovery execution of the plan this run journaled."""
    if params.recovery_execution_id:
        return params.recovery_execution_id
    from drtool.journal import read_journal

    events = read_journal(ctx.journal.path) if ctx.journal is not None else []
    started = [e for e in events if e.get("event") == "note" and e.get("region_switch") == "started"
               and e.get("plan_arn") == params.plan_arn and e.get("switch_action") in ("activate", "deactivate")]
    if not started:
        raise DrToolError(f"postRecovery of plan {params.plan_arn} needs the recovery execution it follows, and "
                          "this run started none",
                          "give `recovery_execution_id` (the activate/deactivate execution, <Region>/<16 hex>)")
    return str(started[-1]["execution_id"])


def read_execution(client: Any, plan_arn: str, execution: str) -> dict[str, Any]:
    """GetPlanExecution with every page of `stepStates` (the other members: the first page's)."""
    found: dict[str, Any] = {}
    steps: list[dict[str, Any]] = []
    for page in client.get_paginator("get_plan_execution").paginate(planArn=plan_arn, executionId=execution):
        found = found or dict(page)
        steps += page.get("stepStates") or []
    found.pop("nextToken", None)
    return {**found, "stepStates": steps}


def _wait(ctx: StepContext, client: Any, params: StartParams, execution: str) -> dict[str, Any]:
    """Until the execution ends or stops paused; pendingManualApproval waits for the approver."""
    deadline = ctx.clock.monotonic() + params.timeout
    seen: dict[str, str] = {}
    while True:
        found = read_execution(client, params.plan_arn, execution)
        for step in found.get("stepStates") or []:
            name, status = step.get("name", "?"), step.get("status", "?")
            if seen.get(name) != status:
                seen[name] = status
                ctx.note(f"Region switch step {name}: {status}", execution_id=execution, step_name=name,
                         status=status)
        state = found.get("executionState")
        if state in FINISHED or state in STOPPED:
            return found
        if ctx.clock.monotonic() >= deadline:
            raise DrToolError(f"Region switch execution {execution} is still {state} after {params.timeout:.0f}s",
                              "raise `timeout`; the rollback cancels the execution if it is still running")
        ctx.clock.sleep(params.poll)


def _steps(found: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": s.get("name"), "status": s.get("status")} for s in found.get("stepStates") or []]


class CancelParams(Params):
    plan_arn: str
    marker: str = Field(min_length=1, description="the comment the step's execution carries (run id and step)")


@undo("arc.cancel-region-switch", params=CancelParams, iam=CANCEL_IAM,
      summary="Cancel the step's Region switch execution if it is still running, paused or waiting for approval "
              "(compare and swap: a finished execution is left as it is)")
def cancel_region_switch(ctx: StepContext, params: CancelParams) -> str:
    """Finds the step's executions by their comment (executions carry no tags), so it works
    even when the start's answer never reached the journal; cancels only those not finished."""
    client = ctx.client("arc-region-switch", params.region)
    pages = client.get_paginator("list_plan_executions").paginate(planArn=params.plan_arn)
    ours = [item for page in pages for item in page.get("items") or [] if item.get("comment") == params.marker]
    if not ours:
        return f"No Region switch execution of this step on {params.plan_arn}; nothing to cancel."
    done = []
    for item in ours:
        ident, state = item["executionId"], item.get("executionState")
        if state not in FINISHED:
            with contextlib.suppress(AmbiguousWrite):    # answer lost: the state read next says if it took
                client.cancel_plan_execution(planArn=params.plan_arn, executionId=ident,
                                             comment=f"drtool rollback: {params.marker}"[:1024])
            state = _until_finished(ctx, client, params.plan_arn, ident)
        done.append(f"{ident} {state}")
    return f"Region switch execution(s) of this step: {', '.join(done)}."


def _until_finished(ctx: StepContext, client: Any, plan_arn: str, execution: str) -> str:
    def finished() -> tuple[bool, str]:
        state = str(client.get_plan_execution(planArn=plan_arn, executionId=execution, maxResults=1)
                    .get("executionState"))
        return state in FINISHED, state

    try:
        return str(wait_until(finished, clock=ctx.clock, interval=2.0, timeout=CANCEL_WAIT_S)[1])
    except PollTimeout as exc:
        raise DrToolError(f"cancelled Region switch execution {execution}, but it is still {exc.last} after "
                          f"{CANCEL_WAIT_S:.0f}s",
                          f"cancel it by hand: aws arc-region-switch cancel-plan-execution --plan-arn {plan_arn} "
                          f"--execution-id {execution}") from None


class StateParams(Params):
    plan_arn: str
    execution_id: str
    state: ExecutionState = Field(default="completed", description="the execution state expected")


@probe("arc.plan-execution-state", summary="An ARC Region switch plan execution is in the expected state",
       params=StateParams, iam=READ_IAM)
def plan_execution_state(ctx: StepContext, params: StateParams) -> ProbeResult:
    found = read_execution(ctx.client("arc-region-switch", params.region), params.plan_arn, params.execution_id)
    state = found.get("executionState")
    data = {"execution_id": params.execution_id, "state": state, "steps": _steps(found)}
    if state == params.state:
        return ProbeResult(True, f"Region switch execution {params.execution_id} is {state}.", data)
    return ProbeResult(False, f"Region switch execution {params.execution_id} is {state}, not {params.state}.", data)
