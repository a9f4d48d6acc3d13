"""Restore drills on moto: each action creates the resource, journals its undo before the
call, and the journaled undo deletes it again (twice is harmless). `backup.start-restore`
runs against drtool's fake AWS Backup, because moto 5.2.1 answers 404 for restore jobs.
"""

from __future__ import annotations

import time

import boto3
import pytest

from drtool.backups import restore_aws_backup
from drtool.context import RUN_TAG
from drtool.errors import ChangedSince, DrToolError
from drtool.journal import read_journal
from drtool.registry import ACTIONS, PROBES, UNDOS
from drtool.rollback import undo_all
from tests.aws.cas_helpers import left_as_found
from tests.backups import helpers as h
from tests.backups.helpers import PRIMARY

DAY = 86_400.0
ROLE = "arn:aws:iam::123456789012:role/backup"


def act(ctx, name: str, **with_):
    entry = ACTIONS.get(name)
    return entry.func(ctx, entry.params.model_validate(with_), [])


def check(ctx, name: str, **with_):
    entry = PROBES.get(name)
    ctx.read_only = True
    try:
        return entry.func(ctx, entry.params.model_validate(with_))
    finally:
        ctx.read_only = False


def rollback(ctx, make_ctx) -> list[str]:
    """Replay the journal's pending undos, as `drtool rollback` does."""
    events = read_journal(ctx.journal.path)
    return undo_all(events, lambda region: make_ctx(run_id=ctx.run_id, region=region or PRIMARY), ctx.journal)


def undo_again(ctx, make_ctx) -> list[str]:
    """Run every journaled undo once more, directly: it must be harmless."""
    results = []
    for event in read_journal(ctx.journal.path):
        if event["event"] == "change.intent" and event.get("undo"):
            spec = event["undo"]
            entry = UNDOS.get(spec["name"])
            results.append(entry.func(make_ctx(run_id=ctx.run_id), entry.params.model_validate(spec["params"])))
    return results


def intents(ctx) -> list[dict]:
    events = read_journal(ctx.journal.path)
    done = {e["intent"] for e in events if e["event"] == "change.done"}
    return [e | {"done": e["seq"] in done} for e in events if e["event"] == "change.intent"]


# --- RDS -----------------------------------------------------------------------------


def test_rds_restore_snapshot_newest_then_undo(ctx, make_ctx):
    now = time.time()
    db = h.db_instance("orders-db")
    h.drop_rds_snapshots(db, PRIMARY)
    h.db_snapshot(db, "older", at=now - 2 * DAY)
    h.db_snapshot(db, "newer", at=now - 3600)
    out = act(ctx, "rds.restore-snapshot", db_instance=db, target="orders-db-drill")
    assert out.data["recovery_point"] == "newer"
    assert out.data["recovery_point_at"] == pytest.approx(now - 3600, abs=0.01)
    rds = boto3.client("rds", PRIMARY)
    (made,) = rds.describe_db_instances(DBInstanceIdentifier="orders-db-drill")["DBInstances"]
    assert {"Key": RUN_TAG, "Value": "run-1"} in made["TagList"]
    (intent,) = intents(ctx)
    assert intent["undo"]["name"] == "rds.delete-restored-instance" and intent["done"]
    assert rollback(ctx, make_ctx) == []
    with pytest.raises(rds.exceptions.DBInstanceNotFoundFault):
        rds.describe_db_instances(DBInstanceIdentifier="orders-db-drill")
    assert undo_again(ctx, make_ctx) == ["RDS instance orders-db-drill is already gone."]
    assert rds.describe_db_instances(DBInstanceIdentifier=db)["DBInstances"]  # the source is untouched


def test_rds_restore_named_snapshot_and_refusals(ctx, make_ctx):
    db = h.db_instance("orders-db")
    h.db_snapshot(db, "chosen")
    h.db_instance("taken")
    with pytest.raises(DrToolError, match="already exists"):
        act(ctx, "rds.restore-snapshot", db_instance=db, target="taken", snapshot="chosen")
    assert intents(ctx) == []
    entry = UNDOS.get("rds.delete-restored-instance")
    with pytest.raises(ChangedSince, match="RDS instance taken carries no drtool:run-id tag, so run run-1 did not"):
        entry.func(ctx, entry.params.model_validate({"db_instance": "taken", "run_id": "run-1"}))
    assert boto3.client("rds", PRIMARY).describe_db_instances(DBInstanceIdentifier="taken")["DBInstances"]
    out = act(ctx, "rds.restore-snapshot", db_instance=db, target="restored", snapshot="chosen",
              instance_class="db.t3.small")
    assert out.data["recovery_point"] == "chosen"
    made = boto3.client("rds", PRIMARY).describe_db_instances(DBInstanceIdentifier="restored")["DBInstances"][0]
    assert made["DBInstanceClass"] == "db.t3.small"
    h.drop_rds_snapshots(db, PRIMARY)
    with pytest.raises(DrToolError, match="no available snapshot"):
        act(ctx, "rds.restore-snapshot", db_instance=db, target="other")


