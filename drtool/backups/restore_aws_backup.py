"""`backup.start-restore`, its undo and `backup.restore-job-completed` (AWS Backup; see drtool.backups.restore)."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import Field, model_validator

from drtool.backups.inventory import paginate
from drtool.backups.model import DYNAMODB_TABLE, EBS_VOLUME, RDS_INSTANCE, resource_key
from drtool.backups.restore_common import (
    BUSY_WAIT_S,
    POLL_S,
    is_missing,
    newest,
    step_region,
)
from drtool.backups.restore_dynamodb import delete_table
from drtool.backups.restore_ebs import delete_volume
from drtool.backups.restore_rds import delete_db_instance
from drtool.context import StepContext
from drtool.errors import DrToolError
from drtool.registry import Params, action, probe, undo
from drtool.resources import Outcome, ProbeResult, Resource, UndoSpec
from drtool.timing import PollTimeout, rfc3339, to_epoch, wait_until

RESTORE_JOBS: dict[str, list[tuple[str, str]]] = {}  # run id -> [(region, restore job id)] started here


class StartRestoreParams(Params):
    recovery_point_arn: str | None = None
    resource_arn: str | None = Field(default=None, description="restore its newest recovery point")
    vault: str | None = Field(default=None, description="vault of recovery_point_arn (when no resource_arn)")
    iam_role_arn: str
    metadata: dict[str, str] = Field(default_factory=dict, description="AWS Backup restore metadata, e.g. "
                                     "{targetTableName: t} or {DBInstanceIdentifier: db}")
    resource_type: str | None = None

    @model_validator(mode="after")
    def _source(self) -> StartRestoreParams:
        if not self.resource_arn and not (self.recovery_point_arn and self.vault):
            raise ValueError("give resource_arn (newest recovery point), or recovery_point_arn with vault")
        return self


def _recovery_point(client: Any, params: StartRestoreParams) -> dict[str, Any]:
    if params.resource_arn:
        points = [p for p in paginate(client.list_recovery_points_by_resource, "backup:ListRecoveryPointsByResource",
                                      "RecoveryPoints", "NextToken", ResourceArn=params.resource_arn)
                  if p.get("Status") == "COMPLETED"
                  and params.recovery_point_arn in (None, p["RecoveryPointArn"])]
        point = newest(points, "CreationDate")
    else:
        point = client.describe_recovery_point(BackupVaultName=params.vault,
                                               RecoveryPointArn=params.recovery_point_arn)
        point = point if point.get("Status") == "COMPLETED" else None
    if point is None:
        raise DrToolError(f"no completed recovery point {params.recovery_point_arn or 'of ' + str(params.resource_arn)}")
    return point


@action("backup.start-restore", summary="Start an AWS Backup restore job of a recovery point "
        "(undo: delete what it restored)", params=StartRestoreParams, undo="backup.delete-restored-resource",
        iam=["backup:ListRecoveryPointsByResource", "backup:DescribeRecoveryPoint", "backup:StartRestoreJob",
             "iam:PassRole"])
def backup_start_restore(ctx: StepContext, params: StartRestoreParams, targets: list[Resource]) -> Outcome:
    region = step_region(ctx, params)
    client = ctx.client("backup", region)
    point = _recovery_point(client, params)
    arn = point["RecoveryPointArn"]
    token = hashlib.sha256(f"{ctx.run_id}/{ctx.step}/{arn}".encode()).hexdigest()[:32]
    kwargs: dict[str, Any] = {"RecoveryPointArn": arn, "Metadata": params.metadata,
                              "IamRoleArn": params.iam_role_arn, "IdempotencyToken": token}
    if params.resource_type:
        kwargs["ResourceType"] = params.resource_type
    started = ctx.clock.now()
    out = ctx.change(f"start an AWS Backup restore job of {arn} in {region}", lambda: client.start_restore_job(**kwargs),
                     undo=UndoSpec("backup.delete-restored-resource",
                                   {"recovery_point_arn": arn, "started_after": started,
                                    "iam_role_arn": params.iam_role_arn, "region": region}, region),
                     resources=[arn])
    job_id = out["RestoreJobId"]
    RESTORE_JOBS.setdefault(ctx.run_id, []).append((region, job_id))
    at = to_epoch(point.get("CreationDate"))
    return Outcome(f"Started restore job {job_id} of recovery point {arn} (taken {rfc3339(at)}).",
                   {"restore_job_id": job_id, "recovery_point": arn, "recovery_point_at": at, "region": region})


class DeleteRestoredParams(Params):
    recovery_point_arn: str
    started_after: float = Field(description="epoch seconds just before the restore job was started")
    iam_role_arn: str | None = None


def _delete_arn(ctx: StepContext, arn: str) -> str:
    key = resource_key(arn)
    if key is None:
        raise DrToolError(f"cannot delete {arn} automatically; delete it by hand")
    rtype, region, rid = key
    if rtype == EBS_VOLUME:
        client = ctx.client("ec2", region)
        try:
            vol = client.describe_volumes(VolumeIds=[rid])["Volumes"][0]
        except Exception as exc:
            if is_missing(exc, "InvalidVolume.NotFound"):
                return f"EBS volume {rid} is already gone"
            raise
        delete_volume(ctx, client, vol)
        return f"Deleted EBS volume {rid}"
    if rtype == DYNAMODB_TABLE:
        return delete_table(ctx, ctx.client("dynamodb", region), rid)
    if rtype == RDS_INSTANCE:
        return delete_db_instance(ctx, ctx.client("rds", region), rid)
    raise DrToolError(f"cannot delete {arn} automatically; delete it by hand")


@undo("backup.delete-restored-resource", summary="Delete what a run's AWS Backup restore jobs created",
      params=DeleteRestoredParams,
      iam=["backup:ListRestoreJobs", "backup:DescribeRestoreJob", "ec2:DescribeVolumes", "ec2:DeleteVolume",
           "dynamodb:DeleteTable", "rds:DeleteDBInstance"])
def backup_delete_restored(ctx: StepContext, params: DeleteRestoredParams) -> str:
    """Finds the run's jobs by recovery point, role and start time (a crash may hide the job
    id), waits for any still running, then deletes each CreatedResourceArn."""
    from datetime import UTC, datetime

    client = ctx.client("backup", params.region)
    after = datetime.fromtimestamp(params.started_after - 300, tz=UTC)
    jobs = [j for j in paginate(client.list_restore_jobs, "backup:ListRestoreJobs", "RestoreJobs", "NextToken",
                                ByCreatedAfter=after)
            if j.get("RecoveryPointArn") == params.recovery_point_arn
            and params.iam_role_arn in (None, j.get("IamRoleArn"))]
    if not jobs:
        return f"No restore job of {params.recovery_point_arn} was found; nothing to delete."
    done: list[str] = []
    for job in jobs:
        if job.get("Status") not in ("COMPLETED", "FAILED", "ABORTED"):
            def finished(job_id: str = job["RestoreJobId"]) -> tuple[bool, dict[str, Any]]:
                current = client.describe_restore_job(RestoreJobId=job_id)
                return current.get("Status") in ("COMPLETED", "FAILED", "ABORTED"), current
            try:
                job = wait_until(finished, clock=ctx.clock, interval=POLL_S, timeout=BUSY_WAIT_S)[1]
            except PollTimeout:
                raise DrToolError(f"restore job {job['RestoreJobId']} still running; run rollback again later") from None
        if job.get("Status") == "COMPLETED" and job.get("CreatedResourceArn"):
            done.append(_delete_arn(ctx, job["CreatedResourceArn"]))
        else:
            done.append(f"restore job {job['RestoreJobId']} {job.get('Status')} and created nothing")
    return "; ".join(done) + "."


class RestoreJobParams(Params):
    restore_job_id: str | None = None
    last: bool = Field(default=False, description="the restore job this run started last")

    @model_validator(mode="after")
    def _one(self) -> RestoreJobParams:
        if bool(self.restore_job_id) == self.last:
            raise ValueError("give restore_job_id, or last: true")
        return self


def _last_job(ctx: StepContext, client: Any, region: str) -> str | None:
    mine = [job for reg, job in RESTORE_JOBS.get(ctx.run_id, []) if reg == region]
    if mine:
        return mine[-1]
    jobs = list(paginate(client.list_restore_jobs, "backup:ListRestoreJobs", "RestoreJobs", "NextToken"))
    latest = newest(jobs, "CreationDate")
    return latest["RestoreJobId"] if latest else None


@probe("backup.restore-job-completed", summary="An AWS Backup restore job has COMPLETED",
       params=RestoreJobParams, iam=["backup:DescribeRestoreJob", "backup:ListRestoreJobs"])
def backup_restore_job_completed(ctx: StepContext, params: RestoreJobParams) -> ProbeResult:
    """describe_restore_job; `last` is the job this run started last (else the newest in the region)."""
    region = params.region or ctx.region
    client = ctx.client("backup", region)
    job_id = params.restore_job_id or _last_job(ctx, client, region)
    if job_id is None:
        return ProbeResult(False, f"No restore job found in {region}.")
    job = client.describe_restore_job(RestoreJobId=job_id)
    status = job.get("Status")
    data = {"restore_job_id": job_id, "status": status, "created_resource_arn": job.get("CreatedResourceArn"),
            "completed_at": to_epoch(job.get("CompletionDate"))}
    if status == "COMPLETED":
        return ProbeResult(True, f"Restore job {job_id} completed: {job.get('CreatedResourceArn')}.", data)
    tail = f": {job['StatusMessage']}" if job.get("StatusMessage") else ""
    return ProbeResult(False, f"Restore job {job_id} is {status}{tail}.", data)
