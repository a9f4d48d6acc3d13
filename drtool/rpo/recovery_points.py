"""Every recovery point of one resource, whatever made it, in the regions asked, for the RPO
`recovery_point` meter.

One paginated list call per kind and region, never one call per snapshot:

- AWS Backup: ListRecoveryPointsByResource in each region, recovery points `COMPLETED` or
  `AVAILABLE` (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListRecoveryPointsByResource.html);
  the only source for EFS. For EBS, RDS and DynamoDB a recovery point is a native snapshot/backup
  whose ARN is the recovery point ARN (AWS Backup developer guide, "Feature availability by
  resource"), so a native entry with that ARN is counted once, as AWS Backup's, dated by the
  native entry (the time its data is from).
- RDS instances: DescribeDBSnapshots "If you don't specify a SnapshotType value, then both
  automated and manual snapshots are returned" - snapshots AWS Backup made (SnapshotType
  `awsbackup`) are not, so a second call asks for them
  (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBSnapshots.html).
  A snapshot is dated by `SnapshotDatabaseTime` ("the most recent transaction applied to the
  database"), else `OriginalSnapshotCreateTime` (unchanged by a copy), else `SnapshotCreateTime`
  (changes for a copy) (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBSnapshot.html).
  Plus point-in-time restore up to `LatestRestorableTime` when automated backups are on
  (BackupRetentionPeriod > 0, API_DBInstance.html), in the instance's own region.
- Aurora clusters: DescribeDBClusterSnapshots (automated and manual; `awsbackup` "does not apply
  to Aurora", API_DescribeDBClusterSnapshots.html) and the cluster's `LatestRestorableTime`.
- DynamoDB tables: ListBackups lists USER backups unless BackupType says otherwise; `ALL` is
  documented as "USER and SYSTEM", so AWS_BACKUP ones are asked for too
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListBackups.html), and PITR's `LatestRestorableDateTime` (API_PointInTimeRecoveryDescription.html). In another
  region: the backups and PITR of the table of the same name there (a global table's replica).
- EBS volumes: DescribeSnapshots of the volume, `completed` only (API_DescribeSnapshots.html). In
  another region a copy is recognised as the inventory does (drtool.backups.inventory: AWS's
  description `[Copied snap-... from REGION]`, a tag naming the volume, or a real VolumeId) and
  dated by its source snapshot's StartTime when that is known.

Regions other than the resource's own hold copies (cross-Region AWS Backup copies, copied
snapshots): for a region-loss drill they are the recovery points that matter. A region or
source that cannot be read is named in `unread`, the others still count. Not read: RDS
replicated automated backups (DescribeDBInstanceAutomatedBackups); an AWS Backup copy is dated by
its own CreationDate unless a native entry dates it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drtool.aws.arns import arn_region, parse_arn
from drtool.aws.errors import error_code
from drtool.backups.inventory import COPIED_DESCRIPTION, PLACEHOLDER_VOLUME, VOLUME_ID
from drtool.backups.model import tag_dict
from drtool.timing import to_epoch

BACKUP_DONE = ("COMPLETED", "AVAILABLE")
SUPPORTED = "RDS instances and Aurora clusters, DynamoDB tables, EBS volumes and EFS file systems"


@dataclass(frozen=True)
class RecoveryPoint:
    kind: str       # e.g. "aws-backup", "rds-snapshot (automated)", "dynamodb-pitr"
    name: str       # snapshot id, backup name or recovery point ARN
    at: float       # epoch seconds of the data it holds
    arn: str = ""
    region: str = ""    # where it is stored

    def describe(self) -> str:
        text = f"{self.kind} {self.name}" if self.name else self.kind
        return f"{text} in {self.region}" if self.region else text


@dataclass
class RecoveryPoints:
    points: list[RecoveryPoint] = field(default_factory=list)
    unread: dict[str, str] = field(default_factory=dict)    # "source in region" -> why it could not be read
    regions: list[str] = field(default_factory=list)        # the regions read


@dataclass(frozen=True)
class _Resource:
    kind: str       # "db", "cluster", "table", "volume", "file-system"
    name: str
    home: str       # the resource's own region


def _pages(client: Any, operation: str, items: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(items) or []]


def _db_snapshot_at(snap: dict[str, Any]) -> float | None:
    """When the snapshot's data is from (API_DBSnapshot.html; cluster snapshots have only SnapshotCreateTime)."""
    return to_epoch(snap.get("SnapshotDatabaseTime") or snap.get("OriginalSnapshotCreateTime")
                    or snap.get("SnapshotCreateTime"))