# --- DynamoDB ------------------------------------------------------------------------


def test_dynamodb_restore_backup_item_count_then_undo(ctx, make_ctx):
    source = h.table("orders", items=5)
    backup_arn = h.table_backup(source, at=time.time() - 600)
    ddb = boto3.client("dynamodb", PRIMARY)
    for i in range(2):
        ddb.put_item(TableName=source, Item={"pk": {"S": f"late-{i}"}})
    out = act(ctx, "dynamodb.restore-backup", table=source, target="orders-drill")
    assert out.data["recovery_point"] == backup_arn
    assert out.data["recovery_point_at"] == pytest.approx(time.time() - 600, abs=5)
    tags = ddb.list_tags_of_resource(ResourceArn=out.data["table_arn"])["Tags"]
    assert {"Key": RUN_TAG, "Value": "run-1"} in tags
    assert check(ctx, "dynamodb.item-count", table="orders-drill", matches_backup="restored").ok
    assert check(ctx, "dynamodb.item-count", table="orders-drill", matches_backup=backup_arn).ok
    assert check(ctx, "dynamodb.item-count", table="orders-drill", matches_backup="newest", source_table=source).ok
    exact = check(ctx, "dynamodb.item-count", table="orders-drill", equals=5)
    assert exact.ok and exact.data == {"count": 5, "expected": 5, "method": "exact", "tolerance": 0}
    wrong = check(ctx, "dynamodb.item-count", table=source, matches_backup=backup_arn)
    assert not wrong.ok and "holds 7 items, but backup" in wrong.detail
    assert not check(ctx, "dynamodb.item-count", table="nope", equals=1).ok
    assert [i["undo"]["name"] for i in intents(ctx) if i["undo"]] == ["dynamodb.delete-restored-table"]
    assert rollback(ctx, make_ctx) == []
    assert "orders-drill" not in ddb.list_tables()["TableNames"]
    assert undo_again(ctx, make_ctx) == ["DynamoDB table orders-drill is already gone."]
    assert source in ddb.list_tables()["TableNames"]


def test_dynamodb_undo_recognises_an_untagged_restore_after_a_crash(ctx):
    """A crash between RestoreTableFromBackup and TagResource leaves an untagged table."""
    source = h.table("orders", items=1)
    backup_arn = h.table_backup(source)
    ddb = boto3.client("dynamodb", PRIMARY)
    ddb.restore_table_from_backup(TargetTableName="orders-drill", BackupArn=backup_arn)
    entry = UNDOS.get("dynamodb.delete-restored-table")
    with pytest.raises(ChangedSince, match=f"carries no drtool:run-id tag and was restored from {backup_arn}"):
        entry.func(ctx, entry.params.model_validate(
            {"table": "orders-drill", "run_id": "run-1", "backup_arn": "arn:aws:dynamodb:x:1:table/y/backup/z"}))
    assert "orders-drill" in ddb.list_tables()["TableNames"]
    entry.func(ctx, entry.params.model_validate({"table": "orders-drill", "run_id": "run-1", "backup_arn": backup_arn}))
    assert "orders-drill" not in ddb.list_tables()["TableNames"]


def test_dynamodb_restore_refuses_an_existing_target_and_a_table_without_backups(ctx):
    source = h.table("orders")
    with pytest.raises(DrToolError, match="no available on-demand backup"):
        act(ctx, "dynamodb.restore-backup", table=source, target="orders-drill")
    h.table_backup(source)
    with pytest.raises(DrToolError, match="already exists"):
        act(ctx, "dynamodb.restore-backup", table=source, target=source)
    assert intents(ctx) == []


def test_item_count_params_are_checked():
    params = PROBES.get("dynamodb.item-count").params
    with pytest.raises(ValueError):
        params.model_validate({"table": "t"})
    with pytest.raises(ValueError):
        params.model_validate({"table": "t", "equals": 1, "matches_backup": "restored"})
    with pytest.raises(ValueError):
        params.model_validate({"table": "t", "matches_backup": "newest"})


# --- EBS -----------------------------------------------------------------------------


