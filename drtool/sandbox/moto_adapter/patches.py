"""moto methods the sandbox patches while it runs, and the state those patches consult.

Installed only while a sandbox runs, acting only on the sandbox's account and regions:

- Auto Scaling never launches synchronously in scope: the simulator launches, with delays
  (AWS launches asynchronously too: the group reports Pending members first).
- Target health (DescribeTargetHealth) and Route 53 health-check status
  (GetHealthCheckStatus) come from the simulator, which models the checkers; moto answers
  a fixed healthy / Success.
- RDS promote, Aurora failover and snapshot restore, and DynamoDB backup restore take
  time: the resource stays busy ('modifying' / 'failing-over' / 'creating' / CREATING)
  until the simulator finishes it. moto completes all of them at once.
- DescribeTable lists the replica regions of a sandbox global table (moto ignores
  ReplicaUpdates).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drtool.sandbox.moto_adapter import backends

NATIVE_HEADER = "x-drtool-sandbox-native"  # marks calls a fake makes on its own behalf


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
        cluster = backends.rds(account, region).clusters.get(ident)
        if cluster is not None:
            cluster.status = "available"
            for member in cluster.members:
                member.status = "available"
    elif kind == "rds-restore":
        database = backends.rds(account, region).databases.get(ident)
        if database is not None:
            database.status = "available"


def _finish_promotion(account: str, region: str, db_id: str) -> None:
    """Clear the replica link on both sides (moto's promote leaves it) and make it available."""
    backend = backends.rds(account, region)
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
    primary = backends.rds(account, source_region).databases.get(source_id)
    if primary is not None:
        primary.replicas = [r for r in primary.replicas if r not in (db_id, database.db_instance_arn)]


def original_launch() -> Any:
    """moto's own Auto Scaling launch (the patched method while patches are installed)."""
    from moto.autoscaling.models import FakeAutoScalingGroup

    for owner, name, original in _STATE.originals:
        if owner is FakeAutoScalingGroup and name == "replace_autoscaling_group_instances":
            return original
    return FakeAutoScalingGroup.replace_autoscaling_group_instances
