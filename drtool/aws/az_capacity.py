"""AZ loss, honestly: stop an Auto Scaling group launching into the lost Availability Zone.

A black-holed zone is not a lost zone: Auto Scaling keeps launching into its subnets. AWS
FIS's "AZ Availability: Power Interruption" scenario makes launches there fail with
insufficient-capacity errors (`aws:ec2:asg-insufficient-instance-capacity-error`, FIS
actions reference, https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html).
Without FIS the nearest boto3 equivalent is to take the zone's subnets out of the group's
`VPCZoneIdentifier` (UpdateAutoScalingGroup, Amazon EC2 Auto Scaling API Reference), which
this action does, with a compare-and-swap undo that puts them back. `az` may be an AZ ID
(`use1-az1`), translated to the group's account's zone name first (`drtool.aws.az_ids`).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from drtool.aws.az_ids import ZoneRef, resolve_az
from drtool.context import StepContext
from drtool.errors import ChangedSince, DrToolError
from drtool.registry import Params, action, undo
from drtool.resources import Outcome, Resource, UndoSpec

IAM = ["autoscaling:DescribeAutoScalingGroups", "ec2:DescribeSubnets", "ec2:DescribeAvailabilityZones",
       "autoscaling:UpdateAutoScalingGroup"]


class ExcludeParams(Params):
    group: str = Field(description="the Auto Scaling group")
    az: str = Field(description="the lost Availability Zone, by name (us-east-1a) or AZ ID (use1-az1); "
                                "its subnets leave the group")


def _group(ctx: StepContext, name: str, region: str | None) -> dict[str, Any] | None:
    found = ctx.client("autoscaling", region).describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    return next(iter(found.get("AutoScalingGroups") or []), None)


def _subnets(group: dict[str, Any]) -> list[str]:
    return [s for s in (group.get("VPCZoneIdentifier") or "").split(",") if s]


def _touches(ctx: StepContext, params: ExcludeParams) -> list[Resource]:
    region = params.region or ctx.region
    group = _group(ctx, params.group, region)
    if group is None:
        return [Resource(id=params.group, type="autoscaling:group", region=region, attrs={"missing": True})]
    return [Resource(id=params.group, type="autoscaling:group", region=region, arn=group.get("AutoScalingGroupARN"),
                     tags={t["Key"]: t["Value"] for t in group.get("Tags") or []})]


def _zone(zone: ZoneRef) -> dict[str, str]:
    """The zone for the outcome's data: its name in this account and the AZ ID it was given as."""
    return {"az": zone.name, **({"az_id": zone.zone_id} if zone.zone_id else {})}


@action("autoscaling.exclude-az", params=ExcludeParams, undo="autoscaling.restore-subnets", touches=_touches,
        iam=IAM, summary="Stop an Auto Scaling group launching into a lost AZ: remove the zone's subnets from "
                         "its VPCZoneIdentifier (undo: put them back)")
def exclude_az(ctx: StepContext, params: ExcludeParams, targets: list[Resource]) -> Outcome:
    region = params.region or ctx.region
    group = _group(ctx, params.group, region)
    if group is None:
        raise DrToolError(f"Auto Scaling group {params.group} was not found in {region}")
    zone = resolve_az(ctx, params.az, region)
    subnets = _subnets(group)
    if not subnets:
        raise DrToolError(f"Auto Scaling group {params.group} has no VPC subnets (VPCZoneIdentifier) to narrow")
    found = ctx.client("ec2", region).describe_subnets(SubnetIds=subnets)["Subnets"]
    lost = sorted(s["SubnetId"] for s in found if s.get("AvailabilityZone") == zone.name)
    keep = [s for s in subnets if s not in lost]
    if not lost:
        return Outcome(f"Auto Scaling group {params.group} has no subnet in {zone.label}; nothing to exclude.",
                       {"excluded": [], **_zone(zone)})
    if not keep:
        raise DrToolError(f"every subnet of Auto Scaling group {params.group} is in {zone.label}: it would have "
                          "nowhere to launch", "the group must span more than the lost zone to survive its loss")
    client = ctx.client("autoscaling", region)
    ctx.change(f"remove {zone.label}'s subnet(s) {', '.join(lost)} from Auto Scaling group {params.group}",
               lambda: client.update_auto_scaling_group(AutoScalingGroupName=params.group,
                                                        VPCZoneIdentifier=",".join(keep)),
               undo=UndoSpec("autoscaling.restore-subnets",
                             {"group": params.group, "original": subnets, "applied": keep, "region": region}, region),
               resources=[group.get("AutoScalingGroupARN") or params.group])
    return Outcome(f"Auto Scaling group {params.group} no longer launches into {zone.label} "
                   f"(removed {', '.join(lost)}).", {"excluded": lost, "kept": keep, **_zone(zone)})


class RestoreParams(Params):
    group: str
    original: list[str] = Field(min_length=1, description="the group's subnets before the drill")
    applied: list[str] = Field(min_length=1, description="the subnets the drill left it with")


@undo("autoscaling.restore-subnets", params=RestoreParams,
      iam=["autoscaling:DescribeAutoScalingGroups", "autoscaling:UpdateAutoScalingGroup"],
      summary="Give an Auto Scaling group back the subnets a drill removed (only if it still has the drill's set)")
def restore_subnets(ctx: StepContext, params: RestoreParams) -> str:
    """Compare and swap: the drill's set -> restore; the original set -> done; else left as found."""
    group = _group(ctx, params.group, params.region)
    if group is None:
        return f"Auto Scaling group {params.group} no longer exists; nothing to restore."
    now = set(_subnets(group))
    if now == set(params.original):
        return f"Auto Scaling group {params.group} already has its subnets {', '.join(params.original)}."
    if now != set(params.applied):
        raise ChangedSince(f"Auto Scaling group {params.group} has subnets {', '.join(sorted(now))}, neither the "
                           f"drill's {', '.join(params.applied)} nor the original {', '.join(params.original)}")
    ctx.client("autoscaling", params.region).update_auto_scaling_group(
        AutoScalingGroupName=params.group, VPCZoneIdentifier=",".join(params.original))
    return f"Auto Scaling group {params.group} has its subnets {', '.join(params.original)} again."
