"""AWS's documented delays: the one table the sandbox's clock comes from (issue 11.4).

Each row is an AWS default (or, where AWS documents no figure, an assumption marked as
such) with the page it comes from. The sandbox runs AWS's clock `SANDBOX_TIME_SCALE`
times faster (the runner's constant: the same factor shrinks a drill's `impact.within`
and `recovery.stable_for`), so `sandbox_seconds()` is what the simulator waits.
docs/sandbox-delays.md is generated from this table (`render_markdown`); a test keeps
them in sync: `python -m drtool.sandbox.delays > docs/sandbox-delays.md`.
"""

from __future__ import annotations

from dataclasses import dataclass

from drtool.runner import SANDBOX_TIME_SCALE

__all__ = ["DELAYS", "SANDBOX_TIME_SCALE", "Delay", "aws_value", "render_markdown", "sandbox_seconds"]

_ELB_HC = ("Health checks for Application Load Balancer target groups",
           "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html")
_ASG_GRACE = ("Set the health check grace period for an Auto Scaling group",
              "https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html")
_ASG_HC = ("Health checks for instances in an Auto Scaling group",
           "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-health-checks.html")
_R53_HC = ("How Amazon Route 53 determines whether a health check is healthy",
           "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html")
_R53_CFG = ("Route 53 API HealthCheckConfig (RequestInterval, FailureThreshold)",
            "https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html")
_R53_FAQ = ("Amazon Route 53 FAQs: DNS failover and TTL",
            "https://aws.amazon.com/route53/faqs/")
_S3_RTC = ("Meeting compliance requirements with S3 Replication Time Control",
           "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html")
_FIS = ("AWS FIS actions reference (aws:s3:bucket-pause-replication, "
        "aws:dynamodb:global-table-pause-replication)",
        "https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html")
