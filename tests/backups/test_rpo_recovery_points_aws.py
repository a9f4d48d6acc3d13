"""The RPO `recovery_point` meter follows AWS's documented fields and defaults: RDS snapshots
dated by the time their data is from, DynamoDB's ListBackups asked for every backup type, RDS
snapshots AWS Backup made asked for explicitly, and copies in a DR region read where the drill
says. moto in-process; where moto does not emulate an AWS default, a fixture does, citing it."""

from __future__ import annotations

import boto3
import pytest

from drtool.rpo import RecoveryPointMeter, RpoConfig, build_meters
from drtool.rpo.recovery_points import recovery_points
from tests.backups import helpers as h
from tests.backups.helpers import ACCOUNT, DR, PRIMARY

ROLE = "arn:aws:iam::123456789012:role/backup"


def measure(ctx, arn: str, fault_at: float, dr_region: str | None = None, **extra):
    cfg = RpoConfig.model_validate({"recovery_point": {"resource_arn": arn, **extra}}).recovery_point
    meter = RecoveryPointMeter(ctx, cfg, dr_region)
    meter.mark_fault(fault_at)
    return meter.measure()


@pytest.fixture
def list_backups_by_type(aws, monkeypatch):
    """Emulate ListBackups' BackupType, which moto ignores: USER "if no other backup types are
    specified", ALL is "USER and SYSTEM", AWS_BACKUP its own
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListBackups.html)."""
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.list_backups
    listed = {"USER": {"USER"}, "SYSTEM": {"SYSTEM"}, "AWS_BACKUP": {"AWS_BACKUP"}, "ALL": {"USER", "SYSTEM"}}

    def list_backups(self):
        out = original(self)
        wanted = listed[self.body.get("BackupType") or "USER"]
        summaries = out.result["BackupSummaries"]
        summaries[:] = [b for b in summaries if b.get("BackupType") in wanted]
        return out

    monkeypatch.setattr(DynamoHandler, "list_backups", list_backups)


def test_an_rds_snapshot_is_dated_by_its_data_not_by_when_it_was_taken(ctx, clock):
    """SnapshotDatabaseTime (the newest transaction in it) beats SnapshotCreateTime; a copy
    without it keeps OriginalSnapshotCreateTime (API_DBSnapshot.html)."""
    db = h.db_instance("shop-db")
    h.drop_rds_snapshots(db, PRIMARY)
    now = clock.now()
    h.db_snapshot(db, "replica-lagged", at=now - 100)
    h.set_rds_snapshot_fields("replica-lagged", PRIMARY, database_time=now - 1900)
    arn = f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:db:{db}"
    m = measure(ctx, arn, now, aws_backup=False)
    assert m.measured_s == pytest.approx(1900.0) and "replica-lagged" in m.evidence["newest"]

    h.db_snapshot(db, "nightly", at=now - 3600)
    boto3.client("rds", PRIMARY).copy_db_snapshot(SourceDBSnapshotIdentifier="nightly",
                                                  TargetDBSnapshotIdentifier="nightly-copy")
    h.set_rds_snapshot_fields("nightly-copy", PRIMARY, created=now - 10)      # copied just now
    points = {p.name: p.at for p in recovery_points(ctx, arn, aws_backup=False).points}
    assert points["nightly-copy"] == pytest.approx(now - 3600)                 # the original's time
    assert points["replica-lagged"] == pytest.approx(now - 1900)


