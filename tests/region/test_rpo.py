"""Measured RPO: canary arithmetic (FakeClock, exact), a truth test against a replicator with a
known lag (SystemClock), canary removal (cleanup and the journaled undo after a crash), and the
recovery-point and replication-lag samplers."""

from __future__ import annotations

import json
import threading
import time

import pytest
from pydantic import ValidationError

from drtool.rpo import CanaryMeter, RecoveryPointMeter, ReplicationLagMeter, RpoConfig, build_meters
from drtool.timing import FakeClock, SystemClock
from tests.region.helpers import DR, PRIMARY, journal_events, make_buckets, make_tables, run_undo

PREFIX = "drtool-canary/run-test/"
S3_CANARY = {"s3": {"bucket": "shop-orders-use1", "region": PRIMARY, "replica_bucket": "shop-orders-usw2",
                    "replica_region": DR}, "interval": "0.25s"}
DDB_CANARY = {"dynamodb": {"table": "shop-sessions", "region": PRIMARY, "replica_region": DR}, "interval": "0.25s"}


def _meter(ctx, canary) -> CanaryMeter:
    [meter] = build_meters(RpoConfig.model_validate({"canary": canary}), ctx)
    return meter


def _copy_objects(session, seqs):
    s1, s2 = session.client("s3", PRIMARY), session.client("s3", DR)
    for seq in seqs:
        key = f"{PREFIX}{seq:08d}"
        body = s1.get_object(Bucket="shop-orders-use1", Key=key)["Body"].read()
        s2.put_object(Bucket="shop-orders-usw2", Key=key, Body=body)


def _versions(session, region, bucket):
    page = session.client("s3", region).list_object_versions(Bucket=bucket, Prefix="drtool-canary/")
    return (page.get("Versions") or []) + (page.get("DeleteMarkers") or [])


def _write(meter, clock, count, step=0.25):
    for _ in range(count):
        assert meter.tick()
        clock.advance(step)


def test_canary_rpo_is_exact_with_holes_and_lost_tail(session, make_ctx):
    """seq 0..9 written 0.25 s apart; 0-5 and 7 replicated: newest survivor #7 at t0+1.75."""
    make_buckets(session)
    clock = FakeClock()
    ctx = make_ctx(clock)
    meter = _meter(ctx, S3_CANARY)
    t0 = clock.now()
    meter.start(background=False)
    _write(meter, clock, 10)
    _copy_objects(session, [0, 1, 2, 3, 4, 5, 7])
    meter.mark_fault(t0 + 3.0)

    m = meter.measure()
    assert m.method == "canary"
    assert m.measured_s == pytest.approx(3.0 - 7 * 0.25, abs=1e-6)
    ev = m.evidence
    assert (ev["written"], ev["survived"], ev["newest_seq"]) == (10, 7, 7)
    assert (ev["lost_writes"], ev["lost_after_newest"], ev["holes"]) == (3, 2, [6])
    assert "#7" in m.detail and "3 of 10" in m.detail


def test_replication_leaking_after_the_fault_does_not_shrink_the_rpo(session, make_ctx):
    """SPEC 7.2: the replica is read at the fault. Canaries that reach it later (a paused
    replication leaking, FIS: up to 1 h for S3) are still counted as lost."""
    make_buckets(session)
    clock = FakeClock()
    ctx = make_ctx(clock)
    meter = _meter(ctx, S3_CANARY)
    t0 = clock.now()
    meter.start(background=False)
    _write(meter, clock, 10)
    _copy_objects(session, [0, 1, 2, 3])
    meter.mark_fault(t0 + 3.0)
    _copy_objects(session, [4, 5, 6, 7, 8, 9])          # the leak, after the fault
    clock.advance(60)

    m = meter.measure()
    assert m.measured_s == pytest.approx(3.0 - 3 * 0.25, abs=1e-6)
    assert m.evidence["lost_writes"] == 6 and m.evidence["replica_read"] == "at the fault"


def test_no_survivor_means_everything_since_start_was_lost(session, make_ctx):
    make_buckets(session)
    clock = FakeClock()
    meter = _meter(make_ctx(clock), S3_CANARY)
    t0 = clock.now()
    meter.start(background=False)
    _write(meter, clock, 4)
    meter.mark_fault(t0 + 2.0)
    m = meter.measure()
    assert m.measured_s is None and m.evidence["lost_writes"] == 4
    assert m.evidence["rpo_at_least_s"] == pytest.approx(2.0)
    assert "No canary reached" in m.detail and "unbounded" in m.detail


