"""`rds.restore-snapshot` and its undo `rds.delete-restored-instance` (see drtool.backups.restore)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from drtool.backups.inventory import paginate
from drtool.backups.model import tag_dict
from drtool.backups.restore_common import (
    RESTORED_FROM_TAG,
    is_missing,
    newest,
    retry_busy,
    run_tags,
    step_region,
)
from drtool.context import RUN_TAG, StepContext
from drtool.errors import ChangedSince, DrToolError
from drtool.registry import Params, action, undo
from drtool.resources import Outcome, Resource, UndoSpec
from drtool.timing import rfc3339, to_epoch


class RdsRestoreParams(Params):
    db_instance: str = Field(description="DB instance whose snapshot is restored")
    target: str = Field(description="identifier of the new instance")
    snapshot: str | None = Field(default=None, description="snapshot identifier or ARN (default: newest)")
    instance_class: str | None = None
    db_subnet_group: str | None = None


def _rds_snapshot(client: Any, params: RdsRestoreParams) -> dict[str, Any]:
    if params.snapshot:
        found = client.describe_db_snapshots(DBSnapshotIdentifier=params.snapshot)["DBSnapshots"]
    else:
        found = list(paginate(client.describe_db_snapshots, "rds:DescribeDBSnapshots", "DBSnapshots", "Marker",
                              DBInstanceIdentifier=params.db_instance))
    snap = newest([s for s in found if s.get("Status") == "available"], "SnapshotCreateTime")
    if snap is None:
        raise DrToolError(f"no available snapshot of RDS instance {params.db_instance}"
                          + (f" named {params.snapshot}" if params.snapshot else ""))
    return snap


def _db_instance(client: Any, name: str) -> dict[str, Any] | None:
    try:
        return client.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    except Exception as exc:
        if is_missing(exc, "DBInstanceNotFound", "DBInstanceNotFoundFault"):
            return None
        raise


@action("rds.restore-snapshot", summary="Restore the newest (or named) snapshot of an RDS instance as a new "
        "instance (undo: delete it)", params=RdsRestoreParams, undo="rds.delete-restored-instance",
        iam=["rds:DescribeDBSnapshots", "rds:DescribeDBInstances", "rds:RestoreDBInstanceFromDBSnapshot",
             "rds:AddTagsToResource"])
def rds_restore_snapshot(ctx: StepContext, params: RdsRestoreParams, targets: list[Resource]) -> Outcome:
    region = step_region(ctx, params)
    client = ctx.client("rds", region)
    snap = _rds_snapshot(client, params)
    if _db_instance(client, params.target) is not None:
        raise DrToolError(f"RDS instance {params.target} already exists in {region}; pick another target")
    sid = snap["DBSnapshotIdentifier"]
    kwargs: dict[str, Any] = {"DBInstanceIdentifier": params.target, "DBSnapshotIdentifier": sid,
                              "Tags": run_tags(ctx, **{RESTORED_FROM_TAG: sid})}
    if params.instance_class:
        kwargs["DBInstanceClass"] = params.instance_class
    if params.db_subnet_group:
        kwargs["DBSubnetGroupName"] = params.db_subnet_group
    ctx.change(f"restore RDS snapshot {sid} as instance {params.target} in {region}",
               lambda: client.restore_db_instance_from_db_snapshot(**kwargs),
               undo=UndoSpec("rds.delete-restored-instance",
                             {"db_instance": params.target, "run_id": ctx.run_id, "region": region}, region),
               resources=[params.target])
    at = to_epoch(snap.get("OriginalSnapshotCreateTime") or snap.get("SnapshotCreateTime"))
    return Outcome(f"Restoring snapshot {sid} of {params.db_instance} (taken {rfc3339(at)}) as {params.target}.",
                   {"db_instance": params.target, "recovery_point": sid, "recovery_point_at": at, "region": region})


class DeleteInstanceParams(Params):
    db_instance: str
    run_id: str | None = Field(default=None, description="only delete it if it carries this drtool:run-id tag")


def delete_db_instance(ctx: StepContext, client: Any, name: str) -> str:
    """Delete without a final snapshot, waiting while it is busy (e.g. still creating)."""
    def delete() -> bool:
        try:
            client.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True, DeleteAutomatedBackups=True)
        except Exception as exc:
            if is_missing(exc, "DBInstanceNotFound", "DBInstanceNotFoundFault"):
                return False
            raise
        return True

    if retry_busy(ctx, delete, ("InvalidDBInstanceState", "InvalidDBInstanceStateFault"), f"delete {name}"):
        return f"Deleted RDS instance {name} (no final snapshot)"
    return f"RDS instance {name} is already gone"


@undo("rds.delete-restored-instance", summary="Delete an RDS instance a drill restored (only if it carries the "
      "run's drtool:run-id tag; no final snapshot)",
      params=DeleteInstanceParams, iam=["rds:DescribeDBInstances", "rds:DeleteDBInstance"])
def rds_delete_restored_instance(ctx: StepContext, params: DeleteInstanceParams) -> str:
    client = ctx.client("rds", params.region)
    db = _db_instance(client, params.db_instance)
    if db is None:
        return f"RDS instance {params.db_instance} is already gone."
    tag = tag_dict(db.get("TagList")).get(RUN_TAG)
    if params.run_id and tag != params.run_id:  # RestoreDBInstanceFromDBSnapshot tagged it at creation
        owner = f"carries {RUN_TAG}={tag}" if tag else f"carries no {RUN_TAG} tag"
        raise ChangedSince(f"RDS instance {params.db_instance} {owner}, so run {params.run_id} did not restore it")
    if db.get("DBInstanceStatus") == "deleting":
        return f"RDS instance {params.db_instance} is already being deleted."
    return delete_db_instance(ctx, client, params.db_instance) + "."