def test_ec2_restore_volume_from_newest_snapshot_then_undo(ctx, make_ctx):
    now = time.time()
    vol = h.volume()
    h.snapshot(vol, at=now - DAY)
    newest = h.snapshot(vol, at=now - 120)
    assert not check(ctx, "ec2.volume-available", restored_from=vol).ok
    out = act(ctx, "ec2.restore-volume", volume=vol)
    assert out.data["recovery_point"] == newest and out.data["az"] == f"{PRIMARY}a"
    assert out.data["recovery_point_at"] == pytest.approx(now - 120, abs=1)
    ec2 = boto3.client("ec2", PRIMARY)
    (made,) = ec2.describe_volumes(VolumeIds=[out.data["volume_id"]])["Volumes"]
    assert made["SnapshotId"] == newest
    result = check(ctx, "ec2.volume-available", restored_from=vol)
    assert result.ok and result.data["states"] == {out.data["volume_id"]: "available"}
    assert check(ctx, "ec2.volume-available", volume_id=out.data["volume_id"]).ok
    assert rollback(ctx, make_ctx) == []
    assert [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]] == [vol]
    assert undo_again(ctx, make_ctx) == ["No restored volume is left."]


def test_ec2_restore_volume_when_the_source_volume_is_lost(ctx):
    vol = h.volume()
    snap = h.snapshot(vol)
    boto3.client("ec2", PRIMARY).delete_volume(VolumeId=vol)
    out = act(ctx, "ec2.restore-volume", volume=vol, snapshot=snap)
    assert out.data["az"].startswith(PRIMARY)
    out = act(ctx, "ec2.restore-volume", volume=vol, az=f"{PRIMARY}c")
    assert out.data["az"] == f"{PRIMARY}c"
    with pytest.raises(DrToolError, match="no completed snapshot"):
        act(ctx, "ec2.restore-volume", volume="vol-0123456789abcdef0")


# --- AWS Backup (faked) --------------------------------------------------------------


def _backed_up_table(session, clock, items: int = 4) -> tuple[str, str]:
    name = h.table("orders", items=items)
    job = session.client("backup").start_backup_job(BackupVaultName="Default", ResourceArn=h.table_arn(name),
                                                    IamRoleArn=ROLE)
    clock.advance(60)
    return name, job["RecoveryPointArn"]


def test_backup_start_restore_job_probe_and_undo(session, fake_backup, clock, ctx, make_ctx):
    name, point = _backed_up_table(session, clock)
    taken = clock.now() - 60
    out = act(ctx, "backup.start-restore", resource_arn=h.table_arn(name), iam_role_arn=ROLE,
              metadata={"targetTableName": "orders-restored"})
    assert out.data["recovery_point"] == point and out.data["recovery_point_at"] == taken
    pending = check(ctx, "backup.restore-job-completed", last=True)
    assert not pending.ok and pending.data["status"] == "RUNNING"
    clock.advance(300)
    done = check(ctx, "backup.restore-job-completed", restore_job_id=out.data["restore_job_id"])
    assert done.ok and done.data["created_resource_arn"].endswith(":table/orders-restored")
    assert check(ctx, "backup.restore-job-completed", last=True).ok
    assert check(ctx, "dynamodb.item-count", table="orders-restored", equals=4).ok
    first, second = intents(ctx)
    assert "restore_job_id" not in first["undo"]["params"] and first["undo"]["params"]["run_id"] == "run-1"
    assert second["undo"]["params"]["restore_job_id"] == out.data["restore_job_id"]
    assert rollback(ctx, make_ctx) == []
    ddb = boto3.client("dynamodb", PRIMARY)
    assert ddb.list_tables()["TableNames"] == [name]
    job = out.data["restore_job_id"]
    assert undo_again(ctx, make_ctx) == [f"DynamoDB table orders-restored (restored by job {job}) is already gone."] * 2


def _crash_before_the_job_id(ctx) -> None:
    """Cut the journal after StartRestoreJob's intent and done: the job id never reached it."""
    lines = ctx.journal.path.read_text().splitlines()
    ctx.journal.path.write_text("\n".join(lines[:2]) + "\n")
    assert [e["event"] for e in read_journal(ctx.journal.path)] == ["change.intent", "change.done"]


def test_backup_undo_after_a_crash_deletes_only_what_carries_the_run_tag(session, fake_backup, clock,
                                                                        ctx, make_ctx):
    """The job id never reached the journal and the job is still running: the undo finds it
    by recovery point, role and time window and waits (FakeClock). The table it made carries
    no run tag, so it is left as found; once it carries the run's tag it is deleted."""
    name, point = _backed_up_table(session, clock)
    act(ctx, "backup.start-restore", recovery_point_arn=point, vault="Default", iam_role_arn=ROLE,
        metadata={"targetTableName": "orders-restored"})
    _crash_before_the_job_id(ctx)
    restore_aws_backup.RESTORE_JOBS.clear()
    ddb = boto3.client("dynamodb", PRIMARY)
    assert "orders-restored" not in ddb.list_tables()["TableNames"]
    (item,) = left_as_found(rollback(ctx, make_ctx))
    assert "DynamoDB table orders-restored (restored by job" in item and "carries no drtool:run-id tag" in item
    assert "orders-restored" in ddb.list_tables()["TableNames"]
    ddb.tag_resource(ResourceArn=h.table_arn("orders-restored"), Tags=[{"Key": RUN_TAG, "Value": "run-1"}])
    assert rollback(ctx, make_ctx) == []
    assert ddb.list_tables()["TableNames"] == [name]


