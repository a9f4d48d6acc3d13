"""RDS failover actions and the availability probe, asserted on moto state."""

from __future__ import annotations

import pytest

from drtool.aws import rds
from drtool.errors import AwsError, DrToolError
from tests.aws.cas_helpers import left_as_found, rollback
from tests.region.helpers import DR, PRIMARY, journal_events, make_aurora, make_replica, run_undo


def _db(session, region, name):
    return session.client("rds", region).describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]


def _writer(session):
    cluster = session.client("rds", PRIMARY).describe_db_clusters(DBClusterIdentifier="shop-aurora")["DBClusters"][0]
    return rds.cluster_writer(cluster)


def test_promote_makes_replica_writable_and_lists_follow_up(session, ctx, promote_clears_link):
    make_replica(session)
    params = rds.PromoteParams(db_instance="shop-db-dr", region=DR)
    assert not rds.available(ctx, rds.AvailableParams(db_instance="shop-db-dr", writable=True, region=DR)).ok

    out = rds.promote_read_replica(ctx, params, [])

    assert "ReadReplicaSourceDBInstanceIdentifier" not in _db(session, DR, "shop-db-dr")
    probe = rds.available(ctx, rds.AvailableParams(db_instance="shop-db-dr", writable=True, region=DR))
    assert probe.ok, probe.detail
    assert "shop-db" in out.detail
    [follow] = ctx.follow_ups
    assert follow["resource"].endswith(":db:shop-db-dr") and PRIMARY in follow["how"]
    [intent] = journal_events(ctx, "change.intent")
    assert intent["undo"] is None and journal_events(ctx, "follow_up")


def test_promote_refuses_a_non_replica(session, ctx):
    make_replica(session)
    with pytest.raises(AwsError, match="not a read replica") as caught:
        rds.promote_read_replica(ctx, rds.PromoteParams(db_instance="shop-db", region=PRIMARY), [])
    assert caught.value.code == "InvalidDBInstanceState"
    assert journal_events(ctx, "change.intent") == [] and ctx.follow_ups == []
    assert _db(session, DR, "shop-db-dr")["ReadReplicaSourceDBInstanceIdentifier"].endswith(":db:shop-db")


def test_failover_swaps_writer_and_undo_fails_back_twice_harmlessly(session, ctx):
    make_aurora(session)
    out = rds.failover_cluster(ctx, rds.FailoverParams(cluster="shop-aurora", target_instance="shop-aurora-2"), [])
    assert _writer(session) == "shop-aurora-2"
    assert out.data == {"previous_writer": "shop-aurora-1", "writer": "shop-aurora-2"}
    assert rds.available(ctx, rds.AvailableParams(db_instance="shop-aurora-2", writable=True)).ok
    reader = rds.available(ctx, rds.AvailableParams(db_instance="shop-aurora-1", writable=True))
    assert not reader.ok and "reader" in reader.detail

    [intent] = journal_events(ctx, "change.intent")
    assert intent["undo"]["name"] == "rds.failover-cluster-back"
    assert intent["undo"]["params"]["drill_writers"] == ["shop-aurora-2"]
    assert "back" in run_undo(ctx, intent["undo"])
    assert _writer(session) == "shop-aurora-1"
    assert "already" in run_undo(ctx, intent["undo"])
    assert _writer(session) == "shop-aurora-1"


def test_failback_leaves_a_writer_an_operator_chose_as_found(session, ctx):
    """Three members; the drill fails over to shop-aurora-2, an operator then to shop-aurora-3:
    rollback does not fail back over the operator's choice."""
    make_aurora(session)
    session.client("rds", PRIMARY).create_db_instance(
        DBInstanceIdentifier="shop-aurora-3", DBClusterIdentifier="shop-aurora", Engine="aurora-postgresql",
        DBInstanceClass="db.r5.large")
    rds.failover_cluster(ctx, rds.FailoverParams(cluster="shop-aurora", target_instance="shop-aurora-2"), [])
    session.client("rds", PRIMARY).failover_db_cluster(DBClusterIdentifier="shop-aurora",
                                                       TargetDBInstanceIdentifier="shop-aurora-3")
    remaining = rollback(ctx)
    assert _writer(session) == "shop-aurora-3"
    (item,) = left_as_found(remaining)
    assert "the writer of shop-aurora is shop-aurora-3, not the drill's shop-aurora-2" in item
    assert rollback(ctx) == remaining and _writer(session) == "shop-aurora-3"


def test_failback_without_a_target_accepts_any_reader_of_the_moment(session, ctx):
    make_aurora(session)
    rds.failover_cluster(ctx, rds.FailoverParams(cluster="shop-aurora"), [])
    [intent] = journal_events(ctx, "change.intent")
    assert intent["undo"]["params"]["drill_writers"] == ["shop-aurora-2"]
    assert rollback(ctx) == [] and _writer(session) == "shop-aurora-1"


def test_failover_checks_its_target(session, ctx):
    make_aurora(session)
    with pytest.raises(DrToolError, match="not a member"):
        rds.failover_cluster(ctx, rds.FailoverParams(cluster="shop-aurora", target_instance="nope"), [])
    same = rds.failover_cluster(ctx, rds.FailoverParams(cluster="shop-aurora", target_instance="shop-aurora-1"), [])
    assert "already the writer" in same.detail and journal_events(ctx, "change.intent") == []


def test_available_reports_missing_and_replica(session, ctx):
    make_replica(session)
    missing = rds.available(ctx, rds.AvailableParams(db_instance="ghost", region=DR))
    assert not missing.ok and "not found" in missing.detail
    assert rds.available(ctx, rds.AvailableParams(db_instance="shop-db-dr", region=DR)).ok
    replica = rds.available(ctx, rds.AvailableParams(db_instance="shop-db-dr", writable=True, region=DR))
    assert not replica.ok and "read replica" in replica.detail
