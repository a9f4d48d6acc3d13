"""Native faults made honest: the S3 pause lists what it left unreplicated, and warns in plan."""

from __future__ import annotations

import time

import pytest

from drtool.aws import dynamodb, s3
from drtool.errors import DrToolError
from drtool.registry import ACTIONS
from tests.aws.cas_helpers import rollback
from tests.region.helpers import DR, PRIMARY, make_buckets, make_tables


def test_native_s3_pause_lists_objects_written_meanwhile_in_follow_up(session, ctx, clock):
    make_buckets(session)
    client = session.client("s3", PRIMARY)
    client.put_object(Bucket="shop-orders-use1", Key="before", Body=b"x")   # written before: not listed
    time.sleep(1.1)   # LastModified has whole seconds
    clock.advance(time.time() - clock.now())   # moto stamps LastModified with the wall clock
    s3.pause_replication(ctx, s3.BucketParams(bucket="shop-orders-use1"), [])
    for key in ("during-1", "during-2"):
        client.put_object(Bucket="shop-orders-use1", Key=key, Body=b"x")
    clock.advance(1)
    assert rollback(ctx) == []
    [item] = ctx.follow_ups
    assert item["resource"] == "arn:aws:s3:::shop-orders-use1"
    assert item["summary"].startswith("2 object(s) written to shop-orders-use1 while replication rule(s) to-dr")
    assert "S3 Batch Replication" in item["how"] and "ObjectReplicationStatuses=[NONE]" in item["how"]


def test_native_s3_pause_without_writes_has_no_follow_up(session, ctx):
    make_buckets(session)
    s3.pause_replication(ctx, s3.BucketParams(bucket="shop-orders-use1"), [])
    assert rollback(ctx) == [] and ctx.follow_ups == []


def test_native_s3_pause_warns_in_plan():
    warning = ACTIONS.get("s3.pause-replication").extra["plan_warning"]
    assert "NEVER replicated" in warning and "fis.experiment" in warning


def _stream_table(session):
    for region in (PRIMARY, DR):
        session.client("dynamodb", region).create_table(
            TableName="shop-sessions", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    table = session.client("dynamodb", DR).describe_table(TableName="shop-sessions")["Table"]
    return table["TableArn"], table["LatestStreamArn"]


@pytest.fixture
def stream_policies(monkeypatch):
    """moto 5.2 reads a stream ARN's last segment as a table name, so it cannot hold a
    stream's resource policy (DynamoDB can: PutResourcePolicy takes a table or stream ARN,
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutResourcePolicy.html).
    Stream ARNs get the same storage here; table ARNs go to moto unchanged."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import ResourcePolicy

    put, get, delete = (DynamoDBBackend.put_resource_policy, DynamoDBBackend.get_resource_policy,
                        DynamoDBBackend.delete_resource_policy)

    def put_(self, resource_arn, policy_doc, expected_revision_id):
        if "/stream/" not in resource_arn:
            return put(self, resource_arn, policy_doc, expected_revision_id)
        self.resource_policies[resource_arn] = ResourcePolicy(resource_arn, policy_doc)
        return self.resource_policies[resource_arn]

    def get_(self, resource_arn):
        if "/stream/" in resource_arn and resource_arn in self.resource_policies:
            return self.resource_policies[resource_arn]
        return get(self, resource_arn.split("/stream/")[0] + "/none" if "/stream/" in resource_arn
                   else resource_arn)

    def delete_(self, resource_arn, expected_revision_id):
        if "/stream/" not in resource_arn:
            return delete(self, resource_arn, expected_revision_id)
        self.resource_policies.pop(resource_arn)

    monkeypatch.setattr(DynamoDBBackend, "put_resource_policy", put_)
    monkeypatch.setattr(DynamoDBBackend, "get_resource_policy", get_)
    monkeypatch.setattr(DynamoDBBackend, "delete_resource_policy", delete_)


def test_dynamodb_pause_also_denies_the_stream_and_undo_removes_both(session, ctx, stream_policies):
    table_arn, stream_arn = _stream_table(session)
    dynamodb.pause_replication(ctx, dynamodb.PauseParams(table="shop-sessions", replica_region=DR), [])
    client = session.client("dynamodb", DR)
    [stream] = dynamodb.get_policy(client, stream_arn)["Statement"]
    assert stream["Effect"] == "Deny" and stream["Resource"] == stream_arn
    assert stream["Action"] == ["dynamodb:GetRecords", "dynamodb:DescribeStream", "dynamodb:GetShardIterator"]
    assert stream["Condition"]["ArnEquals"]["aws:PrincipalArn"].endswith("AWSServiceRoleForDynamoDBReplication")
    assert len(dynamodb.get_policy(client, table_arn)["Statement"]) == 2
    assert rollback(ctx) == []
    assert dynamodb.get_policy(client, stream_arn) is None and dynamodb.get_policy(client, table_arn) is None


def test_dynamodb_pause_refuses_a_strongly_consistent_table(session, ctx, monkeypatch):
    """moto has no MRSC tables: its DescribeTable answer gains MultiRegionConsistency STRONG."""
    from moto.dynamodb.models.table import Table

    make_tables(session)
    original = Table.describe
    monkeypatch.setattr(Table, "describe", lambda self, *a, **k: {
        **original(self, *a, **k), "MultiRegionConsistency": "STRONG"} if not a and not k else
        {k2: {**v, "MultiRegionConsistency": "STRONG"} for k2, v in original(self, *a, **k).items()})
    with pytest.raises(DrToolError, match="multi-Region strongly consistent"):
        dynamodb.pause_replication(ctx, dynamodb.PauseParams(table="shop-sessions", replica_region=DR), [])
    client = session.client("dynamodb", DR)
    arn = client.describe_table(TableName="shop-sessions")["Table"]["TableArn"]
    assert dynamodb.get_policy(client, arn) is None
    assert rollback(ctx) == []
