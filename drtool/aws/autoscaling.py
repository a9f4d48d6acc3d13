"""Auto Scaling: set a group's capacity (and restore it), and the capacity-healthy probe."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from drtool.context import StepContext
from drtool.errors import ChangedSince, DrToolError
from drtool.registry import Params, action, probe, undo
from drtool.resources import Outcome, ProbeResult, Resource, UndoSpec

_KEYS = (("min", "MinSize"), ("desired", "DesiredCapacity"), ("max", "MaxSize"))


def _group(ctx: StepContext, name: str, region: str | None) -> dict[str, Any] | None:
    groups = ctx.client("autoscaling", region).describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"]
    return groups[0] if groups else None


def _capacity(group: dict[str, Any]) -> dict[str, int]:
    return {key: group[aws_key] for key, aws_key in _KEYS}


def _fmt(cap: dict[str, int]) -> str:
    return f"min {cap['min']}/desired {cap['desired']}/max {cap['max']}"


def _check_order(cap: dict[str, int]) -> None:
    if not cap["min"] <= cap["desired"] <= cap["max"]:
        raise DrToolError(f"capacity {_fmt(cap)} is invalid: need min <= desired <= max",
                          "give the other bounds in `with:` too")


class SetCapacityParams(Params):
    group: str = Field(description="Auto Scaling group name")
    min: int | None = Field(default=None, ge=0)
    desired: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _some_value(self) -> SetCapacityParams:
        given = {k: getattr(self, k) for k, _ in _KEYS if getattr(self, k) is not None}
        if not given:
            raise ValueError("give at least one of min, desired, max")
        values = list(given.values())
        if values != sorted(values):
            raise ValueError("need min <= desired <= max")
        return self


def _touches_group(ctx: StepContext, params: SetCapacityParams) -> list[Resource]:
    """The group set-capacity changes, with its tags, for `require_tags` (read-only)."""
    region = params.region or ctx.region
    group = _group(ctx, params.group, region)
    tags = {t["Key"]: t["Value"] for t in (group or {}).get("Tags", [])}
    return [Resource(id=params.group, type="autoscaling:group", region=region, tags=tags,
                     arn=(group or {}).get("AutoScalingGroupARN"), attrs={"missing": group is None})]


@action("autoscaling.set-capacity", summary="Set min/desired/max of an Auto Scaling group (undo: restore them)",
        params=SetCapacityParams, undo="autoscaling.restore-capacity", touches=_touches_group,
        iam=["autoscaling:DescribeAutoScalingGroups", "autoscaling:UpdateAutoScalingGroup"])
def set_capacity(ctx: StepContext, params: SetCapacityParams, targets: list[Resource]) -> Outcome:
    """Reads the current values first; validates the merged result (moto does not)."""
    region = params.region or ctx.region
    group = _group(ctx, params.group, region)
    if group is None:
        raise DrToolError(f"Auto Scaling group {params.group!r} not found in {region}")
    before = _capacity(group)
    after = {k: v if getattr(params, k) is None else getattr(params, k) for k, v in before.items()}
    _check_order(after)
    if after == before:
        return Outcome(f"Group {params.group} is already at {_fmt(before)}; nothing changed.",
                       {"before": before, "after": after})
    client = ctx.client("autoscaling", region)
    ctx.change(f"set {params.group} to {_fmt(after)} (was {_fmt(before)})",
               lambda: client.update_auto_scaling_group(
                   AutoScalingGroupName=params.group,
                   **{aws_key: after[key] for key, aws_key in _KEYS if after[key] != before[key]}),
               undo=UndoSpec("autoscaling.restore-capacity",
                             {"group": params.group, "region": region, **before, "applied": after}, region),
               resources=[params.group])
    return Outcome(f"Set group {params.group} to {_fmt(after)} (was {_fmt(before)}).",
                   {"before": before, "after": after})


class RestoreCapacityParams(Params):
    group: str
    min: int = Field(ge=0)
    desired: int = Field(ge=0)
    max: int = Field(ge=0)
    applied: dict[str, int] | None = Field(default=None, description="min/desired/max the drill set (absent "
                                           "in journals written before the check existed)")


@undo("autoscaling.restore-capacity",
      summary="Restore an Auto Scaling group's min/desired/max (only if it still holds what the drill set)",
      params=RestoreCapacityParams,
      iam=["autoscaling:DescribeAutoScalingGroups", "autoscaling:UpdateAutoScalingGroup"])
def restore_capacity(ctx: StepContext, params: RestoreCapacityParams) -> str:
    """Compare and swap: at the original values -> done (restored, or never changed); at the
    drill's values -> restore; anything else (an operator or a scaling policy changed it since)
    -> left as found."""
    group = _group(ctx, params.group, params.region)
    if group is None:
        return f"Group {params.group} no longer exists; nothing to restore."
    wanted = {k: getattr(params, k) for k, _ in _KEYS}
    now = _capacity(group)
    if now == wanted:
        return f"Group {params.group} is already at {_fmt(wanted)}."
    if params.applied is not None and now != {k: params.applied.get(k) for k, _ in _KEYS}:
        raise ChangedSince(f"group {params.group} is at {_fmt(now)}, not the drill's {_fmt(params.applied)} "
                           f"(before the drill: {_fmt(wanted)})")
    ctx.client("autoscaling", params.region).update_auto_scaling_group(
        AutoScalingGroupName=params.group, **{aws_key: wanted[key] for key, aws_key in _KEYS})
    return f"Restored group {params.group} to {_fmt(wanted)} (was {_fmt(now)})."


class GroupParams(Params):
    group: str = Field(description="Auto Scaling group name")


@probe("autoscaling.capacity-healthy", summary="Every instance of the group is InService and Healthy, count = desired",
       params=GroupParams, iam=["autoscaling:DescribeAutoScalingGroups"])
def capacity_healthy(ctx: StepContext, params: GroupParams) -> ProbeResult:
    group = _group(ctx, params.group, params.region)
    if group is None:
        return ProbeResult(False, f"Auto Scaling group {params.group} was not found.")
    desired = group["DesiredCapacity"]
    members = group.get("Instances") or []
    healthy = sorted(i["InstanceId"] for i in members
                     if i.get("LifecycleState") == "InService" and i.get("HealthStatus") == "Healthy")
    others = [f"{i['InstanceId']} is {i.get('LifecycleState')}/{i.get('HealthStatus')}"
              for i in sorted(members, key=lambda i: i["InstanceId"]) if i["InstanceId"] not in healthy]
    ok = not others and len(healthy) == desired
    detail = f"Group {params.group} has {len(healthy)} of {desired} desired instance(s) InService and Healthy"
    if len(members) != desired:
        detail += f", {len(members)} in the group"
    detail += f"; {'; '.join(others)}." if others else "."
    return ProbeResult(ok, detail, {"desired": desired, "healthy": len(healthy), "instances": healthy,
                                    "members": len(members)})
