"""RDS, S3 and DynamoDB state the simulator reads every tick, and backdating.

Reads stay internal for the tick's sake (every 50 ms the replicators look at every
bucket's versions and every replicated table's stream: ListObjectVersions and
GetShardIterator + GetRecords per bucket and table, DescribeDBInstances per region).
The writes they lead to go through the API (`drtool.sandbox.replication`). No AWS API
sets a snapshot's or backup's creation time, which an estate's `age` needs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from drtool.sandbox.moto_adapter import backends


@dataclass(frozen=True)
class Database:
    identifier: str
    status: str
    is_replica: bool
    source: str | None          # ReadReplicaSourceDBInstanceIdentifier (id or ARN)
    replicas: tuple[str, ...]


@dataclass(frozen=True)
class ReplicationRule:
    rule_id: str
    status: str
    prefix: str
    priority: int
    destination: str            # bucket name


@dataclass(frozen=True)
class ObjectVersion:
    key: str
    version_id: str
    written_at: float           # epoch seconds


@dataclass(frozen=True)
class StreamRecord:
    sequence: int
    event: str                  # INSERT | MODIFY | REMOVE
    keys: dict[str, Any]        # DynamoDB JSON, as PutItem / DeleteItem take it
    new_image: dict[str, Any] | None
    written_at: float


def db_instances(account: str, region: str) -> dict[str, Database]:
    return {d.db_instance_identifier: Database(d.db_instance_identifier, d.status, bool(d.is_replica),
                                               d.source_db_instance_identifier, tuple(d.replicas))
            for d in list(backends.rds(account, region).databases.values())}


def age_db_snapshot(account: str, region: str, snapshot_id: str, age_s: float) -> None:
    """Backdate a manual DB snapshot so it is `age_s` old."""
    snapshot = backends.rds(account, region).database_snapshots[snapshot_id]
    snapshot.created = backends.naive_utc(time.time() - age_s)
    snapshot.original_snapshot_create_time = snapshot.created


def replication_rules(account: str) -> dict[str, list[ReplicationRule]]:
    """{source bucket: its replication rules, highest priority first}."""
    result: dict[str, list[ReplicationRule]] = {}
    for bucket in list(backends.s3(account).buckets.values()):
        config = getattr(bucket, "replication", None)
        if not config:
            continue
        rules = []
        for rule in config.get("Rule", []):
            flt = rule.get("Filter") or {}
            prefix = (flt.get("Prefix") if isinstance(flt, dict) else None) or rule.get("Prefix") or ""
            destination = str((rule.get("Destination") or {}).get("Bucket", "")).split(":::")[-1]
            rules.append(ReplicationRule(str(rule.get("ID", "")), str(rule.get("Status", "Enabled")),
                                         prefix, int(rule.get("Priority") or 0), destination))
        result[bucket.name] = sorted(rules, key=lambda r: -r.priority)
    return result


def bucket_region(account: str, bucket: str) -> str | None:
    found = backends.s3(account).buckets.get(bucket)
    return found.region_name if found is not None else None


def object_versions(account: str, bucket: str) -> list[ObjectVersion]:
    """Every stored object version (not delete markers) of the bucket."""
    from moto.s3.models import FakeKey

    found = backends.s3(account).buckets.get(bucket)
    if found is None:
        return []
    return [ObjectVersion(name, str(v.version_id), backends.epoch(v.last_modified))
            for name, versions in found.keys.iterlists() for v in versions if isinstance(v, FakeKey)]


def stream_records(account: str, region: str, table: str, after: int | None) -> list[StreamRecord]:
    """The table's stream records with sequence number > `after` (all when None)."""
    found = backends.dynamodb(account, region).tables.get(table)
    shard = getattr(found, "stream_shard", None)
    if shard is None:
        return []
    start = 0 if after is None else max(0, after - shard.starting_sequence_number + 1)
    records = []
    for item in shard.items[start:]:
        data = item.record["dynamodb"]
        records.append(StreamRecord(int(data["SequenceNumber"]), item.record["eventName"], data["Keys"],
                                    data.get("NewImage"), backends.epoch(data["ApproximateCreationDateTime"])))
    return records


def age_table_backup(account: str, region: str, backup_arn: str, age_s: float) -> None:
    """Backdate an on-demand DynamoDB backup so it is `age_s` old."""
    backup = backends.dynamodb(account, region).backups[backup_arn]
    backup.creation_date_time = backends.naive_utc(time.time() - age_s)
