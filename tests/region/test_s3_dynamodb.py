"""s3.pause-replication and dynamodb.pause-replication with their undos, asserted on moto state."""

from __future__ import annotations

import json

import pytest

from drtool.aws import dynamodb, s3
from drtool.errors import DrToolError
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
                              "params": {"bucket": "shop-orders-use1", "rule_ids": ["to-dr"], "region": PRIMARY}}
    assert "Re-enabled" in run_undo(ctx, intent["undo"])
    assert _rules(session) == {"to-dr": "Enabled", "archive": "Disabled"}
    assert "already enabled" in run_undo(ctx, intent["undo"])
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
