"""Inventory + check on moto (EBS, RDS, DynamoDB); AWS Backup recovery points come from
drtool's fake, because moto 5.2.1 answers 404 for AWS Backup jobs and recovery points.

Recovery-point ages are set inside moto with tests/backups/helpers.py (moto stamps "now").
"""

from __future__ import annotations

import time

import boto3

from drtool.backups import check_backups
from drtool.context import RUN_TAG
from tests.backups import helpers as h
from tests.backups.helpers import DR, PRIMARY

DAY = 86_400.0
ORDERS = {"app": ["orders"]}


def verdicts(session, copy_regions=(), regions=(PRIMARY,), tags=ORDERS, workers=1):
    report = check_backups(session, regions=list(regions), tags=tags, rpo_s=DAY, copy_regions=list(copy_regions),
                           now=time.time(), workers=workers)
    return {v.id: v for v in report.verdicts}


def test_ebs_fresh_stale_missing(session):
    now = time.time()
    fresh, stale, missing = h.volume(), h.volume(), h.volume()
    h.snapshot(fresh, at=now - 3 * DAY)
    h.snapshot(fresh, at=now - 600)
    h.snapshot(stale, at=now - 3 * DAY)
    v = verdicts(session)
    assert set(v) == {fresh, stale, missing}
    assert v[fresh].compliant and 590 < v[fresh].age_s < 700 and v[fresh].newest_kind == "ebs-snapshot"
    assert not v[stale].compliant and "over the RPO" in v[stale].reason
    assert not v[missing].compliant and v[missing].age_s is None and v[missing].reason == "no recovery point found"


def test_untagged_other_tags_and_drill_artifacts_are_never_reported(session):
    untagged = h.volume(tags=None)
    other = h.volume(tags=[{"Key": "app", "Value": "billing"}])
    artifact = h.volume(tags=[*h.TAGS, {"Key": RUN_TAG, "Value": "run-9"}])
    h.table("untagged-table", tags=None)
    h.db_instance("untagged-db", tags=None)
    for vol in (untagged, other, artifact):
        h.snapshot(vol)
    mine = h.volume()
    assert set(verdicts(session)) == {mine}
    everything = verdicts(session, tags={})  # no --tag: every tagged resource, still none untagged
    assert set(everything) == {mine, other}


def test_ebs_copies_moto_volumeid_aws_description_and_tags(session):
    now = time.time()
    by_volume_id, by_description, by_tag, uncopied, unmatchable = (h.volume() for _ in range(5))
    for vol in (by_volume_id, by_description, by_tag, uncopied, unmatchable):
        h.snapshot(vol, at=now - 3600)
    snap_b = h.snapshot(by_description, at=now - 7200)
    h.copy_snapshot(h.snapshot(by_volume_id, at=now - 60))  # moto: the copy keeps the source VolumeId
    copy_b = h.copy_snapshot(snap_b, description=f"[Copied {snap_b} from {PRIMARY}] nightly")
    h.make_copy_look_like_aws(copy_b, DR)
    copy_c = h.copy_snapshot(h.snapshot(by_tag), tags=[{"Key": "source-volume", "Value": by_tag}])
    h.make_copy_look_like_aws(copy_c, DR)
    copy_e = h.copy_snapshot(h.snapshot(unmatchable), description="copied by hand")
    h.make_copy_look_like_aws(copy_e, DR)
    v = verdicts(session, copy_regions=[DR])
    for vol in (by_volume_id, by_description, by_tag):
        assert v[vol].compliant and v[vol].copy_regions == (DR,), v[vol].reason
    for vol in (uncopied, unmatchable):
        assert not v[vol].compliant and v[vol].reason == f"no copy in {DR}"


def test_copy_age_counts_from_the_source_snapshot(session):
    """A copy made a minute ago of a two-day-old snapshot holds two-day-old data."""
    now = time.time()
    vol = h.volume()
    source = h.snapshot(vol, at=now - 2 * DAY)
    copy = h.copy_snapshot(source, description=f"[Copied {source} from {PRIMARY}]")
    h.make_copy_look_like_aws(copy, DR)
    h.snapshot(vol)  # a fresh local snapshot, never copied
    v = verdicts(session, copy_regions=[DR])[vol]
    assert not v.compliant and v.copy_regions == (DR,)
    assert v.reason.startswith(f"newest copy in {DR} is 2d00h old")


def test_rds_instance_snapshots_pitr_and_copies(session):
    now = time.time()
    fresh = h.db_instance("fresh-db")
    stale = h.db_instance("stale-db")
    missing = h.db_instance("missing-db")
    pitr = h.db_instance("pitr-db", retention=7)
    for db in (stale, missing, pitr):
        h.drop_rds_snapshots(db, PRIMARY)
    h.db_snapshot(stale, "stale-manual", at=now - 3 * DAY)
    h.db_snapshot(fresh, "fresh-manual", at=now - 300)
    arn = boto3.client("rds", PRIMARY).describe_db_snapshots(DBSnapshotIdentifier="fresh-manual")[
        "DBSnapshots"][0]["DBSnapshotArn"]
    boto3.client("rds", DR).copy_db_snapshot(SourceDBSnapshotIdentifier=arn, TargetDBSnapshotIdentifier="fresh-dr",
                                             SourceRegion=PRIMARY)
    v = verdicts(session, copy_regions=[DR])
    assert v[fresh].compliant and v[fresh].copy_regions == (DR,)
    assert not v[stale].compliant and "over the RPO" in v[stale].reason
    assert v[missing].reason == f"no recovery point found; no copy in {DR}"
    assert v[pitr].newest_kind == "rds-pitr" and v[pitr].reason == f"no copy in {DR}"


