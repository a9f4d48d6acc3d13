"""The only module that reaches into moto's internals (pinned: moto[server]>=5.2.1,<5.3).

moto answers the AWS API but has no dynamics. The sandbox adds them by reading and
changing moto's backend state through the small named functions below, and by a few
patches (installed only while a sandbox runs, and acting only on the sandbox's account
and regions). Everything else in `drtool.sandbox` goes through here, never into moto.
`tests/sandbox/test_moto_internals.py` exercises every function against the installed
moto, so an upgrade that moves these internals fails loudly.

All reads return plain frozen dataclasses. Callers hold the sandbox lock (the same lock
the moto server takes around every request), so nothing here locks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GLOBAL = "aws"  # moto's region key for its global services (S3, Route 53)
NATIVE_HEADER = "x-drtool-sandbox-native"  # marks calls a fake makes on its own behalf
PENDING = "Pending"
IN_SERVICE = "InService"


def _epoch(value: datetime) -> float:
    """Epoch seconds of a moto timestamp (naive UTC or aware); moto always sets them."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _naive_utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=UTC).replace(tzinfo=None)


def _ec2(account: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def _autoscaling(account: str, region: str) -> Any:
    from moto.autoscaling.models import autoscaling_backends

    return autoscaling_backends[account][region]


def _elbv2(account: str, region: str) -> Any:
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends[account][region]


def _rds(account: str, region: str) -> Any:
    from moto.rds.models import rds_backends

    return rds_backends[account][region]


def _s3(account: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account][GLOBAL]


def _dynamodb(account: str, region: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[account][region]


def _route53(account: str) -> Any:
    from moto.route53.models import route53_backends

    return route53_backends[account][GLOBAL]


def _cloudwatch(account: str, region: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account][region]


# --------------------------------------------------------------------------- patches

@dataclass
class _PatchState:
    """What the patched moto methods consult. Replaced wholesale by the simulator."""

    scope: set[tuple[str, str]] = field(default_factory=set)       # (account, region)
    accounts: set[str] = field(default_factory=set)
    target_health: dict[str, dict[str, tuple[str, str, str]]] = field(default_factory=dict)
    check_health: dict[str, bool] = field(default_factory=dict)    # health check id -> healthy
    busy: dict[tuple[str, str, str, str], float] = field(default_factory=dict)  # (kind, acct, region, id) -> since
    replicas: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)  # (acct, region, table) -> regions
    originals: list[tuple[Any, str, Any]] = field(default_factory=list)


_STATE = _PatchState()
_REQUEST = threading.local()


def mark_request(*, native: bool) -> None:
    """Called by the server per request: is it a fake's own native call?"""
    _REQUEST.native = native


def _timed(account: str, region: str) -> bool:
    """Should an operation in (account, region) take simulated time? Not for calls a fake
    (the AWS Backup fake) makes natively: its own job duration already covers them."""
    return (account, region) in _STATE.scope and not getattr(_REQUEST, "native", False)


def install_patches(account: str, regions: list[str]) -> None:
    """Install the sandbox's patches (idempotent) and put `regions` of `account` in scope.

    - Auto Scaling never launches synchronously in scope: the simulator launches, with delays.
    - Target health and Route 53 health-check status come from the simulator when it has a view.
    - RDS promote and snapshot restore, and DynamoDB backup restore, take time: they mark the
      resource busy ('modifying' / 'creating' / CREATING) until the simulator finishes them.
    """
    _STATE.scope.update((account, r) for r in regions)
    _STATE.accounts.add(account)
    if _STATE.originals:
        return
    from moto.autoscaling.models import FakeAutoScalingGroup
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.elbv2.models import FakeTargetGroup
    from moto.rds.models import RDSBackend
    from moto.route53.responses import Route53

    _patch(FakeAutoScalingGroup, "replace_autoscaling_group_instances", _deferred_launch)
    _patch(FakeTargetGroup, "health_for", _simulated_target_health)
    _patch(Route53, "get_health_check_status", _simulated_health_check_status)
    _patch(RDSBackend, "promote_read_replica", _timed_promotion)
    _patch(RDSBackend, "failover_db_cluster", _timed_failover)
    _patch(RDSBackend, "restore_db_instance_from_db_snapshot", _timed_rds_restore)
    _patch(DynamoDBBackend, "restore_table_from_backup", _timed_table_restore)
    _patch(Table, "describe", _table_describe_with_status)


def uninstall_patches() -> None:
    """Restore moto's own methods and forget all sandbox state."""
    for owner, name, original in reversed(_STATE.originals):
        setattr(owner, name, original)
    _STATE.originals.clear()
    _STATE.scope.clear()
    _STATE.accounts.clear()
    _STATE.target_health = {}
    _STATE.check_health = {}
    _STATE.busy.clear()
    _STATE.replicas.clear()


def _patch(owner: Any, name: str, factory: Callable[[Any], Any]) -> None:
    original = getattr(owner, name)
    _STATE.originals.append((owner, name, original))
    setattr(owner, name, factory(original))


def _deferred_launch(original: Any) -> Any:
    def replace_autoscaling_group_instances(self: Any, count_needed: int, propagated_tags: dict) -> None:
        if (self.account_id, self.region) in _STATE.scope:
            return  # the simulator launches, after the configured delay
        original(self, count_needed, propagated_tags)
    return replace_autoscaling_group_instances


def _simulated_target_health(original: Any) -> Any:
    from moto.elbv2.models import FakeHealthStatus

    def health_for(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        override = _STATE.target_health.get(self.arn, {}).get(target["Id"])
        if override is not None and target["Id"] in self.targets:
            state, reason, description = override
            port = self.targets[target["Id"]].get("Port", self.port)
            return FakeHealthStatus(target["Id"], port, self.health_check_port, state, reason, description)
        return original(self, target, ec2_backend)
    return health_for


def _simulated_health_check_status(original: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow

    def get_health_check_status(self: Any) -> Any:
        check_id = self._get_param("HealthCheckId")
        healthy = _STATE.check_health.get(check_id)
        if healthy is None:
            return original(self)
        self.backend.get_health_check(check_id)
        status = ("Success: HTTP Status Code: 200. Resolved IP: 127.0.0.1. OK" if healthy else
                  "Failure: HTTP Status Code: 503. Resolved IP: 127.0.0.1. Service Unavailable")
        return ActionResult({"HealthCheckObservations": [
            {"Region": region, "IPAddress": "127.0.0.1",
             "StatusReport": {"Status": status, "CheckedTime": utcnow()}}
            for region in ("us-east-1", "us-west-1", "eu-west-1")]})
    return get_health_check_status


def _timed_promotion(original: Any) -> Any:
    def promote_read_replica(self: Any, db_kwargs: dict[str, Any]) -> Any:
        db_id = db_kwargs["db_instance_identifier"]
        before = self.databases.get(db_id)
        was_replica = bool(before is not None and before.is_replica)
        database = original(self, db_kwargs)
        if was_replica and (self.account_id, self.region_name) in _STATE.scope:
            database.status = "modifying"
            _STATE.busy[("promote", self.account_id, self.region_name, db_id)] = time.monotonic()
        return database
    return promote_read_replica


def _timed_failover(original: Any) -> Any:
    """Aurora failover takes time: the cluster is `failing-over` and the new writer `rebooting`
    (as AWS reports them) until the simulator finishes it."""
    def failover_db_cluster(self: Any, db_cluster_identifier: str,
                            target_db_instance_identifier: str | None = None) -> Any:
        cluster = original(self, db_cluster_identifier, target_db_instance_identifier)
        if _timed(self.account_id, self.region_name):
            cluster.status = "failing-over"
            for member in cluster.members:
                if member.is_cluster_writer:
                    member.status = "rebooting"
            _STATE.busy[("failover", self.account_id, self.region_name, db_cluster_identifier)] = time.monotonic()
        return cluster
    return failover_db_cluster


def _timed_rds_restore(original: Any) -> Any:
    def restore_db_instance_from_db_snapshot(self: Any, from_snapshot_id: str, overrides: dict) -> Any:
        database = original(self, from_snapshot_id, overrides)
        if _timed(self.account_id, self.region_name):
            database.status = "creating"
            key = ("rds-restore", self.account_id, self.region_name, database.db_instance_identifier)
            _STATE.busy[key] = time.monotonic()
        return database
    return restore_db_instance_from_db_snapshot


def _timed_table_restore(original: Any) -> Any:
    def restore_table_from_backup(self: Any, target_table_name: str, backup_arn: str) -> Any:
        table = original(self, target_table_name, backup_arn)
        if _timed(self.account_id, self.region_name):
            _STATE.busy[("table-restore", self.account_id, self.region_name, target_table_name)] = \
                time.monotonic()
        return table
    return restore_table_from_backup


def _table_describe_with_status(original: Any) -> Any:
    def describe(self: Any, base_key: str = "TableDescription") -> dict[str, Any]:
        result = original(self, base_key=base_key)
        others = _STATE.replicas.get((self.account_id, self.region_name, self.name))
        if others and "Replicas" not in result[base_key]:
            result[base_key]["Replicas"] = [{"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in others]
        if ("table-restore", self.account_id, self.region_name, self.name) in _STATE.busy:
            result[base_key]["TableStatus"] = "CREATING"
            if "RestoreSummary" in result[base_key]:
                result[base_key]["RestoreSummary"]["RestoreInProgress"] = True
        return result
    return describe


def declare_table_replicas(account: str, table: str, regions: list[str]) -> None:
    """Make `table` a global table across `regions` in DescribeTable (moto ignores ReplicaUpdates);
    each region's description lists the other regions as ACTIVE replicas."""
    for region in regions:
        _STATE.replicas[(account, region, table)] = [r for r in regions if r != region]


def set_target_health(overrides: dict[str, dict[str, tuple[str, str, str]]]) -> None:
    """Target health the load balancers report: {tg_arn: {instance_id: (state, reason, description)}}.
    Targets without an entry keep moto's answer (healthy when running, unused when stopped)."""
    _STATE.target_health = overrides


def set_health_check_health(statuses: dict[str, bool]) -> None:
    """What Route 53's checkers observe per health check id (others keep moto's fixed Success)."""
    _STATE.check_health = statuses


def busy_since() -> dict[tuple[str, str, str, str], float]:
    """Operations in progress: {(kind, account, region, id): monotonic start};
    kind is 'promote', 'failover', 'rds-restore' or 'table-restore'."""
    return dict(_STATE.busy)


def finish_busy(key: tuple[str, str, str, str]) -> None:
    """Complete an operation from `busy_since()`: the resource becomes available."""
    kind, account, region, ident = key
    _STATE.busy.pop(key, None)
    if kind == "promote":
        _finish_promotion(account, region, ident)
    elif kind == "failover":
        cluster = _rds(account, region).clusters.get(ident)
        if cluster is not None:
            cluster.status = "available"
            for member in cluster.members:
                member.status = "available"
    elif kind == "rds-restore":
        database = _rds(account, region).databases.get(ident)
        if database is not None:
            database.status = "available"


# --------------------------------------------------------------------------- EC2 / network

@dataclass(frozen=True)
class AclRule:
    number: int
    action: str       # allow | deny
    cidr: str
    protocol: str     # "-1" for all


def subnet_azs(account: str, region: str) -> dict[str, str]:
    """{subnet_id: availability zone} for every subnet in the region."""
    return {s.id: s.availability_zone for s in _ec2(account, region).describe_subnets()}


def subnet_ingress_rules(account: str, region: str) -> dict[str, list[AclRule]]:
    """{subnet_id: the inbound rules of its network ACL, by rule number}."""
    result: dict[str, list[AclRule]] = {}
    for acl in list(_ec2(account, region).network_acls.values()):
        rules = sorted((AclRule(int(e.rule_number), e.rule_action, e.cidr_block or "", str(e.protocol))
                        for e in acl.network_acl_entries if not _is_true(e.egress)),
                       key=lambda r: r.number)
        for association in acl.associations:
            result[association.subnet_id] = rules
    return result


def _is_true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def instance_states(account: str, region: str, instance_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """{instance_id: (EC2 state name, subnet_id)} for the ids that exist."""
    ec2 = _ec2(account, region)
    result = {}
    for instance_id in instance_ids:
        instance = ec2.get_instance_by_id(instance_id)
        if instance is not None:
            result[instance_id] = (instance._state.name, instance.subnet_id)
    return result


# --------------------------------------------------------------------------- Auto Scaling

@dataclass(frozen=True)
class Member:
    instance_id: str
    lifecycle: str
    health: str
    state: str                # EC2 state name
    subnet_id: str | None


@dataclass(frozen=True)
class Group:
    name: str
    desired: int
    min_size: int
    max_size: int
    subnet_ids: tuple[str, ...]
    health_check_type: str
    target_group_arns: tuple[str, ...]
    members: tuple[Member, ...]


def auto_scaling_groups(account: str, region: str) -> list[Group]:
    groups = []
    for group in list(_autoscaling(account, region).autoscaling_groups.values()):
        members = tuple(Member(s.instance.id, s.lifecycle_state, s.health_status, s.instance._state.name,
                               s.instance.subnet_id) for s in group.instance_states)
        subnets = tuple(x for x in (group.vpc_zone_identifier or "").split(",") if x)
        groups.append(Group(group.name, int(group.desired_capacity or 0), int(group.min_size or 0),
                            int(group.max_size or 0), subnets, group.health_check_type or "EC2",
                            tuple(group.target_group_arns or ()), members))
    return groups


def launch_member(account: str, region: str, group_name: str, subnet_id: str) -> str:
    """Launch one instance for the group into `subnet_id` (moto's own launch code, so tags
    and launch template apply) and hold it in lifecycle Pending. Returns its id."""
    group = _autoscaling(account, region).autoscaling_groups[group_name]
    original = _original_launch()
    saved = (group.vpc_zone_identifier, group.availability_zones)
    before = len(group.instance_states)
    try:
        group.vpc_zone_identifier = subnet_id
        group.availability_zones = [_ec2(account, region).get_subnet(subnet_id).availability_zone]
        original(group, 1, group.get_propagated_tags())
    finally:
        group.vpc_zone_identifier, group.availability_zones = saved
    state = group.instance_states[before]
    state.lifecycle_state = PENDING
    return state.instance.id


def _original_launch() -> Any:
    from moto.autoscaling.models import FakeAutoScalingGroup

    for owner, name, original in _STATE.originals:
        if owner is FakeAutoScalingGroup and name == "replace_autoscaling_group_instances":
            return original
    return FakeAutoScalingGroup.replace_autoscaling_group_instances


def set_member(account: str, region: str, group_name: str, instance_id: str, *,
               lifecycle: str | None = None, health: str | None = None) -> None:
    group = _autoscaling(account, region).autoscaling_groups[group_name]
    for state in group.instance_states:
        if state.instance.id == instance_id:
            if lifecycle is not None:
                state.lifecycle_state = lifecycle
            if health is not None:
                state.health_status = health


def remove_member(account: str, region: str, group_name: str, instance_id: str) -> None:
    """Take the instance out of the group, terminate it, deregister it from the group's
    target groups (what Auto Scaling does to an unhealthy or surplus member)."""
    group = _autoscaling(account, region).autoscaling_groups[group_name]
    group.instance_states = [s for s in group.instance_states if s.instance.id != instance_id]
    ec2 = _ec2(account, region)
    if ec2.get_instance_by_id(instance_id) is not None:
        ec2.terminate_instances([instance_id])
    for tg in _target_groups(account, region, group.target_group_arns):
        tg.deregister_terminated_instances([instance_id])


def sync_group_targets(account: str, region: str, group_name: str) -> None:
    """Register the group's running members in its target groups; drop terminated targets."""
    group = _autoscaling(account, region).autoscaling_groups[group_name]
    running = [s.instance.id for s in group.instance_states if s.instance._state.name == "running"]
    ec2 = _ec2(account, region)
    for tg in _target_groups(account, region, group.target_group_arns):
        missing = [{"Id": i, "Port": tg.port} for i in running if i not in tg.targets]
        if missing:
            tg.register(missing)
        gone = [i for i in list(tg.targets) if i.startswith("i-") and
                (ec2.get_instance_by_id(i) is None or ec2.get_instance_by_id(i)._state.name == "terminated")]
        if gone:
            tg.deregister_terminated_instances(gone)


def _target_groups(account: str, region: str, arns: Any) -> list[Any]:
    groups = _elbv2(account, region).target_groups
    return [groups[a] for a in arns if a in groups]


def target_ids(account: str, region: str, arn: str) -> list[str]:
    """The ids registered in a target group ([] if it does not exist)."""
    groups = _target_groups(account, region, [arn])
    return list(groups[0].targets) if groups else []


def target_group_arns(account: str, region: str) -> dict[str, str]:
    """{target group name: arn} in the region."""
    return {tg.name: tg.arn for tg in list(_elbv2(account, region).target_groups.values())}


# --------------------------------------------------------------------------- RDS

@dataclass(frozen=True)
class Database:
    identifier: str
    status: str
    is_replica: bool
    source: str | None          # ReadReplicaSourceDBInstanceIdentifier (id or ARN)
    replicas: tuple[str, ...]


def db_instances(account: str, region: str) -> dict[str, Database]:
    return {d.db_instance_identifier: Database(d.db_instance_identifier, d.status, bool(d.is_replica),
                                               d.source_db_instance_identifier, tuple(d.replicas))
            for d in list(_rds(account, region).databases.values())}


def _finish_promotion(account: str, region: str, db_id: str) -> None:
    """Clear the replica link on both sides (moto's promote leaves it) and make it available."""
    backend = _rds(account, region)
    database = backend.databases.get(db_id)
    if database is None:
        return
    source = database.source_db_instance_identifier
    database.status = "available"
    database.is_replica = False
    database.source_db_instance_identifier = None
    if not source:
        return
    source_region, source_id = region, source
    if source.startswith("arn:"):
        parts = source.split(":")
        source_region, source_id = parts[3], parts[-1]
    primary = _rds(account, source_region).databases.get(source_id)
    if primary is not None:
        primary.replicas = [r for r in primary.replicas if r not in (db_id, database.db_instance_arn)]


def age_db_snapshot(account: str, region: str, snapshot_id: str, age_s: float) -> None:
    """Backdate a manual DB snapshot so it is `age_s` old."""
    snapshot = _rds(account, region).database_snapshots[snapshot_id]
    snapshot.created = _naive_utc(time.time() - age_s)
    snapshot.original_snapshot_create_time = snapshot.created


# --------------------------------------------------------------------------- S3

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


def replication_rules(account: str) -> dict[str, list[ReplicationRule]]:
    """{source bucket: its replication rules, highest priority first}."""
    result: dict[str, list[ReplicationRule]] = {}
    for bucket in list(_s3(account).buckets.values()):
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
    found = _s3(account).buckets.get(bucket)
    return found.region_name if found is not None else None


def object_versions(account: str, bucket: str) -> list[ObjectVersion]:
    """Every stored object version (not delete markers) of the bucket."""
    from moto.s3.models import FakeKey

    found = _s3(account).buckets.get(bucket)
    if found is None:
        return []
    return [ObjectVersion(name, str(v.version_id), _epoch(v.last_modified))
            for name, versions in found.keys.iterlists() for v in versions if isinstance(v, FakeKey)]


def copy_object_version(account: str, source: str, key: str, version_id: str, destination: str) -> str | None:
    """Write the source version's bytes and metadata as a new version in `destination`
    (what S3 replication does). Returns the new version id, None when either side is gone."""
    backend = _s3(account)
    src, dest = backend.buckets.get(source), backend.buckets.get(destination)
    if src is None or dest is None:
        return None
    version = next((v for v in src.keys.getlist(key, []) if str(v.version_id) == version_id), None)
    if version is None:
        return None
    copy = backend.put_object(destination, key, version.value, disable_notification=True)
    copy.set_metadata(dict(version.metadata))
    return str(copy.version_id)


# --------------------------------------------------------------------------- DynamoDB

@dataclass(frozen=True)
class StreamRecord:
    sequence: int
    event: str                  # INSERT | MODIFY | REMOVE
    keys: dict[str, Any]
    new_image: dict[str, Any] | None
    written_at: float


def table_exists(account: str, region: str, table: str) -> bool:
    return table in _dynamodb(account, region).tables


def stream_records(account: str, region: str, table: str, after: int | None) -> list[StreamRecord]:
    """The table's stream records with sequence number > `after` (all when None)."""
    found = _dynamodb(account, region).tables.get(table)
    shard = getattr(found, "stream_shard", None)
    if shard is None:
        return []
    start = 0 if after is None else max(0, after - shard.starting_sequence_number + 1)
    records = []
    for item in shard.items[start:]:
        data = item.record["dynamodb"]
        records.append(StreamRecord(int(data["SequenceNumber"]), item.record["eventName"], data["Keys"],
                                    data.get("NewImage"), _epoch(data["ApproximateCreationDateTime"])))
    return records


def apply_stream_record(account: str, region: str, table: str, record: StreamRecord) -> bool:
    """Apply a replicated change to the table in `region`. False when the table is gone."""
    backend = _dynamodb(account, region)
    if table not in backend.tables:
        return False
    if record.event == "REMOVE":
        backend.delete_item(table, record.keys)
    elif record.new_image is not None:
        backend.put_item(table, record.new_image)
    return True


def age_table_backup(account: str, region: str, backup_arn: str, age_s: float) -> None:
    """Backdate an on-demand DynamoDB backup so it is `age_s` old."""
    _dynamodb(account, region).backups[backup_arn].creation_date_time = _naive_utc(time.time() - age_s)


# --------------------------------------------------------------------------- Route 53

@dataclass(frozen=True)
class HealthCheck:
    check_id: str
    type: str
    fqdn: str | None
    ip_address: str | None
    port: int
    path: str | None
    inverted: bool
    disabled: bool


@dataclass(frozen=True)
class Record:
    name: str
    type: str
    set_identifier: str | None
    failover: str | None
    health_check_id: str | None
    values: tuple[str, ...]
    ttl: int


def health_checks(account: str) -> list[HealthCheck]:
    return [HealthCheck(h.id, str(h.type_), h.fqdn, h.ip_address, int(h.port or 80), h.resource_path,
                        _is_true(h.inverted), _is_true(h.disabled))
            for h in list(_route53(account).health_checks.values())]


def record_sets(account: str, record_name: str) -> list[Record]:
    """Every record set named `record_name` (trailing dot optional) in any zone."""
    wanted = record_name.rstrip(".") + "."
    result = []
    for zone in list(_route53(account).zones.values()):
        for rr in list(zone.rrsets):
            if rr.name.rstrip(".") + "." != wanted:
                continue
            values = tuple(v["Value"] if isinstance(v, dict) else str(v) for v in rr.records or [])
            result.append(Record(rr.name, rr.type, rr.set_identifier, rr.failover, rr.health_check_id,
                                 values, int(rr.ttl or 0)))
    return result


# --------------------------------------------------------------------------- CloudWatch

@dataclass(frozen=True)
class Alarm:
    name: str
    namespace: str | None
    metric_name: str | None
    dimensions: tuple[tuple[str, str], ...]
    statistic: str | None
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int | None
    threshold: float
    comparison: str
    treat_missing: str | None
    state: str


def alarms(account: str, region: str) -> list[Alarm]:
    return [Alarm(a.name, a.namespace, a.metric_name, tuple((d.name, d.value) for d in a.dimensions),
                  a.statistic, int(a.period or 60), int(a.evaluation_periods or 1),
                  int(a.datapoints_to_alarm) if a.datapoints_to_alarm else None, float(a.threshold or 0),
                  a.comparison_operator, a.treat_missing_data, a.state_value)
            for a in list(_cloudwatch(account, region).alarms.values())]


def put_metric(account: str, region: str, namespace: str, name: str, dimensions: dict[str, str],
               value: float, unit: str = "Count") -> None:
    _cloudwatch(account, region).put_metric_data(namespace, [{
        "MetricName": name, "Value": value, "Unit": unit,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()]}])


def datapoints(account: str, region: str, namespace: str, name: str,
               dimensions: tuple[tuple[str, str], ...], since: float) -> list[tuple[float, float]]:
    """[(epoch, value)] of single-value datapoints of the metric newer than `since`."""
    from moto.cloudwatch.models import MetricDatum

    wanted = set(dimensions)
    after = _naive_utc(since)
    return [(_epoch(d.timestamp), d.value) for d in list(_cloudwatch(account, region).metric_data)
            if isinstance(d, MetricDatum) and d.namespace == namespace and d.name == name
            and _naive(d.timestamp) > after and {(x.name, x.value) for x in d.dimensions} == wanted]


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def prune_metrics(account: str, region: str, namespace: str, older_than: float) -> None:
    """Drop `namespace` datapoints older than `older_than` (epoch) so evaluation stays cheap."""
    backend = _cloudwatch(account, region)
    cutoff = _naive_utc(older_than)
    backend.metric_data = [d for d in backend.metric_data
                           if d.namespace != namespace or _naive(d.timestamp) >= cutoff]


def set_alarm_state(account: str, region: str, name: str, state: str, reason: str) -> None:
    _cloudwatch(account, region).set_alarm_state(name, reason, "{}", state)

