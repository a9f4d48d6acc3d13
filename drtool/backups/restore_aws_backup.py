"""`backup.start-restore`, its undo and `backup.restore-job-completed` (AWS Backup; see drtool.backups.restore).

The undo deletes only what this run's restore job created. The action journals the job id
(a second journaled change right after StartRestoreJob answers), and the undo then deletes
that job's CreatedResourceArn alone. Should the run die between the call and that record,
the first undo searches restore jobs of the recovery point and role created between its
intent and now, and deletes only what carries the run's `drtool:run-id` tag; anything else
it finds is left as found for a person to judge.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import Field, model_validator

from drtool.backups import restore_created
from drtool.backups.inventory import paginate
from drtool.backups.restore_common import (
    BUSY_WAIT_S,
    POLL_S,
    RESTORED_FROM_TAG,
    is_missing,
    newest,
    step_region,
)
from drtool.backups.restore_created import Created
from drtool.context import RUN_TAG, StepContext
from drtool.errors import ChangedSince, DrToolError
from drtool.registry import Params, action, probe, undo
from drtool.resources import Outcome, ProbeResult, Resource, UndoSpec
from drtool.timing import PollTimeout, rfc3339, to_epoch, wait_until

RESTORE_JOBS: dict[str, list[tuple[str, str]]] = {}  # run id -> [(region, restore job id)] started here
FINAL = ("COMPLETED", "FAILED", "ABORTED")
CLOCK_SKEW_S = 60.0  # our clock vs AWS Backup's CreationDate, for the crash-window search
# The restore metadata key naming the new resource, per AWS Backup resource type (AWS Backup
# Developer Guide, "Restoring ... with the AWS CLI" for DynamoDB, RDS and Aurora).
NAME_KEYS = {"DynamoDB": "targetTableName", "RDS": "DBInstanceIdentifier", "Aurora": "DBClusterIdentifier"}
UNDO = "backup.delete-restored-resource"


class StartRestoreParams(Params):
    recovery_point_arn: str | None = None
    resource_arn: str | None = Field(default=None, description="restore its newest recovery point")
    vault: str | None = Field(default=None, description="vault of recovery_point_arn (when no resource_arn)")
    iam_role_arn: str
    metadata: dict[str, str] = Field(default_factory=dict, description="overrides of the recovery point's restore "
                                     "metadata (GetRecoveryPointRestoreMetadata), e.g. {targetTableName: t} or "
                                     "{DBInstanceIdentifier: db}; the new resource's name is required")
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


def restore_metadata(client: Any, point: dict[str, Any], params: StartRestoreParams) -> dict[str, str]:
    """The recovery point's own restore metadata with the step's overrides on top.

    StartRestoreJob's Metadata starts from GetRecoveryPointRestoreMetadata ("configuration
    metadata about a resource at the time it was backed up"); values such as a new name must
    be added (AWS Backup API Reference, StartRestoreJob). The name is required here so a drill
    never restores over, or under the name of, the resource it backed up.
    """
    vault = point.get("BackupVaultName") or params.vault
    out = client.get_recovery_point_restore_metadata(BackupVaultName=vault,
                                                     RecoveryPointArn=point["RecoveryPointArn"])
    name_key = NAME_KEYS.get(out.get("ResourceType") or params.resource_type or "")
    if name_key and not params.metadata.get(name_key):
        raise DrToolError(f"restore of {point['RecoveryPointArn']} needs a new name: give metadata.{name_key}",
                          "the restored copy must not take the name of the resource it was backed up from")
    return {**(out.get("RestoreMetadata") or {}), **params.metadata}


@action("backup.start-restore", summary="Start an AWS Backup restore job of a recovery point "
        "(undo: delete what that job restored)", params=StartRestoreParams, undo=UNDO,
        iam=["backup:ListRecoveryPointsByResource", "backup:DescribeRecoveryPoint",
             "backup:GetRecoveryPointRestoreMetadata", "backup:StartRestoreJob", "backup:DescribeRestoreJob",
             "iam:PassRole", "ec2:CreateTags", "dynamodb:TagResource", "rds:AddTagsToResource"])
def backup_start_restore(ctx: StepContext, params: StartRestoreParams, targets: list[Resource]) -> Outcome:
    region = step_region(ctx, params)
    client = ctx.client("backup", region)
    point = _recovery_point(client, params)
    arn = point["RecoveryPointArn"]
    token = hashlib.sha256(f"{ctx.run_id}/{ctx.step}/{arn}".encode()).hexdigest()[:32]
    kwargs: dict[str, Any] = {"RecoveryPointArn": arn, "Metadata": restore_metadata(client, point, params),
                              "IamRoleArn": params.iam_role_arn, "IdempotencyToken": token}
    if params.resource_type:
        kwargs["ResourceType"] = params.resource_type
    base = {"recovery_point_arn": arn, "started_after": ctx.clock.now(), "iam_role_arn": params.iam_role_arn,
            "run_id": ctx.run_id, "region": region}
    out = ctx.change(f"start an AWS Backup restore job of {arn} in {region}", lambda: client.start_restore_job(**kwargs),
                     undo=UndoSpec(UNDO, base, region), resources=[arn])
    job_id = out["RestoreJobId"]
    RESTORE_JOBS.setdefault(ctx.run_id, []).append((region, job_id))
    # A second journaled record carries the job id, so rollback deletes what this job made and
    # nothing else (no AWS call: the journal line is the point).
    ctx.change(f"record restore job {job_id} of {arn} for rollback", lambda: job_id,
               undo=UndoSpec(UNDO, {**base, "restore_job_id": job_id}, region), resources=[job_id])
    tagged = _tag_if_done(ctx, client, job_id, arn)
    at = to_epoch(point.get("CreationDate"))
    return Outcome(f"Started restore job {job_id} of recovery point {arn} (taken {rfc3339(at)}){tagged}.",
                   {"restore_job_id": job_id, "recovery_point": arn, "recovery_point_at": at, "region": region})


def _tag_if_done(ctx: StepContext, client: Any, job_id: str, point_arn: str) -> str:
    """Tag what the job made if it has already finished (StartRestoreJob takes no tags). Most
    restores take minutes, and the undo does not depend on this: it goes by the job id."""
    job = client.describe_restore_job(RestoreJobId=job_id)
    created = job.get("CreatedResourceArn")
    if job.get("Status") != "COMPLETED" or not created:
        return ""
    made = restore_created.look(ctx, created)
    ctx.change(f"tag {made.label} (restored by job {job_id}) with the run id",
               lambda: restore_created.tag(ctx, made, **{RESTORED_FROM_TAG: point_arn}), resources=[created])
    return f"; it already completed: {made.label}, tagged with the run id"


class DeleteRestoredParams(Params):
    recovery_point_arn: str
    started_after: float = Field(description="epoch seconds just before the restore job was started")
    iam_role_arn: str | None = None
    run_id: str | None = Field(default=None, description="the run (absent in journals written before the check)")
    restore_job_id: str | None = Field(default=None, description="the job the run started (absent: search for it)")


def _finished(ctx: StepContext, client: Any, job: dict[str, Any]) -> dict[str, Any]:
    """The job once it is COMPLETED, FAILED or ABORTED (waits for a running one)."""
    if job.get("Status") in FINAL:
        return job

    def done() -> tuple[bool, dict[str, Any]]:
        current = client.describe_restore_job(RestoreJobId=job["RestoreJobId"])
        return current.get("Status") in FINAL, current

    try:
        return cast(dict[str, Any], wait_until(done, clock=ctx.clock, interval=POLL_S, timeout=BUSY_WAIT_S)[1])
    except PollTimeout:
        raise DrToolError(f"restore job {job['RestoreJobId']} still running; run rollback again later") from None


def _foreign(job: dict[str, Any], params: DeleteRestoredParams) -> str | None:
    """Why a restore job is not this run's, or None. Jobs a restore testing plan starts say so
    in CreatedBy.RestoreTestingPlanArn (AWS Backup API Reference, RestoreJobCreator)."""
    plan = (job.get("CreatedBy") or {}).get("RestoreTestingPlanArn")
    if plan:
        return f"was started by restore testing plan {plan}"
    if job.get("RecoveryPointArn") != params.recovery_point_arn:
        return f"restores {job.get('RecoveryPointArn')}, not {params.recovery_point_arn}"
    if params.iam_role_arn and job.get("IamRoleArn") not in (None, "", params.iam_role_arn):
        return f"runs as {job.get('IamRoleArn')}, not {params.iam_role_arn}"
    return None


def _delete_if_ours(ctx: StepContext, made: Created, job_id: str, run_id: str | None, need_tag: bool) -> str:
    if not made.exists:
        return f"{made.label} (restored by job {job_id}) is already gone"
    owner = made.tags.get(RUN_TAG)
    if run_id and owner and owner != run_id:
        raise ChangedSince(f"{made.label} (restored by job {job_id}) carries {RUN_TAG}={owner}, not {run_id}")
    if need_tag and owner != run_id:
        raise ChangedSince(f"{made.label} (restored by job {job_id}, found by time window after a crash) carries "
                           f"no {RUN_TAG} tag of run {run_id}; delete it by hand if this run made it")
    return restore_created.delete(ctx, made)


def _undo_job(ctx: StepContext, client: Any, params: DeleteRestoredParams) -> str:
    job_id = params.restore_job_id or ""
    try:
        job = client.describe_restore_job(RestoreJobId=job_id)
    except Exception as exc:
        if is_missing(exc, "ResourceNotFoundException"):
            return f"Restore job {job_id} is unknown to AWS Backup; nothing to delete."
        raise
    why = _foreign(job, params)
    if why:
        raise ChangedSince(f"restore job {job_id} {why}")
    job = _finished(ctx, client, job)
    created = job.get("CreatedResourceArn")
    if job.get("Status") != "COMPLETED" or not created:
        return f"Restore job {job_id} {job.get('Status')} and created nothing."
    # The job id came from StartRestoreJob's answer to this run: what it created is ours even
    # while untagged (restores finish after the action returns); a tag naming another run is not.
    return _delete_if_ours(ctx, restore_created.look(ctx, created), job_id, params.run_id, need_tag=False) + "."


def _search(ctx: StepContext, client: Any, params: DeleteRestoredParams) -> list[dict[str, Any]]:
    """Restore jobs of the recovery point (and role) created since the intent: between the
    intent and now for a current journal; the old, open-ended window for an old one."""
    slack = CLOCK_SKEW_S if params.run_id else 300.0
    window: dict[str, Any] = {"ByCreatedAfter": datetime.fromtimestamp(params.started_after - slack, tz=UTC)}
    if params.run_id:
        window["ByCreatedBefore"] = datetime.fromtimestamp(ctx.clock.now() + CLOCK_SKEW_S, tz=UTC)
    jobs = paginate(client.list_restore_jobs, "backup:ListRestoreJobs", "RestoreJobs", "NextToken", **window)
    return [j for j in jobs if _foreign(j, params) is None]


@undo(UNDO, summary="Delete what a run's AWS Backup restore job created (by its journaled job id; after a crash "
      "only what carries the run tag)", params=DeleteRestoredParams,
      iam=["backup:ListRestoreJobs", "backup:DescribeRestoreJob", "ec2:DescribeVolumes", "ec2:DeleteVolume",
           "dynamodb:DescribeTable", "dynamodb:ListTagsOfResource", "dynamodb:DeleteTable",
           "rds:DescribeDBInstances", "rds:DeleteDBInstance"])
def backup_delete_restored(ctx: StepContext, params: DeleteRestoredParams) -> str:
    client = ctx.client("backup", params.region)
    if params.restore_job_id:
        return _undo_job(ctx, client, params)
    jobs = _search(ctx, client, params)
    if not jobs:
        return f"No restore job of {params.recovery_point_arn} was found; nothing to delete."
    done: list[str] = []
    left: list[str] = []
    for job in jobs:
        job = _finished(ctx, client, job)
        created = job.get("CreatedResourceArn")
        if job.get("Status") != "COMPLETED" or not created:
            done.append(f"restore job {job['RestoreJobId']} {job.get('Status')} and created nothing")
            continue
        made = restore_created.look(ctx, created)
        owner = made.tags.get(RUN_TAG)
        if params.run_id and made.exists and owner and owner != params.run_id:
            done.append(f"{made.label} is run {owner}'s; left alone")
            continue
        try:
            done.append(_delete_if_ours(ctx, made, job["RestoreJobId"], params.run_id, need_tag=bool(params.run_id)))
        except ChangedSince as exc:
            left.append(exc.found)
    if left:
        raise ChangedSince("; ".join(left) + (f" ({'; '.join(done)})" if done else ""))
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
