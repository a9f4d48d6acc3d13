"""RDS: promote a cross-region read replica, fail an Aurora cluster over (and back), and the
`rds.available` probe."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from drtool.aws.errors import error_code
from drtool.context import StepContext
from drtool.errors import AwsError, ChangedSince, DrToolError
from drtool.registry import Params, action, probe, undo
from drtool.resources import Outcome, ProbeResult, Resource, UndoSpec
from drtool.timing import PollTimeout, wait_until

FAILBACK_WAIT_S = 900.0
FAILBACK_POLL_S = 5.0

PROMOTE_FOLLOW_UP = (
    "Promotion cannot be undone. To fail back: once the primary region is healthy, create a "
    "cross-region read replica of the promoted instance in the primary region, let it catch up, "
    "switch writes to it in a planned window (promote it, re-point DNS/config), then re-create a "
    "read replica in the DR region and retire the stale old primary.")


def describe_instance(client: Any, db_instance: str) -> dict[str, Any] | None:
    """The DB instance, or None when it does not exist."""
    try:
        return client.describe_db_instances(DBInstanceIdentifier=db_instance)["DBInstances"][0]
    except Exception as exc:
        if error_code(exc) in ("DBInstanceNotFound", "DBInstanceNotFoundFault"):
            return None
        raise


def describe_cluster(client: Any, cluster: str) -> dict[str, Any] | None:
    """The DB cluster, or None when it does not exist."""
    try:
        return client.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0]
    except Exception as exc:
        if error_code(exc) in ("DBClusterNotFoundFault", "DBClusterNotFound"):
            return None
        raise


def cluster_writer(cluster: dict[str, Any]) -> str | None:
    """The instance id of the cluster's writer (None while there is none)."""
    return next((m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers") or []
                 if m.get("IsClusterWriter")), None)


def _region_of(arn_or_id: str, default: str) -> str:
    parts = arn_or_id.split(":")
    return parts[3] if arn_or_id.startswith("arn:") and len(parts) > 3 else default


# --- promote -------------------------------------------------------------------------


class PromoteParams(Params):
    db_instance: str = Field(description="identifier of the read replica to promote")


_RDS_KINDS = {  # resource type -> (describe call, id parameter, list key, ARN key, not-found code)
    "rds:db": ("describe_db_instances", "DBInstanceIdentifier", "DBInstances", "DBInstanceArn", "DBInstanceNotFound"),
    "rds:cluster": ("describe_db_clusters", "DBClusterIdentifier", "DBClusters", "DBClusterArn",
                    "DBClusterNotFoundFault"),
}


def _touched(ctx: StepContext, kind: str, ident: str, region: str) -> list[Resource]:
    """The RDS instance or cluster an action changes, with its tags, for `require_tags` (read-only)."""
    method, id_param, key, arn_key, not_found = _RDS_KINDS[kind]
    try:
        found = getattr(ctx.client("rds", region), method)(**{id_param: ident})[key]
    except Exception as exc:
        if error_code(exc) != not_found:
            raise
        found = []
    item = found[0] if found else {}
    return [Resource(id=ident, type=kind, region=region, arn=item.get(arn_key),
                     tags={t["Key"]: t["Value"] for t in item.get("TagList", [])}, attrs={"missing": not found})]


def _touches_instance(ctx: StepContext, params: PromoteParams) -> list[Resource]:
    return _touched(ctx, "rds:db", params.db_instance, params.region or ctx.region)


def _touches_cluster(ctx: StepContext, params: FailoverParams) -> list[Resource]:
    return _touched(ctx, "rds:cluster", params.cluster, params.region or ctx.region)


@action("rds.promote-read-replica", touches=_touches_instance,
        summary="Promote a read replica to a standalone, writable instance (no undo: listed as follow-up)",
        params=PromoteParams, iam=["rds:DescribeDBInstances", "rds:PromoteReadReplica"],
        follow_up=PROMOTE_FOLLOW_UP)
def promote_read_replica(ctx: StepContext, params: PromoteParams, targets: list[Resource]) -> Outcome:
    """Refuses an instance that is not a replica (AWS refuses too; moto would 'promote' it)."""
    region = params.region or ctx.region
    client = ctx.client("rds", region)
    db = describe_instance(client, params.db_instance)
    if db is None:
        raise AwsError("rds:DescribeDBInstances", "DBInstanceNotFound",
                       f"DB instance {params.db_instance!r} not found in {region}", ctx.step or None,
                       "name the read replica and its region in `with:`")
    source = db.get("ReadReplicaSourceDBInstanceIdentifier")
    if not source:
        raise AwsError("rds:PromoteReadReplica", "InvalidDBInstanceState",
                       f"{params.db_instance} in {region} is not a read replica; refusing to promote it",
                       ctx.step or None,
                       "name the cross-region read replica; an instance already promoted stays promoted")
    resource = db.get("DBInstanceArn") or params.db_instance
    ctx.change(f"promote read replica {params.db_instance} in {region} (replica of {source})",
               lambda: client.promote_read_replica(DBInstanceIdentifier=params.db_instance),
               resources=[resource])
    source_region = _region_of(source, region)
    ctx.follow_up(resource,
                  f"Read replica {params.db_instance} ({region}) was promoted to a standalone writable "
                  f"instance; it no longer replicates from {source}.",
                  f"{PROMOTE_FOLLOW_UP} Here: replicate {params.db_instance} ({region}) back into "
                  f"{source_region}, switch over, then re-create the replica in {region}.")
    return Outcome(f"Promoted read replica {params.db_instance} ({region}) to a standalone instance; "
                   f"it was a replica of {source}. Fail-back is listed under follow-up.",
                   {"db_instance": params.db_instance, "source": source, "region": region})


