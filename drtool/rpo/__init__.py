"""Measured RPO (spec section 5): how much data a drill actually lost.

The drill's `rpo:` block configures one or more meters. The runner drives them:

    meters = build_meters(config, ctx)          # ctx: StepContext of the run (journaled)
    for m in meters: m.start()                  # at drill start, before inject
    ... inject ...
    for m in meters: m.mark_fault(fault_at)     # stop canary writers; sample lag at fault time
    ... recover, verify ...
    results = [m.measure() for m in meters]     # after recovery (or at abort)
    for m in meters: m.cleanup()                # remove canaries (also journaled for rollback)

`measure()` returns an `RpoMeasurement`. No method blocks the engine for long: canaries are
written on a daemon thread, fault-time samples are taken on another, and write errors (a
region cut off) are counted, never raised. `measure()` runs before the canary undo, which
would remove the evidence.

- canary: sequence-numbered, timestamped objects (S3 key `{prefix}{run_id}/{seq:08d}`, body
  `{"seq", "written_at"}`) or items (DynamoDB pk `drtool-canary#{run_id}#{seq}`) written to the
  primary store every `interval`; RPO = fault time - written_at of the newest canary found in
  the recovered (replica) store. Acknowledged canaries missing there are the lost writes.
- recovery-point: age at fault time of the newest recovery point of any kind (AWS Backup, snapshots,
  on-demand backups, PITR restorable time); the evidence names its kind.
- replication-lag: the CloudWatch metric AWS publishes (RDS ReplicaLag, S3 ReplicationLatency).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from drtool.rpo.canary import CanaryMeter, CanaryStore, DynamoDbCanaryStore, S3CanaryStore, canary_rpo
from drtool.rpo.config import (
    CanaryConfig,
    DynamoDbCanaryConfig,
    RecoveryPointConfig,
    ReplicationLagConfig,
    RpoConfig,
    RpoMeasurement,
    RpoMeter,
    S3CanaryConfig,
)

if TYPE_CHECKING:
    from drtool.rpo.samplers import RecoveryPointMeter, ReplicationLagMeter

_SAMPLERS = {"RecoveryPointMeter", "ReplicationLagMeter"}   # `recovery_points` (the function) lives in
                                                            # drtool.rpo.recovery_points, its own module


def __getattr__(name: str) -> Any:
    """The samplers (and through them the backup inventory) load on first use: a drill
    without a recovery-point or replication-lag source never imports them. (The function
    `recovery_points` is imported from its module, drtool.rpo.recovery_points: a package
    attribute of that name is the submodule once it is loaded.)"""
    if name in _SAMPLERS:
        from drtool.rpo import samplers
        return getattr(samplers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["CanaryConfig", "CanaryMeter", "CanaryStore", "DynamoDbCanaryConfig", "DynamoDbCanaryStore",
           "RecoveryPointConfig", "RecoveryPointMeter", "ReplicationLagConfig", "ReplicationLagMeter", "RpoConfig",
           "RpoMeasurement", "RpoMeter", "S3CanaryConfig", "S3CanaryStore", "build_meters", "canary_rpo",
           "rpo_iam"]


def build_meters(config: RpoConfig | None, ctx: Any, dr_region: str | None = None) -> list[RpoMeter]:
    """Meters for every configured source, in config order: canaries (S3, DynamoDB), then
    recovery point, then replication lag (RDS, S3). A source with `account:` gets a context
    acting in that named account (its writes, reads and canary undo go through its role).
    `dr_region` (the drill's `dr_region` parameter) is where a recovery point is read by default."""
    if config is None:
        return []
    from drtool.rpo.samplers import RecoveryPointMeter, ReplicationLagMeter

    meter_ctx: Callable[[str, str | None], Any] = \
        lambda label, account: dataclasses.replace(ctx, step=label, account=account)  # noqa: E731
    meters: list[RpoMeter] = []
    if config.canary:
        if config.canary.s3:
            c = meter_ctx("rpo.canary.s3", config.canary.s3.account)
            meters.append(CanaryMeter(c, S3CanaryStore(c, config.canary.s3), config.canary.interval))
        if config.canary.dynamodb:
            c = meter_ctx("rpo.canary.dynamodb", config.canary.dynamodb.account)
            meters.append(CanaryMeter(c, DynamoDbCanaryStore(c, config.canary.dynamodb), config.canary.interval))
    if config.recovery_point:
        meters.append(RecoveryPointMeter(meter_ctx("rpo.recovery-point", config.recovery_point.account),
                                         config.recovery_point, dr_region))
    lag = config.replication_lag
    if lag:
        if lag.rds_replica:
            meters.append(ReplicationLagMeter(meter_ctx("rpo.replication-lag.rds", lag.account), "rds",
                                              lag.rds_replica, lag.rds_region or lag.region or ctx.region, lag))
        if lag.s3_bucket:
            meters.append(ReplicationLagMeter(meter_ctx("rpo.replication-lag.s3", lag.account), "s3", lag.s3_bucket,
                                              lag.s3_region or lag.region or ctx.region, lag))
    return meters


def source_names(config: RpoConfig | None) -> list[str]:
    """The configured RPO sources by name (journaled in run.started, so a crashed run's
    scorecard still says which sources the drill had)."""
    if config is None:
        return []
    names = []
    if config.canary:
        names += [f"canary.{kind}" for kind in ("s3", "dynamodb") if getattr(config.canary, kind)]
    if config.recovery_point:
        names.append("recovery-point")
    lag = config.replication_lag
    if lag:
        names += [name for name, on in (("replication-lag.rds", lag.rds_replica), ("replication-lag.s3", lag.s3_bucket))
                  if on]
    return names


def rpo_iam(config: RpoConfig | None, account: str | None = "*") -> list[str]:
    """IAM actions the configured meters need (for `drtool permissions`): all of them for
    "*", else only those of the sources read in `account` (None: the drill's own)."""
    if config is None:
        return []
    actions: set[str] = set()
    for name, cfg in config.sources():
        if account == "*" or cfg.account == account:
            actions |= _source_iam(name, cfg)
    return sorted(actions)


def _source_iam(name: str, cfg: Any) -> set[str]:
    if name == "canary.s3":
        return {"s3:PutObject", "s3:PutObjectTagging", "s3:ListBucket", "s3:GetObject",
                "s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion"}
    if name == "canary.dynamodb":
        return {"dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem"}
    if name == "recovery-point":
        service = cfg.resource_arn.split(":")[2] if cfg.resource_arn.count(":") > 2 else ""
        backup = {"backup:ListRecoveryPointsByResource"} if cfg.aws_backup else set()
        return backup | {"rds": {"rds:DescribeDBSnapshots", "rds:DescribeDBInstances",
                                 "rds:DescribeDBClusterSnapshots", "rds:DescribeDBClusters"},
                         "dynamodb": {"dynamodb:ListBackups", "dynamodb:DescribeContinuousBackups"},
                         "ec2": {"ec2:DescribeSnapshots"}}.get(service, set())
    return {"cloudwatch:GetMetricStatistics", *(["s3:GetReplicationConfiguration"] if cfg.s3_bucket else [])}
