"""dynamodb.pause-replication's policies match what AWS FIS appends for
`aws:dynamodb:global-table-pause-replication` on an MREC table (FIS actions reference,
https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html#global-table-pause-replication):
two table statements and one statement on the table's stream policy."""

from __future__ import annotations

import pytest

from drtool.aws import dynamodb
from tests.region.helpers import DR, PRIMARY, journal_events, run_undo

ROLE = ("arn:aws:iam::123456789012:role/aws-service-role/replication.dynamodb.amazonaws.com/"
        "AWSServiceRoleForDynamoDBReplication")
UNTIL = {"aws:CurrentTime": "2026-01-01T02:00:00Z"}


@pytest.fixture
def stream_policies(aws, monkeypatch):
    """Emulate AWS: PutResourcePolicy/GetResourcePolicy/DeleteResourcePolicy take a stream ARN
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutResourcePolicy.html,
    "The Amazon Resource Name (ARN) of the DynamoDB resource to which the policy will be
    attached. The resources you can specify include tables and streams"). moto 5.2.5 looks the
    table up by the ARN's last path segment, so a stream ARN is briefly aliased to its table."""
    from moto.dynamodb.models import DynamoDBBackend

    def aliased(original):
        def call(self, resource_arn, *args, **kwargs):
            if "/stream/" not in resource_arn:
                return original(self, resource_arn, *args, **kwargs)
            label, table = resource_arn.split("/")[-1], resource_arn.split("/")[1]
            if table in self.tables:
                self.tables[label] = self.tables[table]
            try:
                return original(self, resource_arn, *args, **kwargs)
            finally:
                self.tables.pop(label, None)
        return call

    for name in ("put_resource_policy", "get_resource_policy", "delete_resource_policy"):
        monkeypatch.setattr(DynamoDBBackend, name, aliased(getattr(DynamoDBBackend, name)))


def _streamed_tables(session) -> tuple[str, str]:
    for region in (PRIMARY, DR):
        session.client("dynamodb", region).create_table(
            TableName="shop-carts", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    table = session.client("dynamodb", DR).describe_table(TableName="shop-carts")["Table"]
    return table["TableArn"], table["LatestStreamArn"]


def test_pause_appends_the_fis_statements_to_the_table_and_its_stream(session, ctx, stream_policies):
    arn, stream_arn = _streamed_tables(session)
    client = session.client("dynamodb", DR)
    dynamodb.pause_replication(ctx, dynamodb.PauseParams(table="shop-carts", replica_region=DR), [])

    until = dynamodb.get_policy(client, arn)["Statement"][0]["Condition"]["DateLessThan"]
    assert until["aws:CurrentTime"].startswith("2026-01-01T02:00:00")
    assert dynamodb.get_policy(client, arn)["Statement"] == [
        {"Sid": "DrtoolPauseReplicationruntestServicePrincipal", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": ["dynamodb:ReadDataForReplication", "dynamodb:WriteDataForReplication"], "Resource": arn,
         "Condition": {"StringEquals": {"aws:PrincipalServiceName": "replication.dynamodb.amazonaws.com"},
                       "DateLessThan": until}},
        {"Sid": "DrtoolPauseReplicationruntest", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                    "dynamodb:DescribeTable", "dynamodb:UpdateTable", "dynamodb:Scan",
                    "dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive"], "Resource": arn,
         "Condition": {"ArnEquals": {"aws:PrincipalArn": ROLE}, "DateLessThan": until}},
    ]
    assert dynamodb.get_policy(client, stream_arn) == {"Version": "2012-10-17", "Statement": [
        {"Sid": "DrtoolPauseReplicationruntestStream", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": ["dynamodb:GetRecords", "dynamodb:DescribeStream", "dynamodb:GetShardIterator"],
         "Resource": stream_arn,
         "Condition": {"ArnEquals": {"aws:PrincipalArn": ROLE}, "DateLessThan": until}}]}

    intents = journal_events(ctx, "change.intent")
    assert [i["undo"]["params"].get("resource_arn") for i in intents] == [None, stream_arn]
    for intent in reversed(intents):
        assert "resumes" in run_undo(ctx, intent["undo"])
    assert dynamodb.get_policy(client, arn) is None
    assert dynamodb.get_policy(client, stream_arn) is None


def test_a_table_without_a_stream_gets_no_stream_statement(session, ctx):
    for region in (PRIMARY, DR):
        session.client("dynamodb", region).create_table(
            TableName="plain", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    dynamodb.pause_replication(ctx, dynamodb.PauseParams(table="plain", replica_region=DR), [])
    assert len(journal_events(ctx, "change.intent")) == 1