def test_write_errors_are_counted_never_raised(session, make_ctx):
    """No buckets at all: every write fails (as when the region is cut off)."""
    clock = FakeClock()
    meter = _meter(make_ctx(clock), S3_CANARY)
    meter.start(background=False)
    assert not meter.tick() and not meter.tick()
    meter.mark_fault(clock.now())
    m = meter.measure()
    assert m.measured_s is None and m.evidence["write_errors"] == 2
    assert "NoSuchBucket" in m.detail


def test_dynamodb_canary_rpo_is_exact_and_cleanup_removes_items(session, make_ctx):
    make_tables(session)
    clock = FakeClock()
    ctx = make_ctx(clock)
    meter = _meter(ctx, DDB_CANARY)
    t0 = clock.now()
    meter.start(background=False)
    _write(meter, clock, 6)
    primary, replica = session.client("dynamodb", PRIMARY), session.client("dynamodb", DR)
    for item in primary.scan(TableName="shop-sessions")["Items"]:  # replicate seq 0-3 (moto has none)
        if item.get("seq") and int(item["seq"]["N"]) <= 3:
            replica.put_item(TableName="shop-sessions", Item=item)
    meter.mark_fault(t0 + 2.0)
    m = meter.measure()
    assert m.measured_s == pytest.approx(2.0 - 3 * 0.25, abs=1e-6)
    assert (m.evidence["newest_seq"], m.evidence["lost_writes"]) == (3, 2)

    meter.cleanup()
    for client in (primary, replica):
        assert client.scan(TableName="shop-sessions")["Items"] == []


def test_measured_rpo_matches_replicator_truth(session, make_ctx):
    """A replicator copies canaries 1.0 s after they are written and stops at the pause; the fault
    is 0.5 s later. Truth = fault - the horizon of the replicator's last completed sweep (about
    pause - lag, later under load); measured must be within interval + 0.5 s."""
    make_buckets(session)
    clock = SystemClock()
    ctx = make_ctx(clock)
    meter = _meter(ctx, S3_CANARY)
    lag, stop = 1.0, threading.Event()
    swept: list[float] = []

    def replicate():
        s1, s2 = session.client("s3", PRIMARY), session.client("s3", DR)
        copied: set[str] = set()
        while not stop.is_set():
            horizon = clock.now() - lag
            for obj in s1.list_objects_v2(Bucket="shop-orders-use1", Prefix=PREFIX).get("Contents", []):
                if obj["Key"] in copied:
                    continue
                body = s1.get_object(Bucket="shop-orders-use1", Key=obj["Key"])["Body"].read()
                if json.loads(body)["written_at"] <= horizon:
                    s2.put_object(Bucket="shop-orders-usw2", Key=obj["Key"], Body=body)
                    copied.add(obj["Key"])
            swept.append(horizon)        # everything written up to here has been replicated
            stop.wait(0.02)

    meter.start()
    replicator = threading.Thread(target=replicate, daemon=True)
    replicator.start()
    time.sleep(2.0)
    paused_at = clock.now()
    stop.set()
    replicator.join()
    time.sleep(0.5)
    fault_at = clock.now()
    meter.mark_fault(fault_at)
    m = meter.measure()

    truth = fault_at - swept[-1]
    assert abs(swept[-1] - (paused_at - lag)) < 2.0     # the replicator really ran until the pause
    assert m.measured_s is not None and abs(m.measured_s - truth) <= 0.25 + 0.5, (m.measured_s, truth, m.detail)
    assert m.evidence["written"] >= 8 and m.evidence["lost_writes"] >= 4
    meter.cleanup()
    assert _versions(session, PRIMARY, "shop-orders-use1") == []
    assert _versions(session, DR, "shop-orders-usw2") == []


def test_background_writer_follows_a_fake_clock_without_advancing_it(session, make_ctx):
    make_buckets(session)
    clock = FakeClock()
    meter = _meter(make_ctx(clock), S3_CANARY)
    t0 = clock.now()
    meter.start()

    def written(n):
        deadline = time.monotonic() + 2.0
        while len(meter._acked) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return len(meter._acked)

    assert written(1) == 1
    time.sleep(0.1)
    assert clock.now() == t0 and len(meter._acked) == 1
    clock.advance(0.25)
    assert written(2) == 2
    meter.mark_fault(clock.now())
    meter.cleanup()


