"""Amazon Application Recovery Controller (ARC): routing controls and Region switch plans.

Routing controls are On/Off switches on a cluster; a Route 53 health check of type
RECOVERY_CONTROL is healthy while its routing control is On, so flipping controls moves
traffic without touching Route 53's control plane (ARC developer guide, "Routing control
in ARC", https://docs.aws.amazon.com/r53recovery/latest/dg/routing-control.html).

States are read and changed through the cluster's data plane: "a set of five redundant
Regional endpoints"; "We recommend that your systems rotate through the regional endpoints,
and be prepared to retry with each of the available endpoints"
(https://docs.aws.amazon.com/r53recovery/latest/dg/getting-started-cli-routing.control-state.html).
The control-config API (clusters, panels, controls) is called in us-west-2 ("you must
specify the US West (Oregon) Region for Route 53 ARC API calls", API reference intro).
Setting a state is idempotent, so trying the next endpoint after a failure is safe.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from drtool.aws.errors import error_code
from drtool.context import StepContext
from drtool.errors import ChangedSince, DrToolError
from drtool.registry import Params, action, probe, undo
from drtool.resources import Outcome, ProbeResult, Resource, UndoSpec

CONTROL_REGION = "us-west-2"
State = Literal["On", "Off"]
READ_IAM = ["route53-recovery-control-config:DescribeRoutingControl",
            "route53-recovery-control-config:DescribeControlPanel",
            "route53-recovery-control-config:DescribeCluster", "route53-recovery-cluster:GetRoutingControlState"]
# Cluster clients are cached on the session object itself, per endpoint: they go with it, and a
# new session never finds another's (an id(session)-keyed cache could, once the id is reused).
_CLIENTS_ATTR = "_drtool_arc_cluster_clients"


def _state(value: Any) -> str:
    """YAML 1.1 reads unquoted On/Off as booleans: accept them."""
    if value is True or str(value).lower() == "on":
        return "On"
    if value is False or str(value).lower() == "off":
        return "Off"
    raise ValueError(f"routing control state must be On or Off, not {value!r}")


class ClusterParams(Params):
    cluster_arn: str | None = Field(default=None, description="the ARC cluster (default: found from the "
                                    "routing control's control panel through the control-config API)")
    endpoints: list[dict[str, str]] | None = Field(default=None, description="the cluster's endpoints as "
                                                   "[{Endpoint, Region}] (skips the control-config API)")


def endpoints_for(ctx: StepContext, params: ClusterParams, routing_control_arn: str) -> list[dict[str, str]]:
    """The cluster's regional endpoints, from the parameters or the control-config API."""
    if params.endpoints:
        return params.endpoints
    config = ctx.client("route53-recovery-control-config", CONTROL_REGION)
    cluster = params.cluster_arn
    if cluster is None:
        panel = config.describe_routing_control(RoutingControlArn=routing_control_arn)["RoutingControl"]
        cluster = config.describe_control_panel(ControlPanelArn=panel["ControlPanelArn"])["ControlPanel"]["ClusterArn"]
    found = config.describe_cluster(ClusterArn=cluster)["Cluster"]
    if found.get("Status") != "DEPLOYED" or not found.get("ClusterEndpoints"):
        raise DrToolError(f"ARC cluster {cluster} is {found.get('Status')} with no endpoints",
                          "wait until the cluster is DEPLOYED")
    return list(found["ClusterEndpoints"])


def _cluster_client(ctx: StepContext, endpoint: dict[str, str]) -> Any:
    """A route53-recovery-cluster client on one regional endpoint (one attempt per call: the
    caller moves on to the next endpoint instead of retrying)."""
    clients: dict[tuple[str, str], Any] = vars(ctx.aws).setdefault(_CLIENTS_ATTR, {})
    key = (endpoint["Endpoint"], endpoint["Region"])
    if key not in clients:
        clients[key] = ctx.aws.client_at("route53-recovery-cluster", endpoint["Region"], endpoint["Endpoint"])
    return clients[key]


def forget_cluster_clients(session: Any) -> None:
    """Drop a session's cached cluster clients (the next call makes new ones)."""
    vars(session).pop(_CLIENTS_ATTR, None)


# The route53-recovery-cluster API reference (Errors of https://docs.aws.amazon.com/routing-control/latest/
# APIReference/API_UpdateRoutingControlStates.html) says what each error means: bad input, no access, no
# such control, or too many states at once ("Try again with fewer") will not change on a resend ...
_FINAL = ("AccessDeniedException", "ValidationException", "ResourceNotFoundException", "ServiceLimitExceededException")
# ... while these say to try again: ConflictException "There was a conflict with this request. Try
# again."; EndpointTemporarilyUnavailableException "Try another cluster endpoint"; InternalServerException
# and ThrottlingException. Setting a state is idempotent (an absolute value), so a resend is safe.
CLUSTER_TRANSIENT = frozenset({"ConflictException", "EndpointTemporarilyUnavailableException",
                               "InternalServerException", "ThrottlingException"})


