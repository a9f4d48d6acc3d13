"""The fake AWS Backup service (drtool.sandbox.fakes), served to in-process moto over HTTP.

moto 5.2 answers 404 "Not yet implemented" for backup, copy and restore jobs and for
recovery points; the fake serves them at the HTTP layer (botocore builds and parses the
real restJson requests), with durations on a FakeClock, and makes the native
snapshots/backups/restores in moto so restored resources are real there.
"""

from __future__ import annotations

import boto3
import pytest

from drtool.sandbox.fakes.backup_api import FakeBackup
from drtool.sandbox.fakes.in_process import serving
from drtool.timing import FakeClock
from tests.backups import helpers as h
from tests.backups.helpers import DR, PRIMARY

ROLE = "arn:aws:iam::123456789012:role/backup"
DR_VAULT = f"arn:aws:backup:{DR}:123456789012:backup-vault:Default"


def test_backup_job_runs_for_its_duration_then_publishes_the_recovery_point(session, fake_backup, clock):
    name = h.table("orders", items=3)
    backup = session.client("backup")
    job = backup.start_backup_job(BackupVaultName="Default", ResourceArn=h.table_arn(name), IamRoleArn=ROLE)
    started = clock.now()
    described = backup.describe_backup_job(BackupJobId=job["BackupJobId"])
    assert described["State"] == "RUNNING" and described["ResourceType"] == "DynamoDB"
    assert backup.list_recovery_points_by_resource(ResourceArn=h.table_arn(name))["RecoveryPoints"] == []
    clock.advance(59)
    assert backup.describe_backup_job(BackupJobId=job["BackupJobId"])["State"] == "RUNNING"
    clock.advance(1)
    described = backup.describe_backup_job(BackupJobId=job["BackupJobId"])
    assert described["State"] == "COMPLETED" and described["CompletionDate"].timestamp() == started + 60
    (point,) = backup.list_recovery_points_by_backup_vault(BackupVaultName="Default")["RecoveryPoints"]
    assert point["RecoveryPointArn"] == job["RecoveryPointArn"] and point["Status"] == "COMPLETED"
    assert point["CreationDate"].timestamp() == started and point["ResourceArn"] == h.table_arn(name)
    assert backup.describe_recovery_point(BackupVaultName="Default", RecoveryPointArn=point["RecoveryPointArn"])[
        "ResourceType"] == "DynamoDB"
    # the native backup exists in moto: the recovery point is a real DynamoDB backup
    summaries = boto3.client("dynamodb", PRIMARY).list_backups(TableName=name)["BackupSummaries"]
    assert [s["BackupArn"] for s in summaries] == [job["RecoveryPointArn"]]
    assert [j["BackupJobId"] for j in backup.list_backup_jobs(ByState="COMPLETED")["BackupJobs"]] == [
        job["BackupJobId"]]


def test_restore_job_creates_the_resource_only_when_it_completes(session, fake_backup, clock):
    vol = h.volume()
    backup = session.client("backup")
    job = backup.start_backup_job(BackupVaultName="Default", ResourceArn=h.volume_arn(vol), IamRoleArn=ROLE)
    clock.advance(60)
    restore = backup.start_restore_job(RecoveryPointArn=job["RecoveryPointArn"], IamRoleArn=ROLE,
                                       Metadata={"availabilityZone": f"{PRIMARY}b"})
    ec2 = boto3.client("ec2", PRIMARY)
    assert len(ec2.describe_volumes()["Volumes"]) == 1
    assert backup.describe_restore_job(RestoreJobId=restore["RestoreJobId"])["Status"] == "RUNNING"
    clock.advance(300)
    described = backup.describe_restore_job(RestoreJobId=restore["RestoreJobId"])
    assert described["Status"] == "COMPLETED"
    new_id = described["CreatedResourceArn"].rsplit("/", 1)[1]
    (created,) = ec2.describe_volumes(VolumeIds=[new_id])["Volumes"]
    assert created["AvailabilityZone"] == f"{PRIMARY}b" and created["SnapshotId"]
    assert backup.list_restore_jobs()["RestoreJobs"][0]["RestoreJobId"] == restore["RestoreJobId"]


def test_rds_and_dynamodb_restores_need_their_metadata(session, fake_backup, clock):
    h.db_instance("orders-db")
    backup = session.client("backup")
    job = backup.start_backup_job(BackupVaultName="Default", IamRoleArn=ROLE,
                                  ResourceArn=f"arn:aws:rds:{PRIMARY}:123456789012:db:orders-db")
    clock.advance(60)
    with pytest.raises(backup.exceptions.InvalidParameterValueException):
        backup.start_restore_job(RecoveryPointArn=job["RecoveryPointArn"], IamRoleArn=ROLE, Metadata={})
    restore = backup.start_restore_job(RecoveryPointArn=job["RecoveryPointArn"], IamRoleArn=ROLE,
                                       Metadata={"DBInstanceIdentifier": "orders-db-restored"})
    clock.advance(300)
    assert backup.describe_restore_job(RestoreJobId=restore["RestoreJobId"])["Status"] == "COMPLETED"
    dbs = boto3.client("rds", PRIMARY).describe_db_instances(DBInstanceIdentifier="orders-db-restored")
    assert dbs["DBInstances"][0]["DBInstanceStatus"] == "available"


