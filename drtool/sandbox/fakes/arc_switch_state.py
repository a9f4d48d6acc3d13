"""Fake ARC Region switch (moto has none): plans and plan executions on a clock.

Operations follow the ARC Region switch API reference
(https://docs.aws.amazon.com/arc-region-switch/latest/api/API_Operations.html); the states are
the documented enums (GetPlanExecution `executionState`, StepState `status`):

    StartPlanExecution -> inProgress; the steps of the workflow for (action, targetRegion) run
    one after the other, each notStarted -> running -> completed after `step_seconds`;
    every step completed                   -> completed
    a ManualApproval step                  -> step pendingApproval, execution pendingManualApproval
        ApprovePlanExecutionStep approve   -> the step completes, the execution goes on
        ApprovePlanExecutionStep decline   -> step failed, execution failed
    a step named in `fail_steps`           -> step failed, execution pausedByFailedStep
    an ARCRoutingControl step              -> on completion, sets the routing controls listed for
                                              the Region (through `routing`, the sandbox's ARC fake)

ARC routing control block (ARC developer guide, "ARC routing control execution block",
https://docs.aws.amazon.com/r53recovery/latest/dg/arc-routing-controls-block.html): "when you
execute the plan and specify to activate Region A, the workflow ... updates the specified
routing controls" to the states configured for Region A; deactivating a Region stops traffic
to it, modelled here as the opposite of its configured states. A routing update that fails
(e.g. a control panel not DEPLOYED) fails the step.
    CancelPlanExecution (not finished)     -> running/waiting step canceled, execution canceled

The sandbox's modelling choices (the reference names the states, not every transition): a
declined approval fails the execution; a failed step pauses it (the state's name); execution
blocks have no effect on other fakes. Plan ARNs and their pattern:
API_Plan.html (`arn:aws:arc-region-switch::ACCOUNT:plan/NAME:xxxxxx`); plans are global
(no Region in the ARN). Errors carry the HTTP status of the service model's error shapes.
"""

from __future__ import annotations

import re
import secrets
import string
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drtool.sandbox.fakes.backup_state import BackupError
from drtool.timing import Clock, to_datetime

FINISHED = ("completed", "completedWithExceptions", "completedMonitoringApplicationHealth", "failed", "canceled",
            "planExecutionTimedOut")
_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$")
_PLAN_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:arc-region-switch::[0-9]{12}:plan/([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}"
                       r"[a-zA-Z0-9])?):([a-z0-9]{6})$")


class SwitchError(BackupError):
    """A Region switch error: code, message, HTTP status (the model's error shapes)."""


def _not_found(what: str) -> SwitchError:
    return SwitchError("ResourceNotFoundException", f"{what} not found", 404)


def _invalid(message: str) -> SwitchError:
    return SwitchError("IllegalArgumentException", message, 400)


@dataclass
class StepRun:
    name: str
    block: str                          # executionBlockType
    config: dict[str, Any] = field(default_factory=dict)   # executionBlockConfiguration
    status: str = "notStarted"
    started_at: float | None = None
    ended_at: float | None = None

    def json(self, mode: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status, "stepMode": mode}
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
    state: str = "inProgress"
    ended_at: float | None = None
    updated_at: float = 0.0


@dataclass
class Plan:
    arn: str
    body: dict[str, Any]                # the CreatePlan members
    owner: str
    updated_at: float
    version: str = "1"
    tags: dict[str, str] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        return {**{k: v for k, v in self.body.items() if k != "tags"}, "arn": self.arn, "owner": self.owner,
                "version": self.version, "updatedAt": to_datetime(self.updated_at)}


