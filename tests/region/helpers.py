"""Small estates and journal helpers for the region-failover tests."""

from __future__ import annotations

from drtool.context import StepContext

PRIMARY, DR = "us-east-1", "us-west-2"


def make_replica(session) -> None:
    """shop-db (us-east-1) with cross-region read replica shop-db-dr (us-west-2)."""
    primary = session.client("rds", PRIMARY)
    arn = primary.create_db_instance(
        DBInstanceIdentifier="shop-db", Engine="postgres", DBInstanceClass="db.t3.micro", MasterUsername="u",
        MasterUserPassword="password1", AllocatedStorage=20, BackupRetentionPeriod=1)["DBInstance"]["DBInstanceArn"]
    session.client("rds", DR).create_db_instance_read_replica(
        DBInstanceIdentifier="shop-db-dr", SourceDBInstanceIdentifier=arn, SourceRegion=PRIMARY)


def make_aurora(session) -> None:
    """Aurora cluster shop-aurora with writer shop-aurora-1 and reader shop-aurora-2."""
    rds = session.client("rds", PRIMARY)
    rds.create_db_cluster(DBClusterIdentifier="shop-aurora", Engine="aurora-postgresql", MasterUsername="u",
                          MasterUserPassword="password1")
    for i in (1, 2):
        rds.create_db_instance(DBInstanceIdentifier=f"shop-aurora-{i}", DBClusterIdentifier="shop-aurora",
                               Engine="aurora-postgresql", DBInstanceClass="db.r5.large")


def make_buckets(session, replication: bool = True) -> None:
    """Versioned shop-orders-use1 replicating (rule to-dr, plus a disabled rule) to shop-orders-usw2."""
    s1, s2 = session.client("s3", PRIMARY), session.client("s3", DR)
    s1.create_bucket(Bucket="shop-orders-use1")
    s2.create_bucket(Bucket="shop-orders-usw2", CreateBucketConfiguration={"LocationConstraint": DR})
    for client, bucket in ((s1, "shop-orders-use1"), (s2, "shop-orders-usw2")):
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if replication:
        rule = {"Priority": 1, "Filter": {}, "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": "arn:aws:s3:::shop-orders-usw2"}}
        s1.put_bucket_replication(Bucket="shop-orders-use1", ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/replication",
            "Rules": [{**rule, "ID": "to-dr", "Status": "Enabled"},
                      {**rule, "ID": "archive", "Priority": 2, "Status": "Disabled"}]})


def make_tables(session, table: str = "shop-sessions") -> None:
    """The same table in both regions (moto has no global tables: the replica is a plain table)."""
    for region in (PRIMARY, DR):
        session.client("dynamodb", region).create_table(
            TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")


def journal_events(ctx: StepContext, event: str | None = None) -> list[dict]:
    from drtool.journal import read_journal

    events = read_journal(ctx.journal.path)
    return [e for e in events if event is None or e["event"] == event]


def run_undo(ctx: StepContext, spec: dict) -> str:
    """Run a journaled undo the way rollback does: registry entry + validated params."""
    from drtool.registry import UNDOS

    entry = UNDOS.get(spec["name"])
    return entry.func(ctx, entry.params.model_validate(spec["params"]))
