"""Every recovery point of one resource, whatever made it, for the RPO `recovery_point` meter.

One paginated list call per kind, never one call per snapshot:

- AWS Backup: ListRecoveryPointsByResource, recovery points `COMPLETED` or `AVAILABLE`
  (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListRecoveryPointsByResource.html);
  the only source for EFS. For EBS, RDS and DynamoDB a recovery point is a native snapshot/backup
  whose ARN is the recovery point ARN (AWS Backup developer guide, "Feature availability by
  resource"), so a native entry with that ARN is counted once, as AWS Backup's.
- RDS instances: DescribeDBSnapshots with no SnapshotType returns automated and manual snapshots
  (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBSnapshots.html), plus
  point-in-time restore up to `LatestRestorableTime` when automated backups are on
  (BackupRetentionPeriod > 0, API_DBInstance.html).
- Aurora clusters: DescribeDBClusterSnapshots (automated and manual, API_DescribeDBClusterSnapshots.html)
  and the cluster's `LatestRestorableTime` (API_DBCluster.html).
- DynamoDB tables: ListBackups (on-demand: USER, SYSTEM, AWS_BACKUP; API_ListBackups.html) and
  PITR's `LatestRestorableDateTime` (API_PointInTimeRecoveryDescription.html).
- EBS volumes: DescribeSnapshots of the volume, `completed` only (API_DescribeSnapshots.html).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drtool.aws.arns import parse_arn
from drtool.timing import to_epoch

BACKUP_DONE = ("COMPLETED", "AVAILABLE")
SUPPORTED = "RDS instances and Aurora clusters, DynamoDB tables, EBS volumes and EFS file systems"


@dataclass(frozen=True)
class RecoveryPoint:
    kind: str       # e.g. "aws-backup", "rds-snapshot (automated)", "dynamodb-pitr"
    name: str       # snapshot id, backup name or recovery point ARN
    at: float       # epoch seconds of the data it holds
    arn: str = ""

    def describe(self) -> str:
        return f"{self.kind} {self.name}" if self.name else self.kind


@dataclass
class RecoveryPoints:
    points: list[RecoveryPoint] = field(default_factory=list)
    unread: dict[str, str] = field(default_factory=dict)    # source -> why it could not be read


def _rds(ctx: Any, region: str, resource: str) -> list[RecoveryPoint]:
    client = ctx.client("rds", region)
    kind, name = resource.split(":", 1)
    if kind == "db":
        pages = client.get_paginator("describe_db_snapshots").paginate(DBInstanceIdentifier=name)
        snaps = [(s, s["DBSnapshotIdentifier"], s.get("DBSnapshotArn", "")) for p in pages for s in p["DBSnapshots"]]
        label, live = "rds-snapshot", client.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"]
    else:
        pages = client.get_paginator("describe_db_cluster_snapshots").paginate(DBClusterIdentifier=name)
        snaps = [(s, s["DBClusterSnapshotIdentifier"], s.get("DBClusterSnapshotArn", ""))
                 for p in pages for s in p["DBClusterSnapshots"]]
        label, live = "aurora-cluster-snapshot", client.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"]
    out = [RecoveryPoint(f"{label} ({s.get('SnapshotType') or 'manual'})", ident, to_epoch(s["SnapshotCreateTime"]) or 0.0,
                         arn) for s, ident, arn in snaps if s.get("Status") == "available" and s.get("SnapshotCreateTime")]
    if live and live[0].get("LatestRestorableTime") and live[0].get("BackupRetentionPeriod", 1):
        out.append(RecoveryPoint("rds-pitr" if kind == "db" else "aurora-pitr", "",
                                 to_epoch(live[0]["LatestRestorableTime"]) or 0.0))
    return out


def _dynamodb(ctx: Any, region: str, resource: str) -> list[RecoveryPoint]:
    client = ctx.client("dynamodb", region)
    name = resource.split("/")[1]
    pages = client.get_paginator("list_backups").paginate(TableName=name)
    out = [RecoveryPoint(f"dynamodb-backup ({(b.get('BackupType') or 'USER').lower()})", b["BackupName"],
                         to_epoch(b["BackupCreationDateTime"]) or 0.0, b.get("BackupArn", ""))
           for p in pages for b in p["BackupSummaries"] if b.get("BackupStatus") == "AVAILABLE"]
    pitr = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"].get(
        "PointInTimeRecoveryDescription") or {}
    if pitr.get("PointInTimeRecoveryStatus") == "ENABLED" and pitr.get("LatestRestorableDateTime"):
        out.append(RecoveryPoint("dynamodb-pitr", "", to_epoch(pitr["LatestRestorableDateTime"]) or 0.0))
    return out


def _ebs(ctx: Any, region: str, resource: str) -> list[RecoveryPoint]:
    pages = ctx.client("ec2", region).get_paginator("describe_snapshots").paginate(
        OwnerIds=["self"], Filters=[{"Name": "volume-id", "Values": [resource.split("/")[1]]}])
    return [RecoveryPoint("ebs-snapshot", s["SnapshotId"], to_epoch(s["StartTime"]) or 0.0,
                          f"arn:aws:ec2:{region}::snapshot/{s['SnapshotId']}")
            for p in pages for s in p["Snapshots"] if s.get("State") == "completed"]


def _aws_backup(ctx: Any, region: str, arn: str) -> list[RecoveryPoint]:
    pages = ctx.client("backup", region).get_paginator("list_recovery_points_by_resource").paginate(ResourceArn=arn)
    return [RecoveryPoint("aws-backup", f"{p['RecoveryPointArn']} (vault {p.get('BackupVaultName', '?')})",
                          to_epoch(p["CreationDate"]) or 0.0, p["RecoveryPointArn"])
            for page in pages for p in page.get("RecoveryPoints") or [] if p.get("Status") in BACKUP_DONE]


def _native_reader(service: str, resource: str) -> Any:
    if service == "rds" and resource.startswith(("db:", "cluster:")):
        return _rds
    if service == "dynamodb" and resource.startswith("table/"):
        return _dynamodb
    if service == "ec2" and resource.startswith("volume/"):
        return _ebs
    if service == "elasticfilesystem" and resource.startswith("file-system/"):
        return None
    raise ValueError(f"recovery-point supports {SUPPORTED}, not {service}:{resource}")


def recovery_points(ctx: Any, arn: str, region: str | None = None, aws_backup: bool = True) -> RecoveryPoints:
    """All recovery points of the resource. A source that cannot be read is named in `unread`
    (the newest point may then be missing); a wrong ARN raises ValueError."""
    parsed = parse_arn(arn)
    if parsed is None:
        raise ValueError(f"not an ARN: {arn!r}")
    region = region or parsed.region or ctx.region
    reader = _native_reader(parsed.service, parsed.resource)
    if reader is None and not aws_backup:
        raise ValueError(f"{arn}: EFS recovery points exist only in AWS Backup, and `aws_backup` is off")
    found = RecoveryPoints()
    if aws_backup:
        try:
            found.points += _aws_backup(ctx, region, arn)
        except Exception as exc:  # noqa: BLE001 - reported with the measurement
            found.unread["aws-backup"] = f"{type(exc).__name__}: {exc}"
    if reader is not None:
        seen = {p.arn for p in found.points}
        found.points += [p for p in reader(ctx, region, parsed.resource) if not p.arn or p.arn not in seen]
    return found
