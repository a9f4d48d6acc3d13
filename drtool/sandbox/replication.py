"""Replication with lag: S3 replication rules and DynamoDB replicas.

A write becomes visible in the replica `lag` seconds after it was made. A disabled S3
rule pauses its stream (writes queue; on re-enable they arrive `lag` after the resume),
but writes already in flight when it was paused still land for up to `s3_pause_leak`
(AWS FIS documents that S3 replication can continue for up to an hour after a pause; see
docs/sandbox-delays.md). `pause(bucket, until)` / `resume(bucket)` (the sandbox FIS's
`aws:s3:bucket-pause-replication`) hold a bucket's writes until `until` or the resume, whichever comes first; the backlog then
replicates, as FIS documents ("objects written during the pause are replicated after").
While the source region is cut off (all its subnets black-holed), writes in flight, and
writes made meanwhile, are lost, as they would be when a region goes dark.

The replicators read moto's state every tick (`moto_adapter.data_state`) and write the
replicas through the API, as AWS's replication would: CopyObject of the source version
(S3 replication copies the object's data and metadata, "What does Amazon S3 replicate?",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html),
PutItem / DeleteItem of the stream record's image in each replica region.
"""

from __future__ import annotations

from dataclasses import dataclass

from drtool.sandbox.estate import Estate, Truth
from drtool.sandbox.loopback import ClientFactory
from drtool.sandbox.moto_adapter import data_state as mi


@dataclass
class _S3Write:
    due: float
    bucket: str
    key: str
    version_id: str
    rule_id: str
    destination: str
    region: str
    leaks_until: float | None = None   # in flight when its rule was paused: still lands until then


class S3Replicator:
    def __init__(self, account: str, truth: Truth, clients: ClientFactory) -> None:
        self.account = account
        self.truth = truth
        self.clients = clients
        self.seen: set[tuple[str, str, str]] = set()
        self.in_flight: list[_S3Write] = []
        self.replicated = 0
        self.lost = 0
        self._status: dict[tuple[str, str], str] = {}
        self.paused: dict[str, float] = {}   # bucket -> wall time the pause ends by itself

    def pause(self, bucket: str, until: float) -> None:
        """Hold the bucket's replication until `until` (wall clock) or `resume`."""
        self.paused[bucket] = until

    def resume(self, bucket: str) -> None:
        """End a pause now; the queued writes replicate after the bucket's lag."""
        if self.paused.pop(bucket, None) is not None:
            import time

            self._release(bucket, time.time())

    def _release(self, bucket: str, wall: float) -> None:
        for write in self.in_flight:
            if write.bucket == bucket:
                write.due = max(write.due, wall + self._lag(bucket))

    def _lag(self, bucket: str) -> float:
        return self.truth.buckets.get(bucket, self.truth.s3_replication_lag)

    def step(self, wall: float, cut_off: set[str]) -> None:
        rules = mi.replication_rules(self.account)
        for bucket, bucket_rules in rules.items():
            region = mi.bucket_region(self.account, bucket) or ""
            for rule in bucket_rules:
                before = self._status.get((bucket, rule.rule_id))
                if before is not None and before != "Enabled" and rule.status == "Enabled":
                    for write in self.in_flight:
                        if write.bucket == bucket and write.rule_id == rule.rule_id:
                            write.due = max(write.due, wall + self._lag(bucket))
                if before == "Enabled" and rule.status != "Enabled":
                    for write in self.in_flight:
                        if write.bucket == bucket and write.rule_id == rule.rule_id:
                            write.leaks_until = wall + self.truth.s3_pause_leak
                self._status[(bucket, rule.rule_id)] = rule.status
            for version in mi.object_versions(self.account, bucket):
                ident = (bucket, version.key, version.version_id)
                if ident in self.seen:
                    continue
                self.seen.add(ident)
                matched = next((r for r in bucket_rules if version.key.startswith(r.prefix)), None)
                if matched is None:
                    continue
                if region in cut_off:
                    self.lost += 1
                    continue
                self.in_flight.append(_S3Write(version.written_at + self._lag(bucket), bucket, version.key,
                                               version.version_id, matched.rule_id, matched.destination, region))
        self._deliver(wall, cut_off, rules)

    def _deliver(self, wall: float, cut_off: set[str], rules: dict[str, list[mi.ReplicationRule]]) -> None:
        for bucket, until in list(self.paused.items()):
            if wall >= until:
                del self.paused[bucket]
                self._release(bucket, wall)
        waiting = []
        for write in self.in_flight:
            if write.region in cut_off:
                self.lost += 1
                continue
            rule = next((r for r in rules.get(write.bucket, []) if r.rule_id == write.rule_id), None)
            if rule is None:
                continue  # the rule was removed: nothing more replicates
            if write.due > wall or not (rule.status == "Enabled" or self._leaks(write, wall)) \
                    or (write.bucket in self.paused and not self._leaks(write, wall)):
                waiting.append(write)
                continue
            copied = self._copy(write, rule.destination)
            if copied is not None:
                self.seen.add((rule.destination, write.key, copied))
                self.replicated += 1
        self.in_flight = waiting

    def _copy(self, write: _S3Write, destination: str) -> str | None:
        """CopyObject of the source version into `destination` (data, metadata and content
        type come along); returns the new version id, None when either side is gone."""
        region = mi.bucket_region(self.account, destination)
        if region is None or mi.bucket_region(self.account, write.bucket) is None:
            return None
        from botocore.exceptions import ClientError

        try:
            out = self.clients("s3", region).copy_object(
                Bucket=destination, Key=write.key, MetadataDirective="COPY",
                CopySource={"Bucket": write.bucket, "Key": write.key, "VersionId": write.version_id})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "NoSuchVersion", "NoSuchBucket"):
                return None
            raise
        return str(out.get("VersionId")) if out.get("VersionId") else None

    @staticmethod
    def _leaks(write: _S3Write, wall: float) -> bool:
        """A write in flight when its rule was paused still replicates within the leak window."""
        return write.leaks_until is not None and wall <= write.leaks_until


