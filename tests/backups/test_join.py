"""Joining real-AWS response shapes that moto never produces: RDS copies that name their
source (SourceDBSnapshotIdentifier / SourceRegion), replicated automated backups, AWS
Backup copies and EBS copies whose VolumeId is the placeholder vol-ffffffff."""

from __future__ import annotations

from datetime import UTC, datetime

from drtool.backups.inventory import _Fetched, _Joiner
from drtool.backups.model import ProtectedResource

E, W = "us-east-1", "us-west-2"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DB = ProtectedResource("orders-db", "rds:db", E)
DB_WEST = ProtectedResource("orders-db", "rds:db", W)  # same name in another region
VOL = ProtectedResource("vol-0abc12345678", "ec2:volume", E)


def at(hours: float) -> datetime:
    return datetime.fromtimestamp(T0.timestamp() + hours * 3600, tz=UTC)


def test_rds_copy_naming_its_source_is_attributed_even_with_a_same_named_instance():
    fetched = _Fetched()
    fetched.db_snapshots = {
        E: [{"DBSnapshotIdentifier": "nightly", "DBInstanceIdentifier": "orders-db", "Status": "available",
             "SnapshotType": "manual", "SnapshotCreateTime": at(1)}],
        W: [{"DBSnapshotIdentifier": "nightly-copy", "DBInstanceIdentifier": "orders-db", "Status": "available",
             "SnapshotType": "manual", "SnapshotCreateTime": at(3), "OriginalSnapshotCreateTime": at(1),
             "SourceDBSnapshotIdentifier": f"arn:aws:rds:{E}:123456789012:snapshot:nightly", "SourceRegion": E},
            {"DBSnapshotIdentifier": "rds:orders-db-auto", "DBInstanceIdentifier": "orders-db",
             "Status": "available", "SnapshotType": "automated", "SnapshotCreateTime": at(2)}],
    }
    joiner = _Joiner([DB, DB_WEST], {})
    joiner.rds(fetched)
    points = joiner.result()
    assert [(p.kind, p.region, p.at) for p in points[DB.key]] == [
        ("rds-snapshot", E, at(1).timestamp()), ("rds-snapshot-copy", W, at(1).timestamp())]
    assert [(p.kind, p.region) for p in points[DB_WEST.key]] == [("rds-snapshot", W)]


def test_replicated_automated_backups_count_as_copies():
    fetched = _Fetched()
    fetched.automated = {W: [{"DBInstanceArn": f"arn:aws:rds:{E}:123456789012:db:orders-db",
                              "DBInstanceIdentifier": "orders-db", "Region": E, "Status": "replicating",
                              "DBInstanceAutomatedBackupsArn": "arn:aws:rds:us-west-2:1:auto-backup:ab-1",
                              "RestoreWindow": {"EarliestTime": at(-48), "LatestTime": at(5)}}]}
    joiner = _Joiner([DB], {})
    joiner.rds(fetched)
    (point,) = joiner.result()[DB.key]
    assert point.kind == "rds-replicated-backup-copy" and point.region == W and point.at == at(5).timestamp()


def test_ebs_copy_with_placeholder_volume_is_matched_by_description_only():
    fetched = _Fetched()
    fetched.snapshots = {
        E: [{"SnapshotId": "snap-0a1", "VolumeId": VOL.id, "State": "completed", "StartTime": at(1)},
            {"SnapshotId": "snap-0b2", "VolumeId": VOL.id, "State": "pending", "StartTime": at(9)}],
        W: [{"SnapshotId": "snap-0c0", "VolumeId": "vol-ffffffff", "State": "completed", "StartTime": at(4),
             "Description": f"[Copied snap-0a1 from {E}] nightly"},
            {"SnapshotId": "snap-0e3", "VolumeId": "vol-ffffffff", "State": "completed", "StartTime": at(4),
             "Description": f"[Copied snap-0d4 from {E}]"}],
    }
    joiner = _Joiner([VOL], {})
    joiner.ebs(fetched.snapshots)
    points = joiner.result()[VOL.key]
    assert [(p.ref, p.kind, p.at) for p in points] == [
        ("snap-0a1", "ebs-snapshot", at(1).timestamp()), ("snap-0c0", "ebs-snapshot-copy", at(1).timestamp())]


def test_aws_backup_points_for_an_aurora_member_come_from_its_cluster():
    member = ProtectedResource("orders-1", "rds:db", E)
    cluster_key = ("rds:cluster", E, "orders")
    fetched = _Fetched()
    fetched.recovery_points = {(W, "dr"): [
        {"RecoveryPointArn": "arn:rp:1", "Status": "COMPLETED", "CreationDate": at(2),
         "ResourceArn": f"arn:aws:rds:{E}:123456789012:cluster:orders"},
        {"RecoveryPointArn": "arn:rp:2", "Status": "EXPIRED", "CreationDate": at(3),
         "ResourceArn": f"arn:aws:rds:{E}:123456789012:cluster:orders"}]}
    joiner = _Joiner([member], {member.key: cluster_key})
    joiner.aws_backup(fetched)
    points = joiner.result()
    assert list(points) == [member.key]
    assert [(p.ref, p.kind) for p in points[member.key]] == [("arn:rp:1", "aws-backup-copy")]