def _from_home(snap: dict[str, Any], source_field: str, res: _Resource) -> bool:
    """A snapshot in another region counts when it names the resource's region as its source
    (SourceRegion, or the source snapshot ARN); one naming neither (moto) counts by identifier."""
    source = arn_region(snap.get(source_field) or "") or snap.get("SourceRegion")
    return not source or source == res.home


def _rds(ctx: Any, region: str, res: _Resource) -> list[RecoveryPoint]:
    client = ctx.client("rds", region)
    home = region == res.home
    if res.kind == "db":
        # Only in its own region is the instance sure to exist (DBInstanceIdentifier "must match
        # the identifier of an existing DBInstance"): elsewhere list all and match the identifier.
        where = {"DBInstanceIdentifier": res.name} if home else {}
        snaps = _pages(client, "describe_db_snapshots", "DBSnapshots", **where)
        snaps += _pages(client, "describe_db_snapshots", "DBSnapshots", SnapshotType="awsbackup", **where)
        label, id_field, ident, arn_field, source = ("rds-snapshot", "DBInstanceIdentifier", "DBSnapshotIdentifier",
                                                     "DBSnapshotArn", "SourceDBSnapshotIdentifier")
    else:
        where = {"DBClusterIdentifier": res.name} if home else {}
        snaps = _pages(client, "describe_db_cluster_snapshots", "DBClusterSnapshots", **where)
        label, id_field, ident, arn_field, source = ("aurora-cluster-snapshot", "DBClusterIdentifier",
                                                     "DBClusterSnapshotIdentifier", "DBClusterSnapshotArn",
                                                     "SourceDBClusterSnapshotArn")
    out = [RecoveryPoint(f"{label} ({s.get('SnapshotType') or 'manual'})", s[ident], at, s.get(arn_field, ""), region)
           for s in snaps if s.get("Status") == "available" and str(s.get(id_field, "")).lower() == res.name.lower()
           and (home or _from_home(s, source, res)) and (at := _db_snapshot_at(s)) is not None]
    if home:
        try:
            live = (client.describe_db_instances(DBInstanceIdentifier=res.name)["DBInstances"] if res.kind == "db"
                    else client.describe_db_clusters(DBClusterIdentifier=res.name)["DBClusters"])
        except Exception as exc:
            if error_code(exc) not in ("DBInstanceNotFound", "DBClusterNotFoundFault"):
                raise
            live = []    # deleted: no point-in-time restore, its snapshots still count
        if live and live[0].get("LatestRestorableTime") and live[0].get("BackupRetentionPeriod", 1):
            out.append(RecoveryPoint("rds-pitr" if res.kind == "db" else "aurora-pitr", "",
                                     to_epoch(live[0]["LatestRestorableTime"]) or 0.0, region=region))
    return out


def _dynamodb(ctx: Any, region: str, res: _Resource) -> list[RecoveryPoint]:
    client = ctx.client("dynamodb", region)
    backups = {b["BackupArn"]: b for kind in ("ALL", "AWS_BACKUP")
               for b in _pages(client, "list_backups", "BackupSummaries", TableName=res.name, BackupType=kind)}.values()
    out = [RecoveryPoint(f"dynamodb-backup ({(b.get('BackupType') or 'USER').lower()})", b["BackupName"],
                         to_epoch(b["BackupCreationDateTime"]) or 0.0, b.get("BackupArn", ""), region)
           for b in backups if b.get("BackupStatus") == "AVAILABLE"]
    try:
        described = client.describe_continuous_backups(TableName=res.name)["ContinuousBackupsDescription"]
    except Exception as exc:
        if error_code(exc) not in ("TableNotFoundException", "ResourceNotFoundException"):
            raise
        return out    # no table of that name here (deleted, or no replica in this region): its backups still count
    pitr = described.get("PointInTimeRecoveryDescription") or {}
    if pitr.get("PointInTimeRecoveryStatus") == "ENABLED" and pitr.get("LatestRestorableDateTime"):
        out.append(RecoveryPoint("dynamodb-pitr", "", to_epoch(pitr["LatestRestorableDateTime"]) or 0.0,
                                 region=region))
    return out


def _ebs_copy_at(snap: dict[str, Any], res: _Resource, sources: dict[str, dict[str, Any]]) -> float | None:
    """When a snapshot in another region holds the volume's data from, None if it is not the volume's."""
    copied = COPIED_DESCRIPTION.search(snap.get("Description") or "")
    if copied and copied[2] == res.home and copied[1] in sources:
        return to_epoch(sources[copied[1]].get("StartTime"))
    named = snap.get("VolumeId") == res.name and res.name != PLACEHOLDER_VOLUME
    if named or any(res.name in VOLUME_ID.findall(v) for v in tag_dict(snap.get("Tags")).values()):
        return to_epoch(snap.get("StartTime"))
    return None


