"""ARC Region switch: start a plan execution, wait for it, record its steps in the timeline.

Service `arc-region-switch` (botocore >= 1.40; StartPlanExecution / GetPlanExecution,
https://docs.aws.amazon.com/arc-region-switch/latest/api/API_StartPlanExecution.html). An
execution moves through `pending`/`inProgress` to `completed`, `completedWithExceptions`,
`completedMonitoringApplicationHealth`, `failed`, `canceled` or `planExecutionTimedOut`, and
can pause (`pausedByFailedStep`, `pausedByOperator`, `pendingManualApproval`); each step
reports `notStarted`, `running`, `completed`, `failed`, `canceled`, `skipped` or
`pendingApproval` (botocore's service model, ExecutionState and StepStatus).

The sandbox serves a fake of the service (`drtool.sandbox.fakes.arc_switch_state`, both wire
protocols) with a provisioned plan, `${sandbox.region_switch_plan}`.

A plan execution is not undone by drtool: switching back is another plan execution (the
opposite `action`, or `postRecovery`), which the operator decides; it is listed in
`follow_up[]`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from drtool.context import StepContext
from drtool.errors import DrToolError
from drtool.registry import Params, action, probe
from drtool.resources import Outcome, ProbeResult, Resource

SUCCESS = ("completed", "completedMonitoringApplicationHealth")
FAILED = ("failed", "canceled", "planExecutionTimedOut", "completedWithExceptions")
PAUSED = ("pausedByFailedStep", "pausedByOperator", "pendingManualApproval")
READ_IAM = ["arc-region-switch:GetPlan", "arc-region-switch:GetPlanExecution"]


class StartParams(Params):
    plan_arn: str = Field(description="the Region switch plan")
    target_region: str = Field(description="the Region the action applies to")
    action: Literal["activate", "deactivate", "postRecovery"] = "activate"
    mode: Literal["graceful", "ungraceful"] = Field(default="ungraceful", description="ungraceful for a "
                                                   "Region that is down")
    timeout: float = Field(default=3600.0, gt=0, description="seconds to wait for the execution to end")
    poll: float = Field(default=10.0, gt=0, description="seconds between GetPlanExecution calls")


def _arn(params: StartParams) -> list[Resource]:
    return [Resource(id=params.plan_arn, type="arc-region-switch:plan", region="global", arn=params.plan_arn)]


def _touches(ctx: StepContext, params: StartParams) -> list[Resource]:
    return _arn(params)


@action("arc.start-region-switch",
        summary="Start an ARC Region switch plan execution and wait for it to end; its steps land in the timeline "
                "(not undone: switching back is another execution, listed in follow_up)",
        params=StartParams, touches=_touches,
        iam=[*READ_IAM, "arc-region-switch:StartPlanExecution"])
def start_region_switch(ctx: StepContext, params: StartParams, targets: list[Resource]) -> Outcome:
    client = ctx.client("arc-region-switch", params.region)
    started = ctx.change(f"start Region switch plan {params.plan_arn}: {params.action} {params.target_region} "
                         f"({params.mode})",
                         lambda: client.start_plan_execution(
                             planArn=params.plan_arn, targetRegion=params.target_region, action=params.action,
                             mode=params.mode, comment=f"drtool run {ctx.run_id}"[:256]))
    execution = started["executionId"]
    ctx.follow_up(params.plan_arn, f"Region switch execution {execution} ({params.action} {params.target_region})",
                  "switch back with another plan execution (the opposite action) once the Region is healthy")
    final = _wait(ctx, client, params, execution)
    state = final.get("executionState")
    data = {"execution_id": execution, "state": state, "steps": _steps(final)}
    if state not in SUCCESS:
        raise DrToolError(f"Region switch execution {execution} ended {state}",
                          "see the plan execution in the ARC console; steps are in the timeline")
    return Outcome(f"Region switch execution {execution} {state} ({len(data['steps'])} steps).", data)


def _wait(ctx: StepContext, client: Any, params: StartParams, execution: str) -> dict[str, Any]:
    deadline = ctx.clock.monotonic() + params.timeout
    seen: dict[str, str] = {}
    while True:
        found = client.get_plan_execution(planArn=params.plan_arn, executionId=execution)
        for step in found.get("stepStates") or []:
            name, status = step.get("name", "?"), step.get("status", "?")
            if seen.get(name) != status:
                seen[name] = status
                ctx.note(f"Region switch step {name}: {status}", execution_id=execution, step_name=name,
                         status=status)
        state = found.get("executionState")
        if state in SUCCESS or state in FAILED:
            return dict(found)
        if state in PAUSED and state != "pendingManualApproval":
            return dict(found)
        if ctx.clock.monotonic() >= deadline:
            raise DrToolError(f"Region switch execution {execution} is still {state} after {params.timeout:.0f}s",
                              "raise `timeout`, or follow the execution in the ARC console")
        ctx.clock.sleep(params.poll)


def _steps(found: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": s.get("name"), "status": s.get("status")} for s in found.get("stepStates") or []]


class StateParams(Params):
    plan_arn: str
    execution_id: str
    state: str = Field(default="completed", description="the execution state expected")


@probe("arc.plan-execution-state", summary="An ARC Region switch plan execution is in the expected state",
       params=StateParams, iam=READ_IAM)
def plan_execution_state(ctx: StepContext, params: StateParams) -> ProbeResult:
    found = ctx.client("arc-region-switch", params.region).get_plan_execution(
        planArn=params.plan_arn, executionId=params.execution_id)
    state = found.get("executionState")
    data = {"execution_id": params.execution_id, "state": state, "steps": _steps(found)}
    if state == params.state:
        return ProbeResult(True, f"Region switch execution {params.execution_id} is {state}.", data)
    return ProbeResult(False, f"Region switch execution {params.execution_id} is {state}, not {params.state}.", data)
