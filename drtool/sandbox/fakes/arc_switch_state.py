"""Fake ARC Region switch (moto has none): plans and plan executions on a clock.

Operations follow the ARC Region switch API reference
(https://docs.aws.amazon.com/arc-region-switch/latest/api/API_Operations.html) and botocore's
service model (`arc-region-switch` 2022-07-26: members, enums, error shapes, paginators); how
an execution moves, and what graceful and ungraceful mode change, is in `arc_switch_run`:

    StartPlanExecution -> inProgress; the steps of the workflow for (action, targetRegion) run
    one after the other, each notStarted -> running -> completed after `step_seconds`;
    every step completed                   -> completed
    a ManualApproval step                  -> step pendingApproval, execution pendingManualApproval
        ApprovePlanExecutionStep approve   -> the step completes, the execution goes on
        ApprovePlanExecutionStep decline   -> step failed, execution failed
    a step named in `fail_steps`           -> step failed, execution pausedByFailedStep
    UpdatePlanExecution pause / resume     -> pausedByOperator / back in progress
    an ARCRoutingControl step              -> on completion, sets the routing controls listed for
                                              the Region (through `routing`, the sandbox's ARC fake)
    CancelPlanExecution (not finished)     -> running/waiting step canceled, execution canceled

StartPlanExecution's `clientToken` (the model's idempotencyToken): "If this token matches a
previous request, the service ignores the request and returns the result of the original
successful request"; a token reused with other parameters is a ConflictException ("The
client token was already used with different request parameters"). A `postRecovery`
execution needs `recoveryExecutionId`, "the execution identifier of the recovery execution
that ran in the opposite region" (API_StartPlanExecution.html). Execution ids follow the
model's `recoveryExecutionId` pattern, `<Region>/<16 hex digits>`; the Region is the one the
call was made in (the sandbox's choice: the reference does not say which).

ARC routing control block (ARC developer guide, "ARC routing control execution block",
https://docs.aws.amazon.com/r53recovery/latest/dg/arc-routing-controls-block.html): "when you
execute the plan and specify to activate Region A, the workflow ... updates the specified
routing controls" to the states configured for Region A; deactivating a Region stops traffic
to it, modelled here as the opposite of its configured states. A routing update that fails
(e.g. a control panel not DEPLOYED) fails the step. Other execution blocks have no effect on
other fakes.

GetPlanExecution pages `stepStates` and ListPlanExecutions pages `items` (botocore's
paginators: nextToken / maxResults 1-100; `page_size` is the sandbox's default page). Errors
stay within each operation's modeled error shapes, with their HTTP status: CancelPlanExecution
and ApprovePlanExecutionStep model only ResourceNotFound and AccessDenied, so cancelling a
finished execution is answered with success (nothing changes) and approving a step that is
not waiting is a ResourceNotFoundException. Plan ARNs and their pattern: API_Plan.html
(`arn:aws:arc-region-switch::ACCOUNT:plan/NAME:xxxxxx`); plans are global (no Region in the ARN).
"""

from __future__ import annotations

import re
import secrets
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drtool.sandbox.fakes.arc_switch_run import FINISHED, Execution, StepRun, advance, cancel, update
from drtool.sandbox.fakes.backup_state import BackupError
from drtool.timing import Clock, to_datetime