class FakeRegionSwitch:
    """The service: `call(operation, region, params)` returns the response members or raises SwitchError."""

    operations = ("CreatePlan", "GetPlan", "ListPlans", "DeletePlan", "StartPlanExecution", "GetPlanExecution",
                  "ListPlanExecutions", "CancelPlanExecution", "ApprovePlanExecutionStep")

    def __init__(self, clock: Clock, account: str, step_seconds: float = 2.0) -> None:
        self.clock, self.account, self.step_seconds = clock, account, step_seconds
        self.plans: dict[str, Plan] = {}
        self.executions: dict[str, Execution] = {}
        self.fail_steps: set[str] = set()      # step names that fail (to rehearse a failed switch)
        # sets routing control states [{RoutingControlArn, RoutingControlState}] (the sandbox: arc_routing)
        self.routing: Callable[[list[dict[str, str]]], Any] | None = None
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def call(self, operation: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation not in self.operations:
            raise SwitchError("IllegalArgumentException", f"{operation} is not served by the sandbox", 400)
        with self._lock:
            for execution in self.executions.values():
                self._advance(execution, self.clock.now())
            result: dict[str, Any] = getattr(self, "_op_" + operation)(params)
            return result

    def clear(self) -> None:
        with self._lock:
            self.plans.clear()
            self.executions.clear()
            self._tokens.clear()

    # --- plans ---------------------------------------------------------------------------

    def _op_CreatePlan(self, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_CreatePlan.html
        name, regions = p.get("name", ""), list(p.get("regions") or [])
        if not _NAME.match(name):
            raise _invalid(f"plan name {name!r} does not match {_NAME.pattern}")
        if len(regions) != 2 or len(set(regions)) != 2:
            raise _invalid("a plan names two different Regions")
        if p.get("recoveryApproach") == "activePassive" and p.get("primaryRegion") not in regions:
            raise _invalid("an activePassive plan needs primaryRegion, one of its regions")
        for workflow in p.get("workflows") or []:
            if workflow.get("workflowTargetRegion") not in (None, *regions):
                raise _invalid(f"workflow Region {workflow['workflowTargetRegion']} is not one of the plan's regions")
        if any(plan.body["name"] == name for plan in self.plans.values()):
            raise SwitchError("ConflictException", f"a plan named {name} already exists", 409)
        suffix = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(6))
        arn = f"arn:aws:arc-region-switch::{self.account}:plan/{name}:{suffix}"
        plan = Plan(arn, dict(p), self.account, self.clock.now(), tags=dict(p.get("tags") or {}))
        self.plans[arn] = plan
        return {"plan": plan.json()}

    def _plan(self, arn: Any) -> Plan:
        if not isinstance(arn, str) or not _PLAN_ARN.match(arn):
            raise _invalid(f"plan ARN {arn!r} is not valid")
        if arn not in self.plans:
            raise _not_found(f"plan {arn}")
        return self.plans[arn]

    def _op_GetPlan(self, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_GetPlan.html
        return {"plan": self._plan(p.get("arn")).json()}

    def _op_ListPlans(self, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_ListPlans.html (AbbreviatedPlan)
        keep = ("arn", "owner", "name", "regions", "recoveryApproach", "primaryRegion", "version", "updatedAt",
                "description", "executionRole")
        return {"plans": [{k: v for k, v in plan.json().items() if k in keep} for plan in self.plans.values()]}

    def _op_DeletePlan(self, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_DeletePlan.html
        plan = self._plan(p.get("arn"))
        if any(e.plan_arn == plan.arn and e.state not in FINISHED for e in self.executions.values()):
            raise SwitchError("IllegalStateException", f"plan {plan.arn} has an execution in progress", 400)
        del self.plans[plan.arn]
        return {}

    # --- executions ----------------------------------------------------------------------

    def _op_StartPlanExecution(self, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_StartPlanExecution.html
        token = p.get("clientToken")
        if token and token in self._tokens:
            return self._started(self.executions[self._tokens[token]])
        plan = self._plan(p.get("planArn"))
        region, action = p.get("targetRegion"), p.get("action")
        if region not in plan.body["regions"]:
            raise _invalid(f"targetRegion {region} is not one of the plan's regions {plan.body['regions']}")
        if any(e.plan_arn == plan.arn and e.state not in FINISHED for e in self.executions.values()):
            raise SwitchError("IllegalStateException", f"plan {plan.arn} already has an execution in progress", 400)
        workflows = [w for w in plan.body.get("workflows") or [] if w.get("workflowTargetAction") == action
                     and w.get("workflowTargetRegion") in (None, region)]
        if not workflows:
            raise _invalid(f"plan {plan.arn} has no workflow to {action} {region}")
        now = self.clock.now()
        steps = [StepRun(s["name"], s.get("executionBlockType", ""), dict(s.get("executionBlockConfiguration") or {}))
                 for s in workflows[0].get("steps") or []]
        execution = Execution(uuid.uuid4().hex[:12], plan.arn, plan.version, str(action), str(region),
                              p.get("mode") or "graceful", p.get("comment"), now, steps, updated_at=now)
        self.executions[execution.id] = execution
        if token:
            self._tokens[token] = execution.id
        self._advance(execution, now)
        return self._started(execution)

    def _started(self, e: Execution) -> dict[str, Any]:
        other = [r for r in self.plans[e.plan_arn].body["regions"] if r != e.region]
        activate, deactivate = (e.region, other[0]) if e.action == "activate" else (other[0], e.region)
        return {"executionId": e.id, "plan": e.plan_arn, "planVersion": e.plan_version,
                "activateRegion": activate, "deactivateRegion": deactivate}

    def _execution(self, plan_arn: Any, execution_id: Any) -> Execution:
        self._plan(plan_arn)
        found = self.executions.get(str(execution_id))
        if found is None or found.plan_arn != plan_arn:
            raise _not_found(f"execution {execution_id} of plan {plan_arn}")
        return found

    def _execution_json(self, e: Execution, full: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"planArn": e.plan_arn, "executionId": e.id, "version": e.plan_version,
                               "updatedAt": to_datetime(e.updated_at), "startTime": to_datetime(e.started_at),
                               "mode": e.mode, "executionState": e.state, "executionAction": e.action,
                               "executionRegion": e.region}
        if e.comment:
            out["comment"] = e.comment
        if e.ended_at is not None:
            out["endTime"] = to_datetime(e.ended_at)
        if full:
            out["stepStates"] = [s.json(e.mode) for s in e.steps]
            out["plan"] = self.plans[e.plan_arn].json()
            if e.state == "completed" and e.ended_at is not None:
                out["actualRecoveryTime"] = f"PT{e.ended_at - e.started_at:.0f}S"
        return out

    def _op_GetPlanExecution(self, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_GetPlanExecution.html
        return self._execution_json(self._execution(p.get("planArn"), p.get("executionId")))

    def _op_ListPlanExecutions(self, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_ListPlanExecutions.html
        self._plan(p.get("planArn"))
        items = [self._execution_json(e, full=False) for e in self.executions.values()
                 if e.plan_arn == p["planArn"] and p.get("state") in (None, e.state)]
        return {"items": items}

    def _op_CancelPlanExecution(self, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_CancelPlanExecution.html
        e = self._execution(p.get("planArn"), p.get("executionId"))
        if e.state in FINISHED:
            raise SwitchError("IllegalStateException", f"execution {e.id} is {e.state}", 400)
        now = self.clock.now()
        for step in e.steps:
            if step.status in ("running", "pendingApproval"):
                step.status, step.ended_at = "canceled", now
        e.state, e.ended_at, e.updated_at = "canceled", now, now
        return {}

    def _op_ApprovePlanExecutionStep(self, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_ApprovePlanExecutionStep.html
        e = self._execution(p.get("planArn"), p.get("executionId"))
        step = next((s for s in e.steps if s.name == p.get("stepName")), None)
        if step is None or step.status != "pendingApproval":
            raise SwitchError("IllegalStateException", f"step {p.get('stepName')} of execution {e.id} is not "
                                                       "waiting for approval", 400)
        if p.get("approval") not in ("approve", "decline"):
            raise _invalid("approval is approve or decline")
        now = self.clock.now()
        step.ended_at = now
        if p["approval"] == "decline":
            step.status = "failed"
            e.state, e.ended_at, e.updated_at = "failed", now, now
        else:
            step.status, e.state, e.updated_at = "completed", "inProgress", now
            self._advance(e, now)
        return {}

    # --- the clock -----------------------------------------------------------------------

    def _advance(self, e: Execution, now: float) -> None:
        """Run the execution's steps up to `now`, one after the other."""
        while e.state == "inProgress":
            step = next((s for s in e.steps if s.status in ("notStarted", "running")), None)
            if step is None:
                e.state, e.ended_at = "completed", e.steps[-1].ended_at if e.steps else now
                e.updated_at = e.ended_at or now
                return
            if step.status == "notStarted":
                previous = [s.ended_at for s in e.steps if s.ended_at is not None]
                step.status, step.started_at = "running", max([e.started_at, *previous])
                e.updated_at = step.started_at
                if step.block == "ManualApproval":
                    step.status, e.state = "pendingApproval", "pendingManualApproval"
                    return
            assert step.started_at is not None
            done = step.started_at + self.step_seconds
            if now < done:
                return
            step.ended_at, e.updated_at = done, done
            if step.name in self.fail_steps or not self._effect(e, step):
                step.status, e.state = "failed", "pausedByFailedStep"
                return
            step.status = "completed"

    def _effect(self, e: Execution, step: StepRun) -> bool:
        """A routing control step's change; False when it failed."""
        if step.block != "ARCRoutingControl" or self.routing is None or e.action == "postRecovery":
            return True
        listed = (step.config.get("arcRoutingControlConfig") or {}).get("regionAndRoutingControls") or {}
        flip = {"On": "Off", "Off": "On"}
        entries = [{"RoutingControlArn": c["routingControlArn"],
                    "RoutingControlState": c["state"] if e.action == "activate" else flip[c["state"]]}
                   for c in listed.get(e.region) or []]
        try:
            if entries:
                self.routing(entries)
        except Exception:  # noqa: BLE001 - a failed update fails the step, as a real block would
            return False
        return True


def arc_routing(entries: list[dict[str, str]]) -> None:
    """Set routing controls on the sandbox's ARC fake (the one `arc_state.activate` chose)."""
    from drtool.sandbox.fakes.arc_state import active

    fake = active()
    if fake is None:
        raise SwitchError("IllegalStateException", "the sandbox has no ARC routing controls", 400)
    fake.update_states(entries)
