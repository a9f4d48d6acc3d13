"""ELBv2: the targets-healthy probe.

A target group given by name is looked up with DescribeTargetGroups(Names=[...]) once per
(session, region, name) and its ARN cached while the session lives, so a probe polled every
few seconds costs one DescribeTargetHealth per poll. When DescribeTargetHealth answers
TargetGroupNotFound for a cached ARN (the group was deleted, perhaps recreated under the same
name with a new ARN), the entry is dropped and the name looked up again (Elastic Load Balancing
API Reference, DescribeTargetHealth and DescribeTargetGroups "Errors",
https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from drtool.aws.errors import error_code
from drtool.aws.session_cache import SessionCache
from drtool.context import StepContext
from drtool.registry import Params, probe
from drtool.resources import ProbeResult

_ARNS: SessionCache[tuple[str, str], str] = SessionCache()     # (region, name) -> target group ARN


def _arn_by_name(client: Any, cache: dict[tuple[str, str], str], region: str, name: str) -> str | None:
    """The ARN of target group `name` (cached), or None when there is no such group."""
    arn = cache.get((region, name))
    if arn is None:
        try:
            arn = str(client.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"])
        except Exception as exc:
            if error_code(exc) != "TargetGroupNotFound":
                raise
            return None
        cache[(region, name)] = arn
    return arn


class TargetsHealthyParams(Params):
    target_group: str = Field(description="target group name or ARN")
    min: int | None = Field(default=None, ge=1, description="healthy targets needed (default: all registered)")


@probe("elbv2.targets-healthy", summary="At least `min` targets (default all) are healthy in a target group",
       params=TargetsHealthyParams,
       iam=["elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"])
def targets_healthy(ctx: StepContext, params: TargetsHealthyParams) -> ProbeResult:
    """Draining targets are on their way out and do not count towards "all registered"."""
    region = params.region or ctx.region
    client = ctx.client("elbv2", region)
    described = _health(client, _ARNS.of(ctx.aws), region, params.target_group)
    if described is None:
        return ProbeResult(False, f"Target group {params.target_group} was not found.")
    states = {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in described}
    healthy = sorted(t for t, s in states.items() if s == "healthy")
    registered = [t for t, s in states.items() if s != "draining"]
    need = max(1, params.min if params.min is not None else len(registered))
    others = [f"{t} is {s}" for t, s in sorted(states.items()) if s != "healthy"]
    detail = (f"{len(healthy)} of {len(registered)} registered target(s) healthy in {params.target_group} "
              f"(need {need})")
    detail += f"; {', '.join(others)}." if others else "."
    return ProbeResult(len(healthy) >= need, detail,
                       {"healthy": len(healthy), "registered": len(registered), "need": need,
                        "targets": healthy})


def _health(client: Any, cache: dict[tuple[str, str], str], region: str, group: str) -> list[dict[str, Any]] | None:
    """DescribeTargetHealth of `group` (name or ARN); None when a group given by name is gone.
    A cached ARN that is no longer found is dropped and the name looked up once more."""
    if group.startswith("arn:"):
        return list(client.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"])
    for _ in range(2):
        cached = (region, group) in cache
        arn = _arn_by_name(client, cache, region, group)
        if arn is None:
            return None
        try:
            return list(client.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"])
        except Exception as exc:
            if error_code(exc) != "TargetGroupNotFound" or not cached:
                raise
            cache.pop((region, group), None)
    return None