CLUSTER_ROUNDS = 3          # passes over the endpoints when every one failed transiently


def _transient(exc: BaseException) -> bool:
    from drtool.aws.retry import UNAUTHENTICATED_CODES, should_retry

    code = error_code(exc)
    return code in CLUSTER_TRANSIENT or should_retry(exc, read=True) or code in UNAUTHENTICATED_CODES


def cluster_call(ctx: StepContext, endpoints: list[dict[str, str]], operation: str, **kwargs: Any) -> Any:
    """Call `operation` on each endpoint in turn until one answers (AWS: "try each endpoint in
    rotation", "be prepared to retry with each of the available endpoints":
    https://docs.aws.amazon.com/r53recovery/latest/dg/routing-control.update.api.html).
    When every endpoint failed transiently (CLUSTER_TRANSIENT, 5xx, network, expired token), wait
    with jitter and go round again, at most CLUSTER_ROUNDS times: reads are safe to repeat,
    and UpdateRoutingControlState(s) sets absolute states, so a resend changes nothing more."""
    import random

    errors: list[str] = []
    for round_no in range(CLUSTER_ROUNDS):
        transient = True
        for endpoint in endpoints:
            try:
                return getattr(_cluster_client(ctx, endpoint), operation)(**kwargs)
            except Exception as exc:
                code = error_code(exc)
                if code in _FINAL:
                    raise
                transient = transient and _transient(exc)
                errors.append(f"{endpoint['Region']}: {code or type(exc).__name__}")
        if not transient or round_no + 1 == CLUSTER_ROUNDS:
            break
        ctx.clock.sleep(random.uniform(0, 0.5 * 2 ** round_no))
    raise DrToolError(f"no ARC cluster endpoint answered {operation} ({'; '.join(errors)})",
                      "check network access to the cluster endpoints")


def read_state(ctx: StepContext, endpoints: list[dict[str, str]], arn: str) -> str:
    return str(cluster_call(ctx, endpoints, "get_routing_control_state",
                            RoutingControlArn=arn)["RoutingControlState"])


def state_for_health_check(ctx: StepContext, arn: str) -> str | None:
    """A routing control's state for route53.points-to, None if it cannot be read."""
    try:
        return read_state(ctx, endpoints_for(ctx, ClusterParams(), arn), arn)
    except Exception:
        return None


# --- arc.set-routing-control ---------------------------------------------------------------


class SetParams(ClusterParams):
    turn_off: list[str] = Field(default_factory=list, description="routing control ARNs to set Off")
    turn_on: list[str] = Field(default_factory=list, description="routing control ARNs to set On (all are set "
                               "together in one UpdateRoutingControlStates call)")
    safety_rules_to_override: list[str] = Field(default_factory=list, description="safety rule ARNs to bypass")

    @property
    def controls(self) -> dict[str, str]:
        return {**{a: "Off" for a in self.turn_off}, **{a: "On" for a in self.turn_on}}


def panel_of(arn: str) -> str:
    """The control panel ARN a routing control ARN names (`.../controlpanel/ID/routingcontrol/ID`)."""
    return arn.split("/routingcontrol/", 1)[0]


def _touches(ctx: StepContext, params: SetParams) -> list[Resource]:
    """The control panels holding the controls, with their tags (routing controls carry none;
    clusters and control panels do: control-config ListTagsForResource), for `require_tags`."""
    config = ctx.client("route53-recovery-control-config", CONTROL_REGION)
    out = []
    for panel in sorted({panel_of(a) for a in params.controls}):
        try:
            tags = config.list_tags_for_resource(ResourceArn=panel).get("Tags") or {}
        except Exception as exc:
            if error_code(exc) not in ("ResourceNotFoundException", "ValidationException"):
                raise
            out.append(Resource(id=panel, type="route53-recovery-control:controlpanel", region="global",
                                arn=panel, attrs={"missing": True}))
            continue
        out.append(Resource(id=panel, type="route53-recovery-control:controlpanel", region="global", arn=panel,
                            tags=dict(tags)))
    return out


@action("arc.set-routing-control",
        summary="Set ARC routing controls On/Off through the cluster's regional endpoints (undo: put back the "
                "states they had, if they still hold what the drill set)",
        params=SetParams, undo="arc.restore-routing-control", touches=_touches,
        iam=[*READ_IAM, "route53-recovery-control-config:ListTagsForResource",
             "route53-recovery-cluster:UpdateRoutingControlStates"])