ACTIONS = ("activate", "deactivate", "postRecovery")      # the model's ExecutionAction
MODES = ("graceful", "ungraceful")                        # ExecutionMode
_EXECUTION_ID = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+/[0-9a-fA-F]{16}$")   # StartPlanExecution recoveryExecutionId
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
                  "ListPlanExecutions", "CancelPlanExecution", "UpdatePlanExecution", "ApprovePlanExecutionStep")

    def __init__(self, clock: Clock, account: str, step_seconds: float = 2.0, page_size: int = 100) -> None:
        self.clock, self.account, self.step_seconds, self.page_size = clock, account, step_seconds, page_size
        self.plans: dict[str, Plan] = {}
        self.executions: dict[str, Execution] = {}
        self.fail_steps: set[str] = set()      # step names that fail (to rehearse a failed switch)
        # sets routing control states [{RoutingControlArn, RoutingControlState}] (the sandbox: arc_routing)
        self.routing: Callable[[list[dict[str, str]]], Any] | None = None
        self._tokens: dict[str, tuple[dict[str, Any], str]] = {}   # clientToken: (request, execution id)
        self._region = "us-east-1"                                    # the Region of the call being answered
        self._lock = threading.Lock()

    def call(self, operation: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation not in self.operations:
            raise SwitchError("IllegalArgumentException", f"{operation} is not served by the sandbox", 400)
        with self._lock:
            for execution in self.executions.values():
                self._advance(execution, self.clock.now())
            self._region = region
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
        request = {k: v for k, v in p.items() if k != "clientToken"}
        if token and token in self._tokens:
            earlier, execution_id = self._tokens[token]
            if earlier != request:
                raise SwitchError("ConflictException", f"client token {token} was already used with different "
                                                       "request parameters", 409)
            return self._started(self.executions[execution_id])
        plan = self._plan(p.get("planArn"))
        # `mode` is optional in the model, no default documented: the sandbox runs graceful (the planned path)
        region, action, mode = p.get("targetRegion"), p.get("action"), p.get("mode") or "graceful"
        if action not in ACTIONS:
            raise _invalid(f"action {action!r} is not one of {', '.join(ACTIONS)}")
        if mode not in MODES:
            raise _invalid(f"mode {mode!r} is not graceful or ungraceful")
        if region not in plan.body["regions"]:
            raise _invalid(f"targetRegion {region} is not one of the plan's regions {plan.body['regions']}")
        recovery = self._recovery(plan, p, str(region)) if action == "postRecovery" else None
        if any(e.plan_arn == plan.arn and e.state not in FINISHED for e in self.executions.values()):
            raise SwitchError("IllegalStateException", f"plan {plan.arn} already has an execution in progress", 400)
        workflows = [w for w in plan.body.get("workflows") or [] if w.get("workflowTargetAction") == action
                     and w.get("workflowTargetRegion") in (None, region)]
        if not workflows:
            raise _invalid(f"plan {plan.arn} has no workflow to {action} {region}")
        now = self.clock.now()
        steps = [StepRun(s["name"], s.get("executionBlockType", ""), dict(s.get("executionBlockConfiguration") or {}))
                 for s in workflows[0].get("steps") or []]
        execution = Execution(f"{self._region}/{secrets.token_hex(8)}", plan.arn, plan.version, str(action),
                              str(region), str(mode), p.get("comment"), now, steps, recovery, updated_at=now)
        self.executions[execution.id] = execution
        if token:
            self._tokens[token] = (request, execution.id)
        self._advance(execution, now)
        return self._started(execution)

    def _recovery(self, plan: Plan, p: dict[str, Any], region: str) -> str:
        """The recovery execution a postRecovery execution follows (`recoveryExecutionId`)."""
        ident = p.get("recoveryExecutionId")
        if not ident:
            raise _invalid("recoveryExecutionId is required when starting a post-recovery execution")
        if not isinstance(ident, str) or not _EXECUTION_ID.match(ident):
            raise _invalid(f"recoveryExecutionId {ident!r} does not match {_EXECUTION_ID.pattern}")
        recovery = self.executions.get(ident)
        if recovery is None or recovery.plan_arn != plan.arn or recovery.action == "postRecovery":
            raise _not_found(f"recovery execution {ident} of plan {plan.arn}")
        if recovery.region == region:
            raise _invalid(f"post-recovery runs in the Region opposite the recovery execution's ({recovery.region})")
        return ident

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

    def _execution_json(self, e: Execution) -> dict[str, Any]:
        out: dict[str, Any] = {"planArn": e.plan_arn, "executionId": e.id, "version": e.plan_version,
                               "updatedAt": to_datetime(e.updated_at), "startTime": to_datetime(e.started_at),
                               "mode": e.mode, "executionState": e.state, "executionAction": e.action,
                               "executionRegion": e.region}
        if e.comment:
            out["comment"] = e.comment
        if e.recovery_execution_id:
            out["recoveryExecutionId"] = e.recovery_execution_id
        if e.ended_at is not None:
            out["endTime"] = to_datetime(e.ended_at)
        if e.state == "completed" and e.ended_at is not None:
            out["actualRecoveryTime"] = f"PT{e.ended_at - e.started_at:.0f}S"
        return out

    def _page(self, items: list[Any], p: dict[str, Any]) -> tuple[list[Any], str | None]:
        """One page of `items` and the token of the next (maxResults 1-100, as the model bounds it)."""
        size = p.get("maxResults") or self.page_size
        if not isinstance(size, int) or not 1 <= size <= 100:
            raise _invalid(f"maxResults {size!r} is not between 1 and 100")
        token = p.get("nextToken")
        start = 0
        if token is not None:
            if not isinstance(token, str) or not token.startswith("page:") or not token[5:].isdigit():
                raise _invalid(f"nextToken {token!r} was not returned by this operation")
            start = int(token[5:])
        end = start + size
        return items[start:end], (f"page:{end}" if end < len(items) else None)

    def _op_GetPlanExecution(self, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_GetPlanExecution.html
        e = self._execution(p.get("planArn"), p.get("executionId"))
        steps, token = self._page([s.json() for s in e.steps], p)
        out = {**self._execution_json(e), "stepStates": steps, "plan": self.plans[e.plan_arn].json()}
        return {**out, "nextToken": token} if token else out

    def _op_ListPlanExecutions(self, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_ListPlanExecutions.html (AbbreviatedExecution)
        plan = self._plan(p.get("planArn"))
        items, token = self._page([self._execution_json(e) for e in self.executions.values()
                                   if e.plan_arn == plan.arn and p.get("state") in (None, e.state)], p)
        return {"items": items, "nextToken": token} if token else {"items": items}

    def _op_CancelPlanExecution(self, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_CancelPlanExecution.html: "Cancels an
        # in-progress plan execution"; the model lists no state error, so a finished one is left as it is.
        e = self._execution(p.get("planArn"), p.get("executionId"))
        if e.state not in FINISHED:
            cancel(e, self.clock.now())
        return {}

    def _op_UpdatePlanExecution(self, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_UpdatePlanExecution.html
        e = self._execution(p.get("planArn"), p.get("executionId"))
        if e.state in FINISHED:
            raise SwitchError("IllegalStateException", f"execution {e.id} is {e.state}", 400)
        refused = update(e, str(p.get("action")), self.clock.now())
        if refused is not None:
            raise SwitchError("IllegalStateException", refused, 400)
        self._advance(e, self.clock.now())
        return {}

    def _op_ApprovePlanExecutionStep(self, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_ApprovePlanExecutionStep.html
        e = self._execution(p.get("planArn"), p.get("executionId"))
        step = next((s for s in e.steps if s.name == p.get("stepName")), None)
        if step is None or step.status != "pendingApproval" or e.state != "pendingManualApproval":
            raise _not_found(f"step {p.get('stepName')} of execution {e.id} waiting for approval")
        if p.get("approval") not in ("approve", "decline"):
            raise _invalid("approval is approve or decline")
        now = self.clock.now()
        step.ended_at = now
        if p["approval"] == "decline":
            step.status = "failed"
            e.end("failed", now)
        else:
            step.status, e.state, e.updated_at = "completed", "inProgress", now
            self._advance(e, now)
        return {}

    # --- the clock -----------------------------------------------------------------------

    def _advance(self, e: Execution, now: float) -> None:
        advance(e, now, self.step_seconds, self.fail_steps, self._effect)

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
