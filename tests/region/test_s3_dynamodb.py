"""s3.pause-replication and dynamodb.pause-replication with their undos, asserted on moto state."""

from __future__ import annotations

import json

import pytest

from drtool.aws import dynamodb, s3
from drtool.errors import DrToolError
from tests.aws.cas_helpers import left_as_found, rollback
from tests.region.helpers import DR, PRIMARY, journal_events, make_buckets, make_tables, run_undo


def _rules(session):
    config = session.client("s3", PRIMARY).get_bucket_replication(Bucket="shop-orders-use1")
    return {r["ID"]: r["Status"] for r in config["ReplicationConfiguration"]["Rules"]}


def test_pause_disables_enabled_rules_and_resume_reenables_only_those(session, ctx):
    make_buckets(session)
    out = s3.pause_replication(ctx, s3.BucketParams(bucket="shop-orders-use1"), [])
    assert _rules(session) == {"to-dr": "Disabled", "archive": "Disabled"}
    assert out.data["rules"] == ["to-dr"]
    assert "nothing paused" in s3.pause_replication(ctx, s3.BucketParams(bucket="shop-orders-use1"), []).detail

    [intent] = journal_events(ctx, "change.intent")
    assert intent["undo"] == {"name": "s3.resume-replication", "region": PRIMARY, "account": None,
                              "params": {"bucket": "shop-orders-use1", "rule_ids": ["to-dr"],
                                         "applied": {"to-dr": "Disabled"}, "region": PRIMARY,
                                         "paused_at": ctx.clock.now()}}
    assert "Re-enabled" in run_undo(ctx, intent["undo"])
    assert _rules(session) == {"to-dr": "Enabled", "archive": "Disabled"}
    assert "already enabled" in run_undo(ctx, intent["undo"])
    assert _rules(session) == {"to-dr": "Enabled", "archive": "Disabled"}


def test_resume_leaves_a_rule_an_operator_removed_as_found(session, ctx):
    """Mid-drill an operator replaces the configuration without rule to-dr: rollback does not
    put it back, and lists it as left as found."""
    make_buckets(session)
    s3.pause_replication(ctx, s3.BucketParams(bucket="shop-orders-use1"), [])
    client = session.client("s3", PRIMARY)
    config = client.get_bucket_replication(Bucket="shop-orders-use1")["ReplicationConfiguration"]
    config["Rules"] = [r for r in config["Rules"] if r["ID"] != "to-dr"]
    client.put_bucket_replication(Bucket="shop-orders-use1", ReplicationConfiguration=config)
    remaining = rollback(ctx)
    assert _rules(session) == {"archive": "Disabled"}
    (item,) = left_as_found(remaining)
    assert "rule to-dr is gone in bucket shop-orders-use1" in item
    assert rollback(ctx) == remaining and _rules(session) == {"archive": "Disabled"}


def test_resume_after_a_crash_before_the_pause(session, ctx):
    """Intent journaled, pause never made: the rule is still enabled, which counts as resumed."""
    make_buckets(session)
    spec = {"name": "s3.resume-replication", "params": {"bucket": "shop-orders-use1", "rule_ids": ["to-dr"],
                                                         "applied": {"to-dr": "Disabled"}, "region": PRIMARY}}
    assert "already enabled" in run_undo(ctx, spec)
    assert _rules(session) == {"to-dr": "Enabled", "archive": "Disabled"}


def test_pause_without_replication_is_refused(session, ctx):
    make_buckets(session, replication=False)
    with pytest.raises(DrToolError, match="no replication configuration"):
        s3.pause_replication(ctx, s3.BucketParams(bucket="shop-orders-use1"), [])


def _policy(session, table="shop-sessions"):
    client = session.client("dynamodb", DR)
    arn = client.describe_table(TableName=table)["Table"]["TableArn"]
    return dynamodb.get_policy(client, arn), arn


def test_dynamodb_pause_denies_the_replication_role_and_undo_removes_it(session, ctx):
    make_tables(session)
    dynamodb.pause_replication(ctx, dynamodb.PauseParams(table="shop-sessions", replica_region=DR), [])
    policy, arn = _policy(session)
    data, items = policy["Statement"]
    assert data["Effect"] == items["Effect"] == "Deny"
    assert data["Action"] == ["dynamodb:ReadDataForReplication", "dynamodb:WriteDataForReplication"]
    assert data["Condition"]["StringEquals"] == {"aws:PrincipalServiceName": "replication.dynamodb.amazonaws.com"}
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} <= set(items["Action"])
    assert items["Condition"]["ArnEquals"]["aws:PrincipalArn"] == (
        "arn:aws:iam::123456789012:role/aws-service-role/replication.dynamodb.amazonaws.com/"
        "AWSServiceRoleForDynamoDBReplication")
    assert items["Resource"] == arn
    assert items["Condition"]["DateLessThan"]["aws:CurrentTime"].startswith("2026-01-01T02:00:00")

    [intent] = journal_events(ctx, "change.intent")
    assert "resumes" in run_undo(ctx, intent["undo"])
    assert _policy(session)[0] is None
    assert "nothing to remove" in run_undo(ctx, intent["undo"])  # FakeClock: the settle wait costs nothing


def test_dynamodb_pause_keeps_an_existing_policy(session, ctx):
    make_tables(session)
    client = session.client("dynamodb", DR)
    arn = client.describe_table(TableName="shop-sessions")["Table"]["TableArn"]
    mine = {"Sid": "ReadersOnly", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "dynamodb:GetItem", "Resource": arn}
    client.put_resource_policy(ResourceArn=arn, Policy=json.dumps({"Version": "2012-10-17", "Statement": [mine]}))

    dynamodb.pause_replication(ctx, dynamodb.PauseParams(table="shop-sessions", replica_region=DR), [])
    assert [s["Sid"] for s in _policy(session)[0]["Statement"]] == [
        "ReadersOnly", "DrtoolPauseReplicationruntestServicePrincipal", "DrtoolPauseReplicationruntest"]
    [intent] = journal_events(ctx, "change.intent")
    run_undo(ctx, intent["undo"])
    assert _policy(session)[0] == {"Version": "2012-10-17", "Statement": [mine]}
    run_undo(ctx, intent["undo"])
    assert _policy(session)[0] == {"Version": "2012-10-17", "Statement": [mine]}


def test_dynamodb_resume_leaves_a_statement_an_operator_changed_as_found(session, ctx):
    """An operator turns the drill's item-level Deny into an Allow: rollback removes the run's
    other (still denying) statement but leaves theirs, and lists it as left as found."""
    make_tables(session)
    dynamodb.pause_replication(ctx, dynamodb.PauseParams(table="shop-sessions", replica_region=DR), [])
    [intent] = journal_events(ctx, "change.intent")
    assert intent["undo"]["params"]["statement_ids"] == ["DrtoolPauseReplicationruntestServicePrincipal",
                                                         "DrtoolPauseReplicationruntest"]
    policy, arn = _policy(session)
    theirs = {**policy["Statement"][1], "Effect": "Allow"}
    session.client("dynamodb", DR).put_resource_policy(
        ResourceArn=arn, Policy=json.dumps({**policy, "Statement": [policy["Statement"][0], theirs]}))
    remaining = rollback(ctx)
    assert _policy(session)[0]["Statement"] == [theirs]
    (item,) = left_as_found(remaining)
    assert "statement DrtoolPauseReplicationruntest is now Allow in the resource policy of shop-sessions" in item
    assert left_as_found(rollback(ctx)) and _policy(session)[0]["Statement"] == [theirs]
