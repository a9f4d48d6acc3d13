"""One fake Region switch plan execution on the clock: its steps, its mode, its state.

States and step statuses are botocore's `arc-region-switch` enums (ExecutionState,
StepStatus, StepState.stepMode). The steps of the workflow run one after the other, each
notStarted -> running -> completed after `step_seconds`.

Execution mode (API_StartPlanExecution.html: "Specifing ungraceful mode either changes the
behavior of the execution blocks in a workflow or skips specific execution blocks"), as the
service model's per-block `ungraceful` settings document it:

- `behavior: skip` (CustomActionLambda `LambdaUngraceful`, LambdaEventSourceMapping,
  SSMSendCommand): the step is `skipped` in ungraceful mode, runs in graceful mode;
- `ungraceful: failover | promoteReadReplica` (Aurora/DocumentDB/Neptune global database,
  RDS switchover): the step runs that behaviour instead of its graceful one (Aurora:
  `behavior` switchoverOnly, "Calls SwitchoverGlobalCluster for a zero-data-loss switchover
  during graceful execution"; ungraceful failover "Calls FailoverGlobalCluster with
  AllowDataLoss set to true"), recorded as `StepRun.behavior`;
- `minimumSuccessPercentage` (EC2/ECS/EKS scaling) and blocks without an ungraceful setting
  (ARC routing control: "This block does not support ungraceful execution mode", ARC
  developer guide, arc-routing-controls-block.html) run the same in both modes.
A step takes the execution's mode when it starts (UpdatePlanExecution switchToUngraceful /
switchToGraceful changes it for the steps still to come); StepState.stepMode reports it.

Sandbox modelling choices (the reference names the states, not every transition): a failed
step pauses the execution (`pausedByFailedStep`, the state's name); a declined approval
fails it; a pause by the operator freezes the running step's clock until `resume`, and
`resume` after a failed step runs that step again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drtool.timing import to_datetime

FINISHED = ("completed", "completedWithExceptions", "completedMonitoringApplicationHealth", "failed", "canceled",
            "planExecutionTimedOut")
SKIP_WHEN_UNGRACEFUL = "skip"


@dataclass
class StepRun:
    name: str
    block: str                          # executionBlockType
    config: dict[str, Any] = field(default_factory=dict)   # executionBlockConfiguration (a union: one member)
    status: str = "notStarted"
    started_at: float | None = None
    ended_at: float | None = None
    mode: str = "graceful"              # the execution's mode when the step started
    behavior: str | None = None         # what the block did: its graceful or its ungraceful behaviour

    def member(self) -> dict[str, Any]:
        """The block's configuration (the one member of the union)."""
        values = [v for v in self.config.values() if isinstance(v, dict)]
        return values[0] if values else {}

    def ungraceful(self) -> str | None:
        """The block's documented ungraceful behaviour: skip, failover, promoteReadReplica or None."""
        setting = self.member().get("ungraceful") or {}
        value = setting.get("behavior") or setting.get("ungraceful")
        return str(value) if value else None

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status, "stepMode": self.mode}
        if self.started_at is not None:
            out["startTime"] = to_datetime(self.started_at)
        if self.ended_at is not None:
            out["endTime"] = to_datetime(self.ended_at)
        return out


@dataclass
class Execution:
    id: str
    plan_arn: str
    plan_version: str
    action: str
    region: str
    mode: str
    comment: str | None
    started_at: float
    steps: list[StepRun]
    recovery_execution_id: str | None = None
    state: str = "inProgress"
    ended_at: float | None = None
    updated_at: float = 0.0
    paused_at: float | None = None      # pausedByOperator since

    def end(self, state: str, at: float) -> None:
        self.state, self.ended_at, self.updated_at = state, at, at


Effect = Callable[[Execution, StepRun], bool]      # a block's change outside the fake; False: it failed


def advance(e: Execution, now: float, step_seconds: float, fail_steps: set[str], effect: Effect) -> None:
    """Run the execution's steps up to `now`, one after the other."""
    while e.state == "inProgress":
        step = next((s for s in e.steps if s.status in ("notStarted", "running")), None)
        if step is None:
            ended = [s.ended_at for s in e.steps if s.ended_at is not None]
            e.end("completed", max(ended) if ended else now)
            return
        if step.status == "notStarted":
            previous = [s.ended_at for s in e.steps if s.ended_at is not None]
            start = max([e.started_at, *previous])
            step.mode, step.started_at, e.updated_at = e.mode, start, start
            if e.mode == "ungraceful" and step.ungraceful() == SKIP_WHEN_UNGRACEFUL:
                step.status, step.ended_at = "skipped", start
                continue
            graceful = step.member().get("behavior")
            step.behavior = (step.ungraceful() if e.mode == "ungraceful" else None) or \
                (str(graceful) if graceful else None)
            step.status = "running"
            if step.block == "ManualApproval":
                step.status, e.state = "pendingApproval", "pendingManualApproval"
                return
        assert step.started_at is not None
        done = step.started_at + step_seconds
        if now < done:
            return
        step.ended_at, e.updated_at = done, done
        if step.name in fail_steps or not effect(e, step):
            step.status, e.state = "failed", "pausedByFailedStep"
            return
        step.status = "completed"


def cancel(e: Execution, now: float) -> None:
    """CancelPlanExecution: the running or waiting step is canceled, then the execution."""
    for step in e.steps:
        if step.status in ("running", "pendingApproval"):
            step.status, step.ended_at = "canceled", now
    e.end("canceled", now)


def update(e: Execution, action: str, now: float) -> str | None:
    """UpdatePlanExecution `action` on `e`; the reason it does not apply, or None once applied."""
    if action in ("switchToUngraceful", "switchToGraceful"):
        e.mode, e.updated_at = ("ungraceful" if action == "switchToUngraceful" else "graceful"), now
        return None
    if action == "pause":
        if e.state not in ("inProgress", "pendingManualApproval"):
            return f"execution {e.id} is {e.state}, not in progress"
        e.state, e.paused_at, e.updated_at = "pausedByOperator", now, now
        return None
    if action == "resume":
        if e.state == "pausedByOperator":
            frozen = now - (e.paused_at if e.paused_at is not None else now)
            for step in e.steps:
                if step.status == "running" and step.started_at is not None:
                    step.started_at += frozen
            waiting = any(s.status == "pendingApproval" for s in e.steps)
            e.state, e.paused_at = ("pendingManualApproval" if waiting else "inProgress"), None
        elif e.state == "pausedByFailedStep":
            failed = next(s for s in e.steps if s.status == "failed")
            failed.status, failed.started_at, failed.ended_at = "running", now, None
            e.state = "inProgress"
        else:
            return f"execution {e.id} is {e.state}, not paused"
        e.updated_at = now
        return None
    return f"action {action!r} is not switchToGraceful, switchToUngraceful, pause or resume"
