"""The RPO `recovery_point` meter reads every kind of recovery point of a resource (AWS Backup,
RDS automated and manual snapshots, DynamoDB on-demand backups and PITR, EBS snapshots, EFS via
AWS Backup); the newest before the fault wins and the measurement names its kind. moto for the
native services, drtool's fake AWS Backup served in-process."""

from __future__ import annotations

import boto3
import pytest

from drtool.rpo import RecoveryPointMeter, RpoConfig, rpo_iam
from drtool.rpo.recovery_points import recovery_points
from tests.backups import helpers as h
from tests.backups.helpers import ACCOUNT, PRIMARY

ROLE = "arn:aws:iam::123456789012:role/backup"


def measure(ctx, arn: str, fault_at: float, **extra):
    cfg = RpoConfig.model_validate({"recovery_point": {"resource_arn": arn, **extra}}).recovery_point
    meter = RecoveryPointMeter(ctx, cfg)
    meter.mark_fault(fault_at)
    return meter.measure()


def test_rds_automated_and_manual_snapshots_and_aws_backup_newest_wins(ctx, fake_backup, clock):
    db = h.db_instance("shop-db")                      # moto takes an automated snapshot at create
    now = clock.now()
    [auto] = boto3.client("rds", PRIMARY).describe_db_snapshots(DBInstanceIdentifier=db)["DBSnapshots"]
    h.set_rds_snapshot_time(auto["DBSnapshotIdentifier"], PRIMARY, now - 3000)
    h.db_snapshot(db, "manual-1", at=now - 2000)
    arn = f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:db:{db}"
    point = fake_backup.add_recovery_point(arn, now - 600)

    found = recovery_points(ctx, arn)
    assert found.unread == {}
    assert sorted(p.kind for p in found.points) == ["aws-backup", "rds-snapshot (automated)", "rds-snapshot (manual)"]
    m = measure(ctx, arn, now)
    assert m.measured_s == pytest.approx(600.0)
    assert m.evidence["newest_kind"] == "aws-backup" and point.arn in m.evidence["newest"]
    assert "aws-backup" in m.detail
    before_backup = measure(ctx, arn, now - 1000)
    assert before_backup.measured_s == pytest.approx(1000.0)
    assert before_backup.evidence["newest_kind"] == "rds-snapshot (manual)"
    assert before_backup.evidence["after_fault"] == 1


def test_dynamodb_pitr_beats_an_older_on_demand_backup(ctx, fake_backup, clock):
    name = h.table("orders")
    now = clock.now()
    h.table_backup(name, at=now - 7200)
    h.enable_pitr(name, at=now - 300)
    m = measure(ctx, h.table_arn(name), now)
    assert m.measured_s == pytest.approx(300.0) and m.evidence["newest_kind"] == "dynamodb-pitr"
    assert m.evidence["kinds"] == ["dynamodb-backup (user)", "dynamodb-pitr"]
    older = measure(ctx, h.table_arn(name), now - 3600)
    assert older.measured_s == pytest.approx(3600.0) and older.evidence["newest_kind"] == "dynamodb-backup (user)"


def test_an_aws_backup_job_of_a_table_is_counted_once(ctx, session, fake_backup, clock):
    """A DynamoDB recovery point is a native backup whose ARN is the recovery point ARN."""
    name = h.table("orders")
    job = session.client("backup").start_backup_job(BackupVaultName="Default", ResourceArn=h.table_arn(name),
                                                    IamRoleArn=ROLE)
    clock.advance(60)
    found = recovery_points(ctx, h.table_arn(name))
    assert [(p.kind, p.arn) for p in found.points] == [("aws-backup", job["RecoveryPointArn"])]


def test_ebs_snapshots(ctx, fake_backup, clock):
    vol = h.volume()
    h.snapshot(vol, at=clock.now() - 120)
    m = measure(ctx, h.volume_arn(vol), clock.now())
    assert m.measured_s == pytest.approx(120.0) and m.evidence["newest_kind"] == "ebs-snapshot"


def test_efs_recovery_points_come_from_aws_backup_only(ctx, fake_backup, clock):
    fs = boto3.client("efs", PRIMARY).create_file_system(CreationToken="shop-files")["FileSystemId"]
    arn = f"arn:aws:elasticfilesystem:{PRIMARY}:{ACCOUNT}:file-system/{fs}"
    fake_backup.add_recovery_point(arn, clock.now() - 900)
    fake_backup.add_recovery_point(arn, clock.now() - 60, status="EXPIRED")
    m = measure(ctx, arn, clock.now())
    assert m.measured_s == pytest.approx(900.0) and m.evidence["newest_kind"] == "aws-backup"
    off = measure(ctx, arn, clock.now(), aws_backup=False)
    assert off.measured_s is None and "only in AWS Backup" in off.detail


def test_an_unreadable_aws_backup_is_named_not_hidden(ctx, clock):
    """Without the fake, moto answers ListRecoveryPointsByResource with an error: the native
    snapshots still count and the measurement says AWS Backup was not read."""
    vol = h.volume()
    h.snapshot(vol, at=clock.now() - 30)
    m = measure(ctx, h.volume_arn(vol), clock.now())
    assert m.measured_s == pytest.approx(30.0)
    assert list(m.evidence["unread"]) == [f"aws-backup in {PRIMARY}"]
    assert f"aws-backup in {PRIMARY} could not be read" in m.detail


def test_rpo_iam_names_the_aws_backup_call():
    arn = f"arn:aws:elasticfilesystem:{PRIMARY}:{ACCOUNT}:file-system/fs-1"
    assert rpo_iam(RpoConfig.model_validate({"recovery_point": {"resource_arn": arn}})) == [
        "backup:ListRecoveryPointsByResource"]
    table = RpoConfig.model_validate({"recovery_point": {"resource_arn": h.table_arn("t"), "aws_backup": False}})
    assert rpo_iam(table) == ["dynamodb:DescribeContinuousBackups", "dynamodb:ListBackups"]