def test_backup_undo_after_a_crash_leaves_another_runs_restore_alone(session, fake_backup, clock, make_ctx):
    """Two runs restore the same recovery point; run-1 crashes before journaling its job id.
    Its rollback deletes its own (tagged) table and leaves run-2's alone."""
    fake_backup.durations["restore"] = 0  # jobs finish at once: the action tags what they made
    name, point = _backed_up_table(session, clock)
    mine, theirs = make_ctx("run-1"), make_ctx("run-2")
    act(mine, "backup.start-restore", recovery_point_arn=point, vault="Default", iam_role_arn=ROLE,
        metadata={"targetTableName": "orders-run-1"})
    act(theirs, "backup.start-restore", recovery_point_arn=point, vault="Default", iam_role_arn=ROLE,
        metadata={"targetTableName": "orders-run-2"})
    ddb = boto3.client("dynamodb", PRIMARY)
    tags = ddb.list_tags_of_resource(ResourceArn=h.table_arn("orders-run-1"))["Tags"]
    assert {"Key": RUN_TAG, "Value": "run-1"} in tags and {"Key": "drtool:restored-from", "Value": point} in tags
    lines = mine.journal.path.read_text().splitlines()
    mine.journal.path.write_text("\n".join(lines[:2]) + "\n")
    assert rollback(mine, make_ctx) == []
    assert sorted(ddb.list_tables()["TableNames"]) == [name, "orders-run-2"]


def test_backup_undo_leaves_a_restored_resource_someone_adopted(session, fake_backup, clock, ctx, make_ctx):
    """Someone re-tags the restored table for another owner mid-drill: rollback keeps it."""
    fake_backup.durations["restore"] = 0
    _backed_up_table(session, clock)
    out = act(ctx, "backup.start-restore", resource_arn=h.table_arn("orders"), iam_role_arn=ROLE,
              metadata={"targetTableName": "orders-restored"})
    assert "tagged with the run id" in out.detail
    ddb = boto3.client("dynamodb", PRIMARY)
    ddb.tag_resource(ResourceArn=h.table_arn("orders-restored"), Tags=[{"Key": RUN_TAG, "Value": "kept-by-ops"}])
    remaining = rollback(ctx, make_ctx)
    assert "orders-restored" in ddb.list_tables()["TableNames"]
    (item,) = remaining  # the job-id undo leaves it as found; the time-window one sees another owner's
    assert left_as_found(remaining) == [item] and "carries drtool:run-id=kept-by-ops, not run-1" in item


def test_backup_restore_metadata_starts_from_the_recovery_point(session, fake_backup, clock, ctx, make_ctx):
    vol = h.volume()
    job = session.client("backup").start_backup_job(BackupVaultName="Default", ResourceArn=h.volume_arn(vol),
                                                     IamRoleArn=ROLE)
    clock.advance(60)
    out = act(ctx, "backup.start-restore", recovery_point_arn=job["RecoveryPointArn"], vault="Default",
              iam_role_arn=ROLE, metadata={"availabilityZone": f"{PRIMARY}b"})
    sent = fake_backup.jobs[out.data["restore_job_id"]].params["Metadata"]
    assert sent == {"volumeId": vol, "encrypted": "false", "availabilityZone": f"{PRIMARY}b"}
    clock.advance(300)
    assert rollback(ctx, make_ctx) == []
    assert [v["VolumeId"] for v in boto3.client("ec2", PRIMARY).describe_volumes()["Volumes"]] == [vol]


def test_backup_restore_needs_a_new_name(session, fake_backup, clock, ctx):
    name, point = _backed_up_table(session, clock)
    with pytest.raises(DrToolError, match="give metadata.targetTableName"):
        act(ctx, "backup.start-restore", recovery_point_arn=point, vault="Default", iam_role_arn=ROLE)
    assert intents(ctx) == [] and fake_backup.jobs and all(j.kind == "backup" for j in fake_backup.jobs.values())


def test_backup_start_restore_needs_a_recovery_point(session, fake_backup, ctx):
    with pytest.raises(DrToolError, match="no completed recovery point"):
        act(ctx, "backup.start-restore", resource_arn=h.table_arn("nothing"), iam_role_arn=ROLE)
    with pytest.raises(ValueError):
        ACTIONS.get("backup.start-restore").params.model_validate({"iam_role_arn": ROLE})
    assert intents(ctx) == []