def set_routing_control(ctx: StepContext, params: SetParams, targets: list[Resource]) -> Outcome:
    if not params.controls:
        raise DrToolError("arc.set-routing-control needs at least one control", "give `turn_off` and/or `turn_on`")
    if set(params.turn_off) & set(params.turn_on):
        raise DrToolError("a routing control is in both `turn_off` and `turn_on`", "name each control once")
    endpoints = endpoints_for(ctx, params, next(iter(params.controls)))
    previous = {arn: read_state(ctx, endpoints, arn) for arn in params.controls}
    todo = {arn: s for arn, s in params.controls.items() if previous[arn] != s}
    if not todo:
        return Outcome("Every routing control already holds the requested state; nothing changed.",
                       {"states": previous})
    entries = [{"RoutingControlArn": arn, "RoutingControlState": s} for arn, s in todo.items()]
    kwargs: dict[str, Any] = {"UpdateRoutingControlStateEntries": entries}
    if params.safety_rules_to_override:
        kwargs["SafetyRulesToOverride"] = params.safety_rules_to_override
    words = ", ".join(f"{_name(a)} {previous[a]} -> {s}" for a, s in todo.items())
    ctx.change(f"set routing controls: {words}",
               lambda: cluster_call(ctx, endpoints, "update_routing_control_states", **kwargs),
               undo=UndoSpec("arc.restore-routing-control",
                             {"previous": {a: previous[a] for a in todo}, "applied": todo, "endpoints": endpoints,
                              "safety_rules_to_override": params.safety_rules_to_override, "region": params.region}),
               resources=list(todo))
    from drtool.aws.route53_health import ROUTING_CHANGES

    ROUTING_CHANGES[ctx.run_id] = ctx.clock.now()
    ctx.note(f"routing controls set at {ctx.clock.now():.3f}: {words}", states=todo)
    return Outcome(f"Set routing controls: {words}.", {"states": {**previous, **todo}, "previous": previous})


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


class RestoreParams(Params):
    previous: dict[str, State]
    applied: dict[str, State]
    endpoints: list[dict[str, str]]
    safety_rules_to_override: list[str] = Field(default_factory=list)


@undo("arc.restore-routing-control", summary="Put routing controls back to their states before the drill "
      "(compare and swap: only those still holding what the drill set)", params=RestoreParams,
      iam=["route53-recovery-cluster:GetRoutingControlState", "route53-recovery-cluster:UpdateRoutingControlStates"])
def restore_routing_control(ctx: StepContext, params: RestoreParams) -> str:
    now = {arn: read_state(ctx, params.endpoints, arn) for arn in params.previous}
    back = {a: s for a, s in params.previous.items() if now[a] != s}
    if not back:
        return "Every routing control is already as it was."
    changed = {a: now[a] for a in back if now[a] != params.applied.get(a)}
    if changed:   # On/Off has no third value: only a control the drill did not set lands here
        raise ChangedSince(f"routing controls {', '.join(map(_name, changed))} no longer hold the drill's state")
    entries = [{"RoutingControlArn": a, "RoutingControlState": s} for a, s in back.items()]
    kwargs: dict[str, Any] = {"UpdateRoutingControlStateEntries": entries}
    if params.safety_rules_to_override:
        kwargs["SafetyRulesToOverride"] = params.safety_rules_to_override
    cluster_call(ctx, params.endpoints, "update_routing_control_states", **kwargs)
    from drtool.aws.route53_health import ROUTING_CHANGES

    ROUTING_CHANGES[ctx.run_id] = ctx.clock.now()   # route53.points-to dates the answer it gives back from here
    after = {a: read_state(ctx, params.endpoints, a) for a in back}
    if after != back:
        raise DrToolError(f"set routing controls back, but they read {after}")
    return "Routing controls back: " + ", ".join(f"{_name(a)} {s}" for a, s in back.items()) + "."


# --- probe: arc.routing-control-state -------------------------------------------------------


class StateParams(ClusterParams):
    routing_control_arn: str
    state: State = Field(description="the state expected")

    @field_validator("state", mode="before")
    @classmethod
    def _one(cls, value: Any) -> str:
        return _state(value)


@probe("arc.routing-control-state", summary="An ARC routing control is in the expected state (read through the "
       "cluster endpoints)", params=StateParams, iam=READ_IAM)
def routing_control_state(ctx: StepContext, params: StateParams) -> ProbeResult:
    state = read_state(ctx, endpoints_for(ctx, params, params.routing_control_arn), params.routing_control_arn)
    name = _name(params.routing_control_arn)
    data = {"routing_control": params.routing_control_arn, "state": state}
    if state == params.state:
        return ProbeResult(True, f"Routing control {name} is {state}.", data)
    return ProbeResult(False, f"Routing control {name} is {state}, not {params.state}.", data)