def test_rds_snapshots_made_by_aws_backup_are_asked_for(ctx, clock):
    """DescribeDBSnapshots without SnapshotType returns automated and manual snapshots only."""
    db = h.db_instance("shop-db")
    h.drop_rds_snapshots(db, PRIMARY)
    h.db_snapshot(db, "awsbackup-job-1", at=clock.now() - 500)
    h.set_rds_snapshot_fields("awsbackup-job-1", PRIMARY, snapshot_type="awsbackup")
    client = boto3.client("rds", PRIMARY)
    assert client.describe_db_snapshots(DBInstanceIdentifier=db)["DBSnapshots"] == []   # the documented default
    m = measure(ctx, f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:db:{db}", clock.now(), aws_backup=False)
    assert m.measured_s == pytest.approx(500.0) and m.evidence["newest_kind"] == "rds-snapshot (awsbackup)"


def test_dynamodb_backups_of_every_type_count(ctx, clock, list_backups_by_type):
    name = h.table("orders")
    h.table_backup(name, at=clock.now() - 900)
    system = h.table_backup(name, at=clock.now() - 300)
    h.set_dynamodb_backup_type(system, PRIMARY, "SYSTEM")
    by_backup = h.table_backup(name, at=clock.now() - 50)
    h.set_dynamodb_backup_type(by_backup, PRIMARY, "AWS_BACKUP")
    client = boto3.client("dynamodb", PRIMARY)
    assert [b["BackupType"] for b in client.list_backups(TableName=name)["BackupSummaries"]] == ["USER"]
    found = recovery_points(ctx, h.table_arn(name), aws_backup=False)
    assert sorted(p.kind for p in found.points) == ["dynamodb-backup (aws_backup)", "dynamodb-backup (system)",
                                                    "dynamodb-backup (user)"]
    m = measure(ctx, h.table_arn(name), clock.now(), aws_backup=False)
    assert m.measured_s == pytest.approx(50.0) and m.evidence["newest_kind"] == "dynamodb-backup (aws_backup)"


def test_an_aws_backup_point_is_dated_by_its_native_backup(ctx, session, fake_backup, clock):
    name = h.table("orders")
    job = session.client("backup").start_backup_job(BackupVaultName="Default", ResourceArn=h.table_arn(name),
                                                    IamRoleArn=ROLE)
    clock.advance(60)
    h.set_dynamodb_backup_time(job["RecoveryPointArn"], PRIMARY, clock.now() - 700)
    [point] = recovery_points(ctx, h.table_arn(name)).points
    assert point.kind == "aws-backup" and point.at == pytest.approx(clock.now() - 700)


def test_a_dr_region_reads_the_copies_there(ctx, fake_backup, clock):
    """Region loss: only what the DR region holds can be restored. A newer snapshot in the lost
    region does not count when only the DR region is read; both count when both are."""
    db = h.db_instance("shop-db")
    h.drop_rds_snapshots(db, PRIMARY)
    now = clock.now()
    h.db_snapshot(db, "nightly", at=now - 3600)
    h.db_snapshot(db, "hourly", at=now - 300)
    boto3.client("rds", DR).copy_db_snapshot(
        SourceDBSnapshotIdentifier=f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:snapshot:nightly",
        TargetDBSnapshotIdentifier="nightly-dr", SourceRegion=PRIMARY)
    h.set_rds_snapshot_fields("nightly-dr", DR, created=now - 1200)
    arn = f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:db:{db}"
    backup_copy = fake_backup.add_recovery_point(arn, now - 4000, region=DR)

    dr = measure(ctx, arn, now, regions=[DR])
    assert dr.measured_s == pytest.approx(3600.0)                        # the copy, dated by the original
    assert dr.evidence["newest"] == f"rds-snapshot (manual) nightly-dr in {DR}" and dr.evidence["regions"] == [DR]
    assert dr.evidence["recovery_points"] == 2 and "unread" not in dr.evidence
    kinds = {p.region: p.kind for p in recovery_points(ctx, arn, regions=[DR]).points if p.arn == backup_copy.arn}
    assert kinds == {DR: "aws-backup"}
    both = measure(ctx, arn, now, regions=[PRIMARY, DR])
    assert both.measured_s == pytest.approx(300.0) and both.evidence["newest"].endswith(f"hourly in {PRIMARY}")


def test_ebs_copies_in_the_dr_region_keep_their_source_time(ctx, clock):
    vol = h.volume()
    now = clock.now()
    source = h.snapshot(vol, at=now - 900)
    h.snapshot(h.volume(), at=now - 5)                                   # another volume's, never counted
    copy = h.copy_snapshot(source, description=f"[Copied {source} from {PRIMARY}]")
    h.make_copy_look_like_aws(copy, DR)
    h.set_ebs_snapshot_time(copy, DR, now - 60)
    found = recovery_points(ctx, h.volume_arn(vol), aws_backup=False, regions=[DR])
    assert [(p.name, p.region, p.at) for p in found.points] == [(copy, DR, pytest.approx(now - 900))]


def test_dynamodb_in_the_dr_region_is_the_replica_table(ctx, clock):
    name = h.table("orders")
    h.table(name, region=DR)
    h.table_backup(name, region=DR, at=clock.now() - 400)
    h.enable_pitr(name, at=clock.now() - 1)                              # the lost region's PITR
    m = measure(ctx, h.table_arn(name), clock.now(), aws_backup=False, regions=[DR])
    assert m.measured_s == pytest.approx(400.0) and m.evidence["newest"].endswith(f"in {DR}")
    gone = measure(ctx, h.table_arn("nowhere"), clock.now(), aws_backup=False, regions=[DR])
    assert gone.measured_s is None and f"existed in {DR} at the fault" in gone.detail


def test_the_drill_dr_region_is_the_default(make_ctx):
    arn = f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:db:shop-db"
    config = RpoConfig.model_validate({"recovery_point": {"resource_arn": arn}})
    [meter] = build_meters(config, make_ctx(), dr_region=DR)
    assert meter.regions == [DR]
    assert build_meters(config, make_ctx())[0].regions == [PRIMARY]
    pinned = RpoConfig.model_validate({"recovery_point": {"resource_arn": arn, "region": PRIMARY}})
    assert build_meters(pinned, make_ctx(), dr_region=DR)[0].regions == [PRIMARY]
    listed = RpoConfig.model_validate({"recovery_point": {"resource_arn": arn, "regions": [DR, PRIMARY, DR]}})
    assert build_meters(listed, make_ctx(), dr_region=DR)[0].regions == [DR, PRIMARY]


def test_a_region_that_cannot_be_read_is_named_and_the_rest_still_count(ctx, clock):
    vol = h.volume()
    h.snapshot(vol, at=clock.now() - 30)
    m = measure(ctx, h.volume_arn(vol), clock.now(), aws_backup=False, regions=[PRIMARY, "eu-nowhere-1"])
    assert m.measured_s == pytest.approx(30.0)
    assert list(m.evidence["unread"]) == ["ebs in eu-nowhere-1"]


def test_the_snapshots_of_a_deleted_instance_still_count(ctx, clock):
    db = h.db_instance("shop-db")
    h.drop_rds_snapshots(db, PRIMARY)
    h.db_snapshot(db, "final", at=clock.now() - 70)
    boto3.client("rds", PRIMARY).delete_db_instance(DBInstanceIdentifier=db, SkipFinalSnapshot=True)
    m = measure(ctx, f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:db:{db}", clock.now(), aws_backup=False)
    assert m.measured_s == pytest.approx(70.0) and "unread" not in m.evidence