@dataclass
class _TableWrite:
    due: float
    table: str
    region: str
    replicas: tuple[str, ...]
    record: mi.StreamRecord


class TableReplicator:
    """One-way: the table's home region to its replica regions, from the table's stream."""

    def __init__(self, estate: Estate, truth: Truth, clients: ClientFactory) -> None:
        self.account = estate.account
        self.clients = clients
        self.tables = [t for t in estate.tables if t.replicas]
        self.truth = truth
        self.after: dict[str, int | None] = {}
        self.in_flight: list[_TableWrite] = []
        self.replicated = 0
        self.lost = 0

    def step(self, wall: float, cut_off: set[str]) -> None:
        for table in self.tables:
            lag = self.truth.tables.get(table.name, self.truth.dynamodb_replication_lag)
            for record in mi.stream_records(self.account, table.region, table.name, self.after.get(table.name)):
                self.after[table.name] = record.sequence
                if table.region in cut_off:
                    self.lost += 1
                    continue
                self.in_flight.append(_TableWrite(record.written_at + lag, table.name, table.region,
                                                  tuple(table.replicas), record))
        waiting = []
        for write in self.in_flight:
            if write.region in cut_off:
                self.lost += 1
            elif write.due > wall:
                waiting.append(write)
            else:
                for region in write.replicas:
                    self._apply(region, write.table, write.record)
                self.replicated += 1
        self.in_flight = waiting

    def _apply(self, region: str, table: str, record: mi.StreamRecord) -> None:
        """The change, in `region`'s copy of the table: DeleteItem for REMOVE, else PutItem of
        the new image. A replica table that is gone is skipped."""
        from botocore.exceptions import ClientError

        ddb = self.clients("dynamodb", region)
        try:
            if record.event == "REMOVE":
                ddb.delete_item(TableName=table, Key=record.keys)
            elif record.new_image is not None:
                ddb.put_item(TableName=table, Item=record.new_image)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
