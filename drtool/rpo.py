"""Measured RPO (spec section 5): how much data a drill actually lost.

The drill's `rpo:` block configures one or more meters. The runner drives them:

    meters = build_meters(config, ctx)          # ctx: StepContext of the run (journaled)
    for m in meters: m.start()                  # at drill start, before inject
    ... inject ...
    for m in meters: m.mark_fault(fault_at)     # stop canary writers; sample lag at fault time
    ... recover, verify ...
    results = [m.measure() for m in meters]     # after recovery (or at abort)
    for m in meters: m.cleanup()                # remove canaries (also journaled for rollback)

`measure()` returns an `RpoMeasurement`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from drtool.durations import parse_duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class S3CanaryConfig(_Strict):
    bucket: str
    region: str | None = None
    replica_bucket: str
    replica_region: str | None = None
    prefix: str = "drtool-canary/"


class DynamoDbCanaryConfig(_Strict):
    table: str
    region: str | None = None
    replica_table: str | None = Field(default=None, description="defaults to the same table name (global table replica)")
    replica_region: str
    key: str = Field(default="pk", description="partition key attribute name of the table")


class CanaryConfig(_Strict):
    s3: S3CanaryConfig | None = None
    dynamodb: DynamoDbCanaryConfig | None = None
    interval: float = 1.0

    _interval = field_validator("interval", mode="before")(lambda v: parse_duration(v))


class RecoveryPointConfig(_Strict):
    resource_arn: str
    region: str | None = None


class ReplicationLagConfig(_Strict):
    rds_replica: str | None = Field(default=None, description="DB instance id of the replica (ReplicaLag metric)")
    s3_bucket: str | None = Field(default=None, description="source bucket (S3 replication metrics)")
    s3_rule: str | None = None
    region: str | None = None


class RpoConfig(_Strict):
    canary: CanaryConfig | None = None
    recovery_point: RecoveryPointConfig | None = None
    replication_lag: ReplicationLagConfig | None = None


@dataclass
class RpoMeasurement:
    method: str                 # "canary" | "recovery-point" | "replication-lag"
    measured_s: float | None    # None when it could not be measured (say why in detail)
    detail: str                 # one human sentence
    evidence: dict[str, Any] = field(default_factory=dict)


class RpoMeter(Protocol):
    method: str

    def start(self) -> None: ...
    def mark_fault(self, fault_at: float) -> None: ...
    def measure(self) -> RpoMeasurement: ...
    def cleanup(self) -> None: ...


def build_meters(config: RpoConfig | None, ctx: Any) -> list[RpoMeter]:
    """Meters for every configured source (implemented in issue 4)."""
    return []