# --- Aurora failover -------------------------------------------------------------------


class FailoverParams(Params):
    cluster: str = Field(description="Aurora DB cluster identifier")
    target_instance: str | None = Field(default=None, description="reader to promote (default: RDS picks one)")


@action("rds.failover-cluster", summary="Fail an Aurora cluster over to a reader (undo: fail back to the old writer)",
        params=FailoverParams, undo="rds.failover-cluster-back", touches=_touches_cluster,
        iam=["rds:DescribeDBClusters", "rds:FailoverDBCluster"])
def failover_cluster(ctx: StepContext, params: FailoverParams, targets: list[Resource]) -> Outcome:
    region = params.region or ctx.region
    client = ctx.client("rds", region)
    cluster = describe_cluster(client, params.cluster)
    if cluster is None:
        raise DrToolError(f"Aurora cluster {params.cluster!r} not found in {region}")
    members = [m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers") or []]
    writer = cluster_writer(cluster)
    if params.target_instance and params.target_instance not in members:
        raise DrToolError(f"{params.target_instance!r} is not a member of cluster {params.cluster} "
                          f"(members: {', '.join(members) or 'none'})")
    if params.target_instance and params.target_instance == writer:
        return Outcome(f"{writer} is already the writer of {params.cluster}; nothing changed.",
                       {"writer": writer, "previous_writer": writer})
    if len(members) < 2 or writer is None:
        raise DrToolError(f"cluster {params.cluster} has no reader to fail over to "
                          f"(members: {', '.join(members) or 'none'}, writer: {writer or 'none'})")
    kwargs: dict[str, Any] = {"DBClusterIdentifier": params.cluster}
    if params.target_instance:
        kwargs["TargetDBInstanceIdentifier"] = params.target_instance
    target = params.target_instance or "a reader chosen by RDS"
    # Without a target RDS picks the reader (FailoverDBCluster: "the primary instance is
    # failed over to a read replica"): the undo then accepts any of the readers of the moment.
    drill_writers = [params.target_instance] if params.target_instance else [m for m in members if m != writer]
    ctx.change(f"fail over Aurora cluster {params.cluster} ({region}) from writer {writer} to {target}",
               lambda: client.failover_db_cluster(**kwargs),
               undo=UndoSpec("rds.failover-cluster-back",
                             {"cluster": params.cluster, "writer": writer, "drill_writers": drill_writers,
                              "region": region}, region),
               resources=[cluster.get("DBClusterArn") or params.cluster])
    after = describe_cluster(client, params.cluster)
    now = cluster_writer(after) if after else None
    state = f"the writer is now {now}" if now and now != writer else "the failover is in progress"
    return Outcome(f"Failed over Aurora cluster {params.cluster} ({region}) from {writer} to {target}; {state}.",
                   {"previous_writer": writer, "writer": now})


class FailbackParams(Params):
    cluster: str
    writer: str = Field(description="the instance that was the writer before the drill")
    drill_writers: list[str] | None = Field(default=None, description="the instance(s) the drill's failover could "
                                            "have made writer (absent in journals written before the check existed)")


def _as_cluster(value: object) -> dict[str, Any] | None:
    """A `describe_cluster` result passed back through `wait_until` (typed `object`)."""
    return value if isinstance(value, dict) else None


@undo("rds.failover-cluster-back",
      summary="Fail an Aurora cluster back to its previous writer (only if the drill's writer still writes)",
      params=FailbackParams, iam=["rds:DescribeDBClusters", "rds:FailoverDBCluster"])
def failover_cluster_back(ctx: StepContext, params: FailbackParams) -> str:
    """Waits for a failover in progress to settle, then compares and swaps: the old writer
    writes -> done (failed back, or the failover never happened); the drill's writer writes ->
    fail back and wait until the old writer writes again, so a completed rollback means the
    cluster really is back; any other writer, or the old writer gone -> left as found."""
    client = ctx.client("rds", params.region)

    def settled() -> tuple[bool, dict[str, Any] | None]:
        cluster = describe_cluster(client, params.cluster)
        return cluster is None or (cluster.get("Status") == "available" and cluster_writer(cluster) is not None), cluster

    cluster = settled()[1]
    if cluster is None:
        return f"Cluster {params.cluster} no longer exists; nothing to fail back."
    if cluster_writer(cluster) == params.writer:
        return f"{params.writer} is already the writer of {params.cluster}."
    members = [m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers") or []]
    if params.writer not in members:
        raise ChangedSince(f"{params.writer}, the writer before the drill, is no longer a member of "
                           f"{params.cluster} (members: {', '.join(members) or 'none'})")
    try:
        _, settled_value = wait_until(settled, clock=ctx.clock, interval=FAILBACK_POLL_S, timeout=FAILBACK_WAIT_S)
    except PollTimeout as exc:
        raise DrToolError(f"cluster {params.cluster} did not settle (status "
                          f"{(_as_cluster(exc.last) or {}).get('Status')!r}); not failed back") from None
    cluster = _as_cluster(settled_value)
    if cluster is None or cluster_writer(cluster) == params.writer:
        return f"{params.writer} is already the writer of {params.cluster}."
    if params.drill_writers is not None and cluster_writer(cluster) not in params.drill_writers:
        raise ChangedSince(f"the writer of {params.cluster} is {cluster_writer(cluster)}, not the drill's "
                           f"{' or '.join(params.drill_writers)} (before the drill: {params.writer})")
    previous = cluster_writer(cluster)
    client.failover_db_cluster(DBClusterIdentifier=params.cluster, TargetDBInstanceIdentifier=params.writer)

    def back() -> tuple[bool, str | None]:
        current = describe_cluster(client, params.cluster)
        writer = cluster_writer(current) if current else None
        return writer == params.writer, writer

    try:
        wait_until(back, clock=ctx.clock, interval=FAILBACK_POLL_S, timeout=FAILBACK_WAIT_S)
    except PollTimeout as exc:
        raise DrToolError(f"failed {params.cluster} back to {params.writer}, but the writer is still "
                          f"{exc.last} after {FAILBACK_WAIT_S:.0f}s") from None
    return f"Failed {params.cluster} back: {params.writer} is the writer again (was {previous})."


# --- probe -------------------------------------------------------------------------------


class AvailableParams(Params):
    db_instance: str = Field(description="DB instance identifier")
    writable: bool = Field(default=False, description="also require it to take writes (not a replica/reader)")


@probe("rds.available", summary="DB instance status is available and, with `writable`, it is not a replica",
       params=AvailableParams, iam=["rds:DescribeDBInstances", "rds:DescribeDBClusters"])
def available(ctx: StepContext, params: AvailableParams) -> ProbeResult:
    """Writable means no replica link; for an Aurora member it means being the cluster's writer."""
    region = params.region or ctx.region
    client = ctx.client("rds", region)
    name = params.db_instance
    db = describe_instance(client, name)
    if db is None:
        return ProbeResult(False, f"DB instance {name} was not found in {region}.")
    status = db.get("DBInstanceStatus")
    data = {"status": status, "region": region}
    if status != "available":
        return ProbeResult(False, f"{name} ({region}) is {status}, not available.", data)
    if not params.writable:
        return ProbeResult(True, f"{name} ({region}) is available.", data)
    source = db.get("ReadReplicaSourceDBInstanceIdentifier")
    if source:
        return ProbeResult(False, f"{name} ({region}) is available but still a read replica of {source}.",
                           {**data, "source": source})
    if db.get("DBClusterIdentifier"):
        cluster = describe_cluster(client, db["DBClusterIdentifier"])
        writer = cluster_writer(cluster) if cluster else None
        if writer != name:
            return ProbeResult(False, f"{name} ({region}) is available but a reader of cluster "
                               f"{db['DBClusterIdentifier']} (writer: {writer or 'none'}).", {**data, "writer": writer})
    return ProbeResult(True, f"{name} ({region}) is available and writable.", {**data, "writable": True})


class ClusterWriterParams(Params):
    cluster: str = Field(description="Aurora DB cluster identifier")


@probe("rds.cluster-writable", summary="An Aurora cluster is available and its writer instance is available",
       params=ClusterWriterParams, iam=["rds:DescribeDBClusters", "rds:DescribeDBInstances"])
def cluster_writable(ctx: StepContext, params: ClusterWriterParams) -> ProbeResult:
    """What the application sees: the cluster takes writes, whichever instance is the writer.
    During a failover the cluster reports `failing-over` and the promoted reader reboots
    (Aurora user guide, "Failover for Aurora DB clusters"; DBCluster Status values)."""
    region = params.region or ctx.region
    client = ctx.client("rds", region)
    cluster = describe_cluster(client, params.cluster)
    if cluster is None:
        return ProbeResult(False, f"DB cluster {params.cluster} was not found in {region}.")
    status = cluster.get("Status")
    writer = cluster_writer(cluster)
    data = {"status": status, "writer": writer, "region": region}
    if status != "available":
        return ProbeResult(False, f"cluster {params.cluster} ({region}) is {status}.", data)
    if writer is None:
        return ProbeResult(False, f"cluster {params.cluster} ({region}) has no writer.", data)
    db = describe_instance(client, writer)
    writer_status = db.get("DBInstanceStatus") if db else "missing"
    if writer_status != "available":
        return ProbeResult(False, f"cluster {params.cluster}: writer {writer} is {writer_status}.", data)
    return ProbeResult(True, f"cluster {params.cluster} ({region}) takes writes on {writer}.", data)