def test_copy_job_lands_in_the_destination_region_with_the_source_resource_arn(session, fake_backup, clock):
    vol = h.volume()
    backup = session.client("backup")
    job = backup.start_backup_job(BackupVaultName="Default", ResourceArn=h.volume_arn(vol), IamRoleArn=ROLE)
    clock.advance(60)
    copy = backup.start_copy_job(RecoveryPointArn=job["RecoveryPointArn"], SourceBackupVaultName="Default",
                                 DestinationBackupVaultArn=DR_VAULT, IamRoleArn=ROLE)
    assert backup.describe_copy_job(CopyJobId=copy["CopyJobId"])["CopyJob"]["State"] == "RUNNING"
    clock.advance(120)
    described = backup.describe_copy_job(CopyJobId=copy["CopyJobId"])["CopyJob"]
    assert described["State"] == "COMPLETED"
    dr = session.client("backup", DR)
    (point,) = dr.list_recovery_points_by_backup_vault(BackupVaultName="Default")["RecoveryPoints"]
    assert point["ResourceArn"] == h.volume_arn(vol) and point["RecoveryPointArn"] == described[
        "DestinationRecoveryPointArn"]
    (snap,) = boto3.client("ec2", DR).describe_snapshots(OwnerIds=["self"])["Snapshots"]
    assert snap["Description"].startswith("[Copied snap-")


def test_errors_come_back_as_the_services_exceptions(session, fake_backup):
    backup = session.client("backup")
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.describe_restore_job(RestoreJobId="nope")
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.start_backup_job(BackupVaultName="missing", ResourceArn=h.volume_arn(h.volume()), IamRoleArn=ROLE)
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.describe_recovery_point(BackupVaultName="Default", RecoveryPointArn="arn:aws:backup:x")


def test_idempotency_tokens_and_delete_recovery_point(session, fake_backup, clock):
    vol = h.volume()
    backup = session.client("backup")
    kwargs = {"BackupVaultName": "Default", "ResourceArn": h.volume_arn(vol), "IamRoleArn": ROLE,
              "IdempotencyToken": "same"}
    first, second = backup.start_backup_job(**kwargs), backup.start_backup_job(**kwargs)
    assert first["BackupJobId"] == second["BackupJobId"]
    clock.advance(60)
    backup.delete_recovery_point(BackupVaultName="Default", RecoveryPointArn=first["RecoveryPointArn"])
    assert backup.list_recovery_points_by_backup_vault(BackupVaultName="Default")["RecoveryPoints"] == []
    assert boto3.client("ec2", PRIMARY).describe_snapshots(OwnerIds=["self"])["Snapshots"] == []


def test_a_failed_native_call_fails_the_job(session, fake_backup, clock):
    backup = session.client("backup")
    job = backup.start_backup_job(BackupVaultName="Default", IamRoleArn=ROLE,
                                  ResourceArn=h.table_arn("no-such-table"))
    clock.advance(60)
    described = backup.describe_backup_job(BackupJobId=job["BackupJobId"])
    assert described["State"] == "FAILED"
    assert described["StatusMessage"].startswith("TableNotFoundException")


def test_any_client_sees_the_fake_and_moto_keeps_the_rest(aws):
    """Served at the HTTP layer: a plain boto3 client and a boto3 Session's client both see
    the fake's jobs, while vault calls still reach moto."""
    clock = FakeClock()
    client = boto3.client("backup", PRIMARY)
    client.create_backup_vault(BackupVaultName="Default")
    with serving(FakeBackup(clock, {"backup": 0})) as fake:
        vol = h.volume()
        job = client.start_backup_job(BackupVaultName="Default", ResourceArn=h.volume_arn(vol), IamRoleArn=ROLE)
        assert client.describe_backup_job(BackupJobId=job["BackupJobId"])["State"] == "COMPLETED"
        assert list(fake.recovery_points) == [job["RecoveryPointArn"]]
        other = boto3.Session(region_name=PRIMARY).client("backup")
        point = other.describe_recovery_point(BackupVaultName="Default", RecoveryPointArn=job["RecoveryPointArn"])
        assert point["ResourceArn"] == h.volume_arn(vol) and point["ResourceType"] == "EBS"
        assert [v["BackupVaultName"] for v in other.list_backup_vaults()["BackupVaultList"]] == ["Default"]
    with pytest.raises(client.exceptions.ClientError, match="Not yet implemented|404"):
        client.list_backup_jobs()
