"""ELBv2: the targets-healthy probe."""

from __future__ import annotations

from pydantic import Field

from drtool.aws.errors import error_code
from drtool.context import StepContext
from drtool.registry import Params, probe
from drtool.resources import ProbeResult


class TargetsHealthyParams(Params):
    target_group: str = Field(description="target group name or ARN")
    min: int | None = Field(default=None, ge=1, description="healthy targets needed (default: all registered)")


@probe("elbv2.targets-healthy", summary="At least `min` targets (default all) are healthy in a target group",
       params=TargetsHealthyParams,
       iam=["elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"])
def targets_healthy(ctx: StepContext, params: TargetsHealthyParams) -> ProbeResult:
    """Draining targets are on their way out and do not count towards "all registered"."""
    client = ctx.client("elbv2", params.region)
    arn = params.target_group
    if not arn.startswith("arn:"):
        try:
            arn = client.describe_target_groups(Names=[arn])["TargetGroups"][0]["TargetGroupArn"]
        except Exception as exc:
            if error_code(exc) != "TargetGroupNotFound":
                raise
            return ProbeResult(False, f"Target group {params.target_group} was not found.")
    described = client.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
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
