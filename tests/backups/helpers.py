"""Estates on moto for the backup tests, and the one place that reaches into moto.

moto stamps every snapshot and backup with the current time, so a test cannot ask for a
three-day-old snapshot through boto3. The least invasive way we found is to rewrite the
timestamp attribute on moto's backend object after creating it through boto3 (the same
attribute moto serialises into StartTime / SnapshotCreateTime / BackupCreationDateTime /
LatestRestorableDateTime). Every such reach into moto lives in the `set_*` functions below,
so a moto upgrade that renames an attribute breaks here, in one file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import boto3

ACCOUNT = "123456789012"
PRIMARY = "us-east-1"
DR = "us-west-2"
TAGS = [{"Key": "app", "Value": "orders"}]


def _naive(epoch: float) -> datetime:
    """moto keeps naive UTC datetimes (its utcnow())."""
    return datetime.fromtimestamp(epoch, tz=UTC).replace(tzinfo=None)


def set_ebs_snapshot_time(snapshot_id: str, region: str, at: float) -> None:
    from moto.ec2.models import ec2_backends

    ec2_backends[ACCOUNT][region].snapshots[snapshot_id].start_time = _naive(at)


def make_copy_look_like_aws(snapshot_id: str, region: str) -> None:
    """In AWS a copied snapshot's VolumeId is the arbitrary vol-ffffffff; moto keeps the source's."""
    from moto.ec2.models import ec2_backends

    snap = ec2_backends[ACCOUNT][region].snapshots[snapshot_id]
    snap.volume = SimpleNamespace(id="vol-ffffffff", size=snap.volume.size)


def set_rds_snapshot_time(snapshot_id: str, region: str, at: float) -> None:
    from moto.rds.models import rds_backends

    snap = rds_backends[ACCOUNT][region].database_snapshots[snapshot_id]
    snap.created = _naive(at)
    snap.original_snapshot_create_time = _naive(at)


def set_rds_snapshot_fields(snapshot_id: str, region: str, *, created: float | None = None,
                            database_time: float | None = None, snapshot_type: str | None = None) -> None:
    """SnapshotCreateTime alone (a copy's own time), SnapshotDatabaseTime (moto never sets it,
    but serialises it when present) and SnapshotType (e.g. AWS Backup's `awsbackup`)."""
    from moto.rds.models import rds_backends

    snap = rds_backends[ACCOUNT][region].database_snapshots[snapshot_id]
    if created is not None:
        snap.created = _naive(created)
    if database_time is not None:
        snap.snapshot_database_time = _naive(database_time)
    if snapshot_type is not None:
        snap.snapshot_type = snapshot_type


def set_dynamodb_backup_type(backup_arn: str, region: str, backup_type: str) -> None:
    from moto.dynamodb.models import dynamodb_backends

    dynamodb_backends[ACCOUNT][region].backups[backup_arn].type = backup_type


def drop_rds_snapshots(db_instance: str, region: str) -> None:
    """moto takes an automated snapshot at create time even with BackupRetentionPeriod=0."""
    from moto.rds.models import rds_backends

    snaps = rds_backends[ACCOUNT][region].database_snapshots
    for sid in [s for s, snap in snaps.items() if snap.db_instance_identifier == db_instance]:
        del snaps[sid]


def set_dynamodb_backup_time(backup_arn: str, region: str, at: float) -> None:
    from moto.dynamodb.models import dynamodb_backends

    dynamodb_backends[ACCOUNT][region].backups[backup_arn].creation_date_time = _naive(at)


def set_pitr_latest(table: str, region: str, at: float) -> None:
    """moto freezes LatestRestorableDateTime when PITR is enabled; move it."""
    from moto.dynamodb.models import dynamodb_backends

    table_obj = dynamodb_backends[ACCOUNT][region].get_table(table)
    table_obj.continuous_backups["PointInTimeRecoveryDescription"]["LatestRestorableDateTime"] = at


# --- builders (plain boto3) ----------------------------------------------------------


def volume(region: str = PRIMARY, tags: list[dict[str, str]] | None = TAGS) -> str:
    kwargs: dict[str, Any] = {"AvailabilityZone": f"{region}a", "Size": 1}
    if tags:
        kwargs["TagSpecifications"] = [{"ResourceType": "volume", "Tags": tags}]
    return boto3.client("ec2", region).create_volume(**kwargs)["VolumeId"]


def snapshot(volume_id: str, region: str = PRIMARY, at: float | None = None) -> str:
    sid = boto3.client("ec2", region).create_snapshot(VolumeId=volume_id)["SnapshotId"]
    if at is not None:
        set_ebs_snapshot_time(sid, region, at)
    return sid


def copy_snapshot(snapshot_id: str, source: str = PRIMARY, dest: str = DR, description: str | None = None,
                  tags: list[dict[str, str]] | None = None) -> str:
    kwargs: dict[str, Any] = {"SourceSnapshotId": snapshot_id, "SourceRegion": source}
    if description is not None:
        kwargs["Description"] = description
    if tags:
        kwargs["TagSpecifications"] = [{"ResourceType": "snapshot", "Tags": tags}]
    return boto3.client("ec2", dest).copy_snapshot(**kwargs)["SnapshotId"]


def db_instance(name: str, region: str = PRIMARY, tags: list[dict[str, str]] | None = TAGS,
                retention: int = 0) -> str:
    kwargs: dict[str, Any] = {"DBInstanceIdentifier": name, "DBInstanceClass": "db.t3.micro", "Engine": "postgres",
                              "MasterUsername": "admin1", "MasterUserPassword": "password123",
                              "AllocatedStorage": 20, "BackupRetentionPeriod": retention}
    if tags:
        kwargs["Tags"] = tags
    boto3.client("rds", region).create_db_instance(**kwargs)
    return name


def db_snapshot(db: str, name: str, region: str = PRIMARY, at: float | None = None) -> str:
    boto3.client("rds", region).create_db_snapshot(DBInstanceIdentifier=db, DBSnapshotIdentifier=name)
    if at is not None:
        set_rds_snapshot_time(name, region, at)
    return name


def table(name: str, region: str = PRIMARY, tags: list[dict[str, str]] | None = TAGS, items: int = 0) -> str:
    client = boto3.client("dynamodb", region)
    kwargs: dict[str, Any] = {"TableName": name, "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                              "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                              "BillingMode": "PAY_PER_REQUEST"}
    if tags:
        kwargs["Tags"] = tags
    client.create_table(**kwargs)
    for i in range(items):
        client.put_item(TableName=name, Item={"pk": {"S": f"item-{i}"}})
    return name


def table_backup(name: str, region: str = PRIMARY, at: float | None = None) -> str:
    arn = boto3.client("dynamodb", region).create_backup(TableName=name, BackupName=f"{name}-bk")[
        "BackupDetails"]["BackupArn"]
    if at is not None:
        set_dynamodb_backup_time(arn, region, at)
    return arn


def enable_pitr(name: str, region: str = PRIMARY, at: float | None = None) -> None:
    boto3.client("dynamodb", region).update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    if at is not None:
        set_pitr_latest(name, region, at)


def volume_arn(volume_id: str, region: str = PRIMARY) -> str:
    return f"arn:aws:ec2:{region}:{ACCOUNT}:volume/{volume_id}"


def table_arn(name: str, region: str = PRIMARY) -> str:
    return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"