def test_aurora_member_is_judged_by_its_cluster(session):
    rds = boto3.client("rds", PRIMARY)
    rds.create_db_cluster(DBClusterIdentifier="orders-cluster", Engine="aurora-postgresql", MasterUsername="admin1",
                          MasterUserPassword="password123", Tags=h.TAGS)
    rds.create_db_instance(DBInstanceIdentifier="orders-writer", DBInstanceClass="db.r6g.large",
                           Engine="aurora-postgresql", DBClusterIdentifier="orders-cluster", Tags=h.TAGS)
    rds.create_db_cluster_snapshot(DBClusterIdentifier="orders-cluster", DBClusterSnapshotIdentifier="cs-1")
    v = verdicts(session)
    assert v["orders-cluster"].compliant and v["orders-writer"].compliant
    assert v["orders-writer"].newest_kind in ("rds-cluster-snapshot", "rds-pitr")


def test_dynamodb_backups_and_pitr(session):
    now = time.time()
    fresh, stale, missing, pitr_old, pitr_new = (h.table(n) for n in ("fresh", "stale", "missing", "pitr-old",
                                                                      "pitr-new"))
    h.table_backup(fresh, at=now - 3600)
    h.table_backup(stale, at=now - 5 * DAY)
    h.enable_pitr(pitr_old, at=now - 2 * DAY)
    h.enable_pitr(pitr_new, at=now - 300)
    h.table_backup(pitr_new, at=now - 3 * DAY)
    v = verdicts(session)
    assert v[fresh].compliant and v[fresh].newest_kind == "dynamodb-backup"
    assert not v[stale].compliant
    assert not v[missing].compliant and v[missing].newest_recovery_point_at is None
    assert not v[pitr_old].compliant and v[pitr_old].newest_kind == "dynamodb-pitr"
    assert v[pitr_new].compliant and v[pitr_new].newest_kind == "dynamodb-pitr"


def test_aws_backup_recovery_points_and_copies(session, fake_backup):
    """AWS Backup is faked (moto has no recovery points); a copy keeps its ResourceArn."""
    now = time.time()
    fresh, stale, copied = h.volume(), h.volume(), h.table("orders")
    fake_backup.add_recovery_point(h.volume_arn(fresh), now - 600)
    fake_backup.add_recovery_point(h.volume_arn(stale), now - 3 * DAY)
    fake_backup.add_recovery_point(h.table_arn(copied), now - 900)
    fake_backup.add_recovery_point(h.table_arn(copied), now - 900, region=DR)
    v = verdicts(session, copy_regions=[DR])
    assert v[fresh].newest_kind == "aws-backup" and v[fresh].reason == f"no copy in {DR}"
    assert "over the RPO" in v[stale].reason
    assert v[copied].compliant and v[copied].copy_regions == (DR,)


def test_aws_backup_job_flow_is_seen_by_the_check(session, fake_backup, clock):
    """Backup then copy through the (faked) AWS Backup API: both recovery points count."""
    vol = h.volume()
    backup = session.client("backup", PRIMARY)
    job = backup.start_backup_job(BackupVaultName="Default", ResourceArn=h.volume_arn(vol),
                                  IamRoleArn="arn:aws:iam::123456789012:role/backup")
    clock.advance(60)
    backup.start_copy_job(RecoveryPointArn=job["RecoveryPointArn"], SourceBackupVaultName="Default",
                          DestinationBackupVaultArn=f"arn:aws:backup:{DR}:123456789012:backup-vault:Default",
                          IamRoleArn="arn:aws:iam::123456789012:role/backup")
    clock.advance(120)
    report = check_backups(session, regions=[PRIMARY], tags=ORDERS, rpo_s=DAY, copy_regions=[DR],
                           now=time.time(), workers=1)
    (v,) = report.verdicts
    assert v.compliant and v.copy_regions == (DR,), v.reason


def test_one_list_call_per_region_never_one_per_resource(session):
    now = time.time()
    for _ in range(6):
        h.snapshot(h.volume(), at=now - 60)
    for i in range(3):
        h.table_backup(h.table(f"t{i}"))
    for i in range(2):
        h.db_instance(f"db{i}")
    v = verdicts(session, copy_regions=[DR], workers=1)
    assert len(v) == 11 and all(x.reason.endswith(f"no copy in {DR}") for x in v.values())
    calls = session.calls
    assert calls["ec2:DescribeSnapshots"] == 2  # one per region (primary + copy region)
    assert calls["ec2:DescribeVolumes"] == 1
    assert calls["rds:DescribeDBSnapshots"] == 2 and calls["rds:DescribeDBInstances"] == 1
    assert calls["dynamodb:ListBackups"] == 1
    assert calls["dynamodb:DescribeContinuousBackups"] == 3  # per table: PITR has no list call
    assert calls["resourcegroupstaggingapi:GetResources"] == 1
    assert calls["backup:ListBackupVaults"] == 2


def test_parallel_workers_give_the_same_verdicts(session):
    now = time.time()
    for i, age in enumerate((0.0, 0.5 * DAY, 2 * DAY, 3 * DAY)):
        h.table_backup(h.table(f"p{i}"), at=now - age)
        h.snapshot(h.volume(), at=now - age)
    serial = verdicts(session, workers=1)
    parallel = verdicts(session, workers=8)
    assert {k: v.compliant for k, v in serial.items()} == {k: v.compliant for k, v in parallel.items()}
    assert sum(v.compliant for v in serial.values()) == 4
