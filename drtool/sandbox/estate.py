"""Estate documents: the simulated AWS estate (resources) and how it behaves (timings).

An estate YAML names what `provision` creates through boto3 and the numbers the
simulator honours (`behaviour`, with per-resource overrides). The resolved numbers are
the sandbox's `truth`: what a drill run in the sandbox should measure.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from drtool.durations import parse_duration
from drtool.sandbox.delays import derived, sandbox_seconds

ESTATES_DIR = Path(__file__).parent / "estates"
DEFAULT_ACCOUNT: Literal["123456789012"] = "123456789012"  # moto's default account; the only one the sandbox serves

Seconds = Annotated[float, BeforeValidator(parse_duration)]
_DERIVED = derived()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Behaviour(_Model):
    """Timings of the simulated estate, in sandbox seconds. The defaults are AWS's documented
    delays scaled by the sandbox's time scale (drtool/sandbox/delays.py, docs/sandbox-delays.md);
    an estate overrides one only to test the simulator itself."""

    replacement_delay: Seconds = _DERIVED["replacement_delay"]   # member launched -> healthy target
    scale_up_delay: Seconds = _DERIVED["replacement_delay"]      # desired raised -> new member healthy
    target_unhealthy_after: Seconds = _DERIVED["target_unhealthy_after"]  # unreachable -> target unhealthy
    target_healthy_after: Seconds = _DERIVED["target_healthy_after"]      # reachable again -> healthy
    health_check_grace_period: Seconds = sandbox_seconds("asg_health_check_grace_period")
    dns_failover_after: Seconds = _DERIVED["dns_failover_after"]  # region health -> Route 53 check status
    promotion_delay: Seconds = sandbox_seconds("rds_promotion")   # RDS promote-read-replica -> writable
    failover_delay: Seconds = sandbox_seconds("aurora_failover")  # Aurora failover -> new writer takes writes
    s3_replication_lag: Seconds = sandbox_seconds("s3_replication_lag")
    s3_pause_leak: Seconds = sandbox_seconds("s3_pause_leak")     # in-flight writes still land after a pause
    dynamodb_replication_lag: Seconds = sandbox_seconds("dynamodb_replication_lag")
    dynamodb_pause_leak: Seconds = sandbox_seconds("dynamodb_pause_leak")
    rds_replica_lag: Seconds = 1.0        # the value published as AWS/RDS ReplicaLag (not a wait)
    dns_ttl: Seconds = sandbox_seconds("route53_ttl")   # a record change reaches clients after this
    restore_duration: Seconds = sandbox_seconds("restore_duration")
    backup_duration: Seconds = sandbox_seconds("backup_duration")
    copy_duration: Seconds = sandbox_seconds("copy_duration")
    tick: Seconds = 0.05                  # simulator step (sandbox resolution, not an AWS delay)
    metric_interval: Seconds = 0.5        # metric samples and alarm evaluation (sandbox resolution)


class Subnet(_Model):
    az: str                               # letter ("a") or full AZ name
    cidr: str | None = None               # default: the n-th /24 of the VPC


class ServesWith(_Model):
    """What a region needs to serve: a target group with a healthy target, a writable database."""

    target_group: str | None = None
    database: str | None = None


class Region(_Model):
    vpc_cidr: str
    subnets: list[Subnet]
    endpoint: str                         # hostname of this region's HTTP endpoint (DNS values)
    serves_with: ServesWith | None = None


class AutoScalingGroup(_Model):
    name: str
    region: str
    min: int
    desired: int
    max: int
    subnets: list[str]                    # AZ letters of the region's subnets
    target_group: str | None = None
    load_balancer: str | None = None
    health_check_type: Literal["EC2", "ELB"] = "ELB"
    instance_type: str = "t3.micro"
    replacement_delay: Seconds | None = None
    scale_up_delay: Seconds | None = None


class DbInstance(_Model):
    name: str
    region: str
    engine: str = "postgres"
    instance_class: str = "db.t3.micro"
    replica_of: str | None = None         # name of the source instance (any region)


class Cluster(_Model):
    name: str
    region: str
    engine: str = "aurora-postgresql"
    instances: list[str] = Field(default_factory=list)   # the first is the writer


class BucketReplication(_Model):
    rule_id: str
    destination: str
    prefix: str = ""
    lag: Seconds | None = None


class Bucket(_Model):
    name: str
    region: str
    versioned: bool = True
    replication: BucketReplication | None = None


class Table(_Model):
    name: str
    region: str
    partition_key: str
    sort_key: str | None = None
    replicas: list[str] = Field(default_factory=list)    # regions
    lag: Seconds | None = None


class FailoverTarget(_Model):
    value: str
    health_check: str | None = None       # region whose endpoint the health check watches
    routing_control: str | None = None    # ARC routing control (name) whose RECOVERY_CONTROL check guards it


class DnsRecord(_Model):
    name: str
    type: str = "CNAME"
    value: str | None = None              # a simple record
    primary: FailoverTarget | None = None  # or a failover pair
    secondary: FailoverTarget | None = None

    @model_validator(mode="after")
    def _one_form(self) -> DnsRecord:
        if (self.value is None) == (self.primary is None or self.secondary is None):
            raise ValueError(f"record {self.name}: give either value or primary+secondary")
        return self


class Dns(_Model):
    zone: str
    records: list[DnsRecord] = Field(default_factory=list)
    global_record: str                    # the record the global HTTP endpoint follows


class AlarmSpec(_Model):
    """An alarm on the 5xx count of an HTTP endpoint (`global` or a region's traffic)."""

    name: str
    region: str
    endpoint: str = "global"
    threshold: float = 1.0
    period: int = 10
    evaluation_periods: int = 1


class BackupSpec(_Model):
    kind: Literal["dynamodb-backup", "rds-snapshot"]
    name: str
    resource: str                         # table or DB instance name
    age: Seconds = 0.0


class Estate(_Model):
    name: str
    description: str = ""
    account: Literal["123456789012"] = DEFAULT_ACCOUNT
    primary_region: str
    dr_region: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    regions: dict[str, Region]
    groups: list[AutoScalingGroup] = Field(default_factory=list)
    databases: list[DbInstance] = Field(default_factory=list)
    clusters: list[Cluster] = Field(default_factory=list)
    buckets: list[Bucket] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    dns: Dns | None = None
    alarms: list[AlarmSpec] = Field(default_factory=list)
    backups: list[BackupSpec] = Field(default_factory=list)
    behaviour: Behaviour = Field(default_factory=Behaviour)

    @model_validator(mode="after")
    def _consistent(self) -> Estate:
        regions = set(self.regions)
        located: list[AutoScalingGroup | DbInstance | Cluster | Bucket | Table | AlarmSpec] = [
            *self.groups, *self.databases, *self.clusters, *self.buckets, *self.tables, *self.alarms]
        for item in located:
            if item.region not in regions:
                raise ValueError(f"{item.name}: region {item.region} is not in regions")
        for table in self.tables:
            if set(table.replicas) - regions:
                raise ValueError(f"table {table.name}: replica regions must be in regions")
        names = {d.name for d in self.databases}
        for db in self.databases:
            if db.replica_of and db.replica_of not in names:
                raise ValueError(f"database {db.name}: replica_of {db.replica_of} is not defined")
        return self

    def az(self, region: str, letter: str) -> str:
        return letter if letter.startswith(region) else f"{region}{letter}"

    def subnet_cidrs(self, region: str) -> list[tuple[str, str]]:
        """[(az, cidr)] of the region's subnets."""
        spec = self.regions[region]
        auto = ipaddress.ip_network(spec.vpc_cidr).subnets(new_prefix=24)
        next(auto)  # leave x.x.0.0/24 free, as consoles do
        return [(self.az(region, s.az), s.cidr or str(next(auto))) for s in spec.subnets]

    def endpoint_regions(self) -> dict[str, str]:
        """{endpoint hostname (no trailing dot): region}."""
        return {spec.endpoint.rstrip("."): region for region, spec in self.regions.items()}

    def truth(self) -> Truth:
        b = self.behaviour
        return Truth(
            **b.model_dump(),
            groups={g.name: GroupTruth(replacement_delay=_pick(g.replacement_delay, b.replacement_delay),
                                       scale_up_delay=_pick(g.scale_up_delay, b.scale_up_delay))
                    for g in self.groups},
            buckets={x.name: _pick(x.replication.lag, b.s3_replication_lag)
                     for x in self.buckets if x.replication},
            tables={t.name: _pick(t.lag, b.dynamodb_replication_lag) for t in self.tables if t.replicas},
        )


def _pick(value: float | None, default: float) -> float:
    return default if value is None else value


class GroupTruth(_Model):
    replacement_delay: float
    scale_up_delay: float


class Truth(Behaviour):
    """The behaviour numbers with per-resource values resolved (what drills should measure)."""

    groups: dict[str, GroupTruth] = Field(default_factory=dict)
    buckets: dict[str, float] = Field(default_factory=dict)   # replication lag per source bucket
    tables: dict[str, float] = Field(default_factory=dict)    # replication lag per table



def load_estate(name_or_path: str | Path) -> Estate:
    """A bundled estate by name (`webshop`) or an estate YAML by path."""
    import yaml

    from drtool.errors import UsageError

    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = ESTATES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        bundled = ", ".join(sorted(p.stem for p in ESTATES_DIR.glob("*.yaml")))
        raise UsageError(f"no estate {str(name_or_path)!r}", f"name a bundled estate ({bundled}) or a YAML file")
    try:
        data = yaml.safe_load(path.read_text())
        return Estate.model_validate(data)
    except (yaml.YAMLError, ValueError) as exc:
        raise UsageError(f"{path}: not a valid estate: {exc}") from exc
