"""The drill's `rpo:` block, and what every RPO meter returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from drtool.durations import parse_duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


# A name under the drill's `aws.accounts` (same form as documents.models.Name): the source is
# read (and its canaries written and removed) through that account's role.
AccountName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=128, description=(
    "read this source in that account: a name under the drill's `aws.accounts` (default: the drill's own)"))]


class S3CanaryConfig(_Strict):
    bucket: str
    region: str | None = None
    replica_bucket: str
    replica_region: str | None = None
    prefix: str = "drtool-canary/"
    account: AccountName | None = None


class DynamoDbCanaryConfig(_Strict):
    table: str
    region: str | None = None
    replica_table: str | None = Field(default=None, description="defaults to the same table name (global table replica)")
    replica_region: str
    key: str = Field(default="pk", description="partition key attribute name of the table")
    account: AccountName | None = None


class CanaryConfig(_Strict):
    s3: S3CanaryConfig | None = None
    dynamodb: DynamoDbCanaryConfig | None = None
    interval: float = Field(default=1.0, gt=0)
    warmup: float = Field(default=60.0, ge=0, description=(
        "before the fault, wait up to this long for a canary to reach the replica (steady state); "
        "0 skips the wait"))

    _interval = field_validator("interval", "warmup", mode="before")(lambda v: parse_duration(v))

    @model_validator(mode="after")
    def _a_store(self) -> CanaryConfig:
        if self.s3 is None and self.dynamodb is None:
            raise ValueError("a canary needs `s3` or `dynamodb` (or both)")
        return self


class RecoveryPointConfig(_Strict):
    resource_arn: str = Field(description="RDS instance/Aurora cluster, DynamoDB table, EBS volume or EFS file system")
    region: str | None = Field(default=None, description="read the recovery points stored in this region "
                               "(default: see `regions`)")
    regions: list[str] = Field(default_factory=list, description=(
        "read the recovery points stored in these regions; the newest across them wins. Its own region holds "
        "its snapshots and backups, a DR region their copies (cross-Region AWS Backup copies, copied snapshots, "
        "a global table replica's backups). Default: `region` when given, else the drill's `dr_region` "
        "parameter when it has one (after a region loss only the DR region's copies can be restored), "
        "else the resource's own region"))
    aws_backup: bool = Field(default=True, description="also read AWS Backup's recovery points of the resource "
                             "(backup:ListRecoveryPointsByResource); EFS has no others")
    account: AccountName | None = None

    def regions_to_read(self, dr_region: str | None = None) -> list[str]:
        """`regions`, else `region`, else the drill's DR region, else the resource's region."""
        if self.regions:
            return list(dict.fromkeys(self.regions))
        parts = self.resource_arn.split(":")
        region = self.region or dr_region or (parts[3] if len(parts) > 3 else "")
        return [region] if region else []


class ReplicationLagConfig(_Strict):
    rds_replica: str | None = Field(default=None, description="DB instance id of the replica (ReplicaLag metric)")
    s3_bucket: str | None = Field(default=None, description="source bucket (S3 replication metrics)")
    s3_rule: str | None = None
    region: str | None = None
    rds_region: str | None = Field(default=None, description="region of the replica (default: region)")
    s3_region: str | None = Field(default=None, description="region of the source bucket (default: region)")
    lookback: float = Field(default=300.0, gt=0, description="how far before the fault to look for a datapoint")
    account: AccountName | None = None

    _lookback = field_validator("lookback", mode="before")(lambda v: parse_duration(v))

    @model_validator(mode="after")
    def _a_source(self) -> ReplicationLagConfig:
        if not self.rds_replica and not self.s3_bucket:
            raise ValueError("replication_lag needs `rds_replica` or `s3_bucket` (or both)")
        return self


class RpoConfig(_Strict):
    canary: CanaryConfig | None = None
    recovery_point: RecoveryPointConfig | None = None
    replication_lag: ReplicationLagConfig | None = None

    def sources(self) -> list[tuple[str, S3CanaryConfig | DynamoDbCanaryConfig | RecoveryPointConfig
                                    | ReplicationLagConfig]]:
        """(source name, its config) for every configured source, in measuring order."""
        found: list[tuple[str, Any]] = []
        if self.canary:
            found += [(f"canary.{kind}", cfg) for kind, cfg in (("s3", self.canary.s3),
                                                                 ("dynamodb", self.canary.dynamodb)) if cfg]
        if self.recovery_point:
            found.append(("recovery-point", self.recovery_point))
        if self.replication_lag:
            found.append(("replication-lag", self.replication_lag))
        return found

    def accounts(self) -> set[str]:
        """The named accounts (`aws.accounts`) the sources are read in."""
        return {cfg.account for _, cfg in self.sources() if cfg.account}


@dataclass
class RpoMeasurement:
    method: str                 # "canary" | "recovery-point" | "replication-lag"
    measured_s: float | None    # None when it could not be measured (say why in detail)
    detail: str                 # one human sentence
    evidence: dict[str, Any] = field(default_factory=dict)
    lower_bound_s: float | None = None   # the true RPO is at least this (canary: fault - next unreplicated canary)


class RpoMeter(Protocol):
    method: str

    def start(self) -> None: ...
    def mark_fault(self, fault_at: float) -> None: ...
    def measure(self) -> RpoMeasurement: ...
    def cleanup(self) -> None: ...