def test_journaled_undo_removes_canaries_after_a_crash(session, make_ctx):
    """No cleanup (the process died): rollback runs the undo journaled before the first write."""
    make_buckets(session)
    make_tables(session)
    clock = FakeClock()
    ctx = make_ctx(clock)
    meters = build_meters(RpoConfig.model_validate({"canary": {**S3_CANARY, **DDB_CANARY}}), ctx)
    for meter in meters:
        meter.start(background=False)
        _write(meter, clock, 3)
    _copy_objects(session, [0, 1])
    intents = journal_events(ctx, "change.intent")
    assert [i["undo"]["name"] for i in intents] == ["s3.delete-canaries", "dynamodb.delete-canaries"]
    assert _versions(session, PRIMARY, "shop-orders-use1")

    for intent in intents:
        run_undo(ctx, intent["undo"])
        assert "No canary" in run_undo(ctx, intent["undo"])
    assert _versions(session, PRIMARY, "shop-orders-use1") == []
    assert _versions(session, DR, "shop-orders-usw2") == []
    assert session.client("dynamodb", PRIMARY).scan(TableName="shop-sessions")["Items"] == []


def test_recovery_point_is_the_age_of_the_newest_backup_at_the_fault(session, make_ctx):
    make_tables(session)
    ctx = make_ctx()
    client = session.client("dynamodb", PRIMARY)
    arn = client.describe_table(TableName="shop-sessions")["Table"]["TableArn"]
    made = client.create_backup(TableName="shop-sessions", BackupName="nightly")["BackupDetails"]
    at = made["BackupCreationDateTime"].timestamp()

    meter = RecoveryPointMeter(ctx, RpoConfig.model_validate({"recovery_point": {"resource_arn": arn}}).recovery_point)
    meter.mark_fault(at + 42.0)
    m = meter.measure()
    assert m.measured_s == pytest.approx(42.0, abs=1e-3) and "dynamodb-backup (user) nightly" in m.detail

    early = RecoveryPointMeter(ctx, meter.cfg)
    early.mark_fault(at - 1.0)
    assert early.measure().measured_s is None


def test_missing_replication_metric_is_reported_not_guessed(session, make_ctx):
    make_buckets(session)
    ctx = make_ctx(SystemClock())
    config = RpoConfig.model_validate({"replication_lag": {
        "rds_replica": "shop-db-dr", "rds_region": DR, "s3_bucket": "shop-orders-use1", "s3_region": PRIMARY}})
    rds_meter, s3_meter = build_meters(config, ctx)
    assert isinstance(rds_meter, ReplicationLagMeter) and rds_meter.region == DR
    for meter in (rds_meter, s3_meter):
        meter.mark_fault(ctx.clock.now())
    rds_m, s3_m = rds_meter.measure(), s3_meter.measure()
    assert rds_m.measured_s is None and "no ReplicaLag datapoint" in rds_m.detail and "missing" in rds_m.detail
    assert s3_m.measured_s is None and "ReplicationLatency" in s3_m.detail and "not enabled" in s3_m.detail


def test_replication_lag_reads_the_newest_datapoint(session, make_ctx):
    from datetime import UTC, datetime

    ctx = make_ctx(SystemClock())
    now = ctx.clock.now()
    session.client("cloudwatch", DR).put_metric_data(Namespace="AWS/RDS", MetricData=[{
        "MetricName": "ReplicaLag", "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "shop-db-dr"}],
        "Value": 4.0, "Unit": "Seconds", "Timestamp": datetime.fromtimestamp(now - 30, tz=UTC)}])
    [meter] = build_meters(RpoConfig.model_validate({"replication_lag": {"rds_replica": "shop-db-dr",
                                                                           "region": DR}}), ctx)
    meter.mark_fault(now)
    assert meter.measure().measured_s == 4.0


def test_config_needs_a_source():
    with pytest.raises(ValidationError, match="needs `s3` or `dynamodb`"):
        RpoConfig.model_validate({"canary": {"interval": "1s"}})
    with pytest.raises(ValidationError, match="rds_replica"):
        RpoConfig.model_validate({"replication_lag": {"region": DR}})
    assert build_meters(None, None) == []


def test_rpo_iam_lists_what_the_meters_call():
    config = RpoConfig.model_validate({"canary": {**S3_CANARY, **DDB_CANARY},
                                       "recovery_point": {"resource_arn": "arn:aws:rds:us-east-1:1:db:shop-db"},
                                       "replication_lag": {"s3_bucket": "shop-orders-use1"}})
    from drtool.rpo import rpo_iam

    iam = rpo_iam(config)
    assert {"s3:PutObject", "s3:DeleteObjectVersion", "dynamodb:BatchWriteItem", "rds:DescribeDBSnapshots",
            "cloudwatch:GetMetricStatistics", "s3:GetReplicationConfiguration"} <= set(iam)