def _ebs(ctx: Any, region: str, res: _Resource) -> list[RecoveryPoint]:
    own = _pages(ctx.client("ec2", res.home), "describe_snapshots", "Snapshots", OwnerIds=["self"],
                 Filters=[{"Name": "volume-id", "Values": [res.name]}])
    if region == res.home:
        dated = [(s, to_epoch(s["StartTime"])) for s in own]
    else:
        sources = {s["SnapshotId"]: s for s in own}
        dated = [(s, _ebs_copy_at(s, res, sources))
                 for s in _pages(ctx.client("ec2", region), "describe_snapshots", "Snapshots", OwnerIds=["self"])]
    return [RecoveryPoint("ebs-snapshot", s["SnapshotId"], at, f"arn:aws:ec2:{region}::snapshot/{s['SnapshotId']}",
                          region) for s, at in dated if at is not None and s.get("State") == "completed"]


def _aws_backup(ctx: Any, region: str, arn: str) -> list[RecoveryPoint]:
    pages = ctx.client("backup", region).get_paginator("list_recovery_points_by_resource").paginate(ResourceArn=arn)
    return [RecoveryPoint("aws-backup", f"{p['RecoveryPointArn']} (vault {p.get('BackupVaultName', '?')})",
                          to_epoch(p["CreationDate"]) or 0.0, p["RecoveryPointArn"], region)
            for page in pages for p in page.get("RecoveryPoints") or [] if p.get("Status") in BACKUP_DONE]


Reader = Callable[[Any, str, _Resource], list[RecoveryPoint]]


def _native_reader(service: str, resource: str) -> tuple[Reader | None, str]:
    """(the reader of the native recovery points or None for EFS, the source's name)."""
    if service == "rds" and resource.startswith(("db:", "cluster:")):
        return _rds, "rds"
    if service == "dynamodb" and resource.startswith("table/"):
        return _dynamodb, "dynamodb"
    if service == "ec2" and resource.startswith("volume/"):
        return _ebs, "ebs"
    if service == "elasticfilesystem" and resource.startswith("file-system/"):
        return None, "efs"
    raise ValueError(f"recovery-point supports {SUPPORTED}, not {service}:{resource}")


def _merge(backup: list[RecoveryPoint], native: list[RecoveryPoint]) -> list[RecoveryPoint]:
    """AWS Backup's points, each dated by the native entry with its ARN when there is one, then
    the native entries AWS Backup did not list."""
    by_arn = {p.arn: p for p in native if p.arn}
    merged = [dataclasses.replace(p, at=by_arn[p.arn].at) if p.arn in by_arn else p for p in backup]
    listed = {p.arn for p in backup}
    return merged + [p for p in native if not p.arn or p.arn not in listed]


def recovery_points(ctx: Any, arn: str, region: str | None = None, aws_backup: bool = True,
                    regions: list[str] | None = None) -> RecoveryPoints:
    """All recovery points of the resource stored in `regions` (default: `region`, else the
    ARN's). A source that cannot be read in a region is named in `unread` (the newest point may
    then be missing); a wrong ARN raises ValueError."""
    parsed = parse_arn(arn)
    if parsed is None:
        raise ValueError(f"not an ARN: {arn!r}")
    home = parsed.region or region or ctx.region
    reader, source = _native_reader(parsed.service, parsed.resource)
    if reader is None and not aws_backup:
        raise ValueError(f"{arn}: EFS recovery points exist only in AWS Backup, and `aws_backup` is off")
    kind, _, name = parsed.resource.replace("/", ":", 1).partition(":")
    res = _Resource(kind, name.split("/")[0], home)
    found = RecoveryPoints(regions=list(dict.fromkeys(regions or [region or home])))
    for where in found.regions:
        backup: list[RecoveryPoint] = []
        native: list[RecoveryPoint] = []
        if aws_backup:
            try:
                backup = _aws_backup(ctx, where, arn)
            except Exception as exc:  # noqa: BLE001 - reported with the measurement
                found.unread[f"aws-backup in {where}"] = f"{type(exc).__name__}: {exc}"
        if reader is not None:
            try:
                native = reader(ctx, where, res)
            except Exception as exc:  # noqa: BLE001 - reported with the measurement
                found.unread[f"{source} in {where}"] = f"{type(exc).__name__}: {exc}"
        found.points += _merge(backup, native)
    return found