_DDB = ("DynamoDB global tables: monitoring ReplicationLatency",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_monitoring.html")
_AURORA_PROMOTE = ("Promoting a read replica to a DB cluster for Aurora MySQL",
                   "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Replication.CrossRegion.Promote.html")
_FAILOVER = ("RDS API FailoverDBCluster",
             "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_FailoverDBCluster.html")
_MULTI_AZ = ("Failing over a Multi-AZ DB instance for Amazon RDS",
             "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZ.Failover.html")
_AURORA_DNS = ("AWS re:Post knowledge center: Aurora cluster endpoint connects to a reader (DNS TTL)",
               "https://repost.aws/knowledge-center/aurora-mysql-redirected-endpoint-writer")
_EC2_LIFECYCLE = ("Amazon EC2 instance state changes (pending -> running)",
                  "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html")


@dataclass(frozen=True)
class Delay:
    key: str
    value: float | str           # seconds (unit "s"), a count, or a setting
    unit: str                    # "s", "count" or "setting"
    what: str
    source: tuple[str, str]      # (title, URL)
    documented: bool = True      # False: AWS gives no figure; the value is this table's assumption
    note: str = ""


DELAYS: tuple[Delay, ...] = (
    Delay("alb_health_check_interval", 30.0, "s", "ALB target health-check interval", _ELB_HC,
          note="HealthCheckIntervalSeconds default (HTTP/HTTPS target groups)"),
    Delay("alb_healthy_threshold", 5, "count", "ALB consecutive successes before healthy", _ELB_HC,
          note="HealthyThresholdCount default"),
    Delay("alb_unhealthy_threshold", 2, "count", "ALB consecutive failures before unhealthy", _ELB_HC,
          note="UnhealthyThresholdCount default"),
    Delay("asg_health_check_type", "EC2", "setting", "Auto Scaling health-check type", _ASG_HC,
          note="EC2 is the default: the group then ignores load-balancer health, so a network "
               "black-hole leaves its instances InService/Healthy; ELB checks notice it"),
    Delay("asg_health_check_grace_period", 300.0, "s", "Auto Scaling health-check grace period", _ASG_GRACE,
          note="console default; 0 when the group is created through the CLI or an SDK"),
    Delay("instance_launch", 60.0, "s", "EC2 instance launch (pending -> running, InService)", _EC2_LIFECYCLE,
          documented=False, note="AWS documents no figure; one minute is this table's assumption"),
    Delay("route53_request_interval", 30.0, "s", "Route 53 health-checker request interval", _R53_CFG,
          note="RequestInterval default (10 s is the fast option)"),
    Delay("route53_failure_threshold", 3, "count", "Route 53 consecutive checks to change status", _R53_HC,
          note="FailureThreshold default"),
    Delay("route53_ttl", 60.0, "s", "TTL of a failover record", _R53_FAQ,
          note="AWS recommends 60 s or less for DNS failover; ELB alias records have a fixed 60 s"),
    Delay("s3_replication_lag", 30.0, "s", "S3 replication of a new object", _S3_RTC, documented=False,
          note="AWS: most objects replicate within seconds, 99.99% within 15 minutes with RTC; "
               "30 s is this table's pick inside 'seconds'"),
    Delay("s3_pause_leak", 3600.0, "s", "S3 writes still replicating after a pause", _FIS, documented=False,
          note="per ../shared/research/real-aws-review.md C2 (FIS: up to 1 h); not re-found in the docs corpus"),
    Delay("dynamodb_replication_lag", 1.0, "s", "DynamoDB global-table replication", _DDB, documented=False,
          note="ReplicationLatency is published per Region pair; about a second is this table's assumption"),
    Delay("dynamodb_pause_leak", 300.0, "s", "DynamoDB writes still replicating after a pause", _FIS,
          documented=False,
          note="per ../shared/research/real-aws-review.md C2 (FIS: up to 5 min); not re-found in the docs corpus"),
    Delay("rds_promotion", 180.0, "s", "RDS read-replica promotion to writable", _AURORA_PROMOTE, documented=False,
          note="AWS: 'several minutes or longer, depending on the size'; three minutes is this table's pick"),
    Delay("aurora_failover", 35.0, "s", "Aurora / Multi-AZ DB cluster failover", _FAILOVER,
          note="'Failover times are typically less than 35 seconds'"),
    Delay("rds_multi_az_failover", 120.0, "s", "Multi-AZ DB instance failover (upper typical)", _MULTI_AZ,
          note="'typically 60-120 seconds'; not used by the sandbox estate (no Multi-AZ instance)"),
    Delay("aurora_dns_ttl", 5.0, "s", "Aurora cluster-endpoint DNS TTL (lag behind IsClusterWriter)", _AURORA_DNS,
          note="clients may cache longer; the sandbox has no cluster-endpoint DNS, so this lag is "
               "documented here but not simulated"),
    Delay("restore_duration", 90.0, "s", "Snapshot / backup restore to available", _AURORA_PROMOTE,
          documented=False, note="AWS documents no figure (size-dependent); this table's assumption"),
    Delay("backup_duration", 30.0, "s", "AWS Backup backup job", _AURORA_PROMOTE, documented=False,
          note="AWS documents no figure; this table's assumption"),
    Delay("copy_duration", 60.0, "s", "AWS Backup copy job", _AURORA_PROMOTE, documented=False,
          note="AWS documents no figure; this table's assumption"),
)

_BY_KEY = {d.key: d for d in DELAYS}


def aws_value(key: str) -> float:
    """The AWS figure of a numeric row (seconds or a count)."""
    value = _BY_KEY[key].value
    if isinstance(value, str):
        raise TypeError(f"{key} is a setting, not a number")
    return float(value)


def sandbox_seconds(key: str, time_scale: float = SANDBOX_TIME_SCALE) -> float:
    """Seconds the sandbox waits for a row (counts are not scaled: use `aws_value`)."""
    if _BY_KEY[key].unit != "s":
        raise TypeError(f"{key} is a {_BY_KEY[key].unit}, not a duration")
    return aws_value(key) * time_scale


def derived(time_scale: float = SANDBOX_TIME_SCALE) -> dict[str, float]:
    """The composite waits the simulator uses, in sandbox seconds."""
    alb = aws_value("alb_health_check_interval")
    r53 = aws_value("route53_request_interval")
    return {
        # unreachable target -> `unhealthy`: interval x unhealthy threshold
        "target_unhealthy_after": alb * aws_value("alb_unhealthy_threshold") * time_scale,
        # reachable again -> `healthy`: interval x healthy threshold
        "target_healthy_after": alb * aws_value("alb_healthy_threshold") * time_scale,
        # launched member -> healthy target: launch, then interval x healthy threshold
        "replacement_delay": (aws_value("instance_launch") + alb * aws_value("alb_healthy_threshold")) * time_scale,
        # a region's health changes -> Route 53 health check changes: interval x failure threshold
        "dns_failover_after": r53 * aws_value("route53_failure_threshold") * time_scale,
    }


def render_markdown(time_scale: float = SANDBOX_TIME_SCALE) -> str:
    """docs/sandbox-delays.md."""
    lines = [
        "# Sandbox delays",
        "",
        "<!-- generated by `python -m drtool.sandbox.delays`; edit drtool/sandbox/delays.py -->",
        "",
        f"The sandbox runs AWS's clock {1 / time_scale:g}x faster (`time_scale` = 1/{1 / time_scale:g}, the",
        "runner's `SANDBOX_TIME_SCALE`; a drill's `impact.within` and `recovery.stable_for` shrink by",
        "the same factor). Every wait of the simulator comes from this table; an estate's",
        "`behaviour:` may override a derived figure for a test. *Assumed* rows are figures AWS does",
        "not document; the note says what AWS does say.",
        "",
        "| Key | What | AWS | Sandbox | Source | Note |",
        "|---|---|---|---|---|---|",
    ]
    for d in DELAYS:
        if d.unit == "s":
            aws, sandbox = f"{float(d.value):g} s", f"{float(d.value) * time_scale:.3g} s"
        else:
            aws = sandbox = f"{d.value:g}" if not isinstance(d.value, str) else d.value
        kind = "" if d.documented else " *(assumed)*"
        lines.append(f"| `{d.key}` | {d.what}{kind} | {aws} | {sandbox} | [{d.source[0]}]({d.source[1]}) "
                     f"| {d.note} |")
    lines += ["", "Derived waits (sandbox seconds):", ""]
    lines += [f"- `{k}`: {v:.3g} s" for k, v in derived(time_scale).items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
