"""A fake AWS Backup service behind boto3's own `backup` client.

moto 5.2.1 keeps vaults and plans but answers 404 "Not yet implemented" for backup,
copy and restore jobs and for recovery points. This fake serves those operations in
memory, with job durations on an injectable clock, while everything else (vaults, EC2,
RDS, DynamoDB) stays moto's, or whatever endpoint the clients talk to.

Use::

    from drtool.fakes.aws_backup import install
    fake = install(aws_session, clock=FakeClock(), durations={"backup": 60, "restore": 300})

`install(target, clock=None, durations=None, account_id=None) -> FakeBackup`; target is:

- a drtool `AwsSession`, or anything with `client(service, region)`: its `client` method
  is wrapped on that instance, so every `backup` client it hands out is faked; the fake
  makes its own EC2/RDS/DynamoDB calls through the original `client`;
- a `boto3.Session` or `botocore.session.Session`: handlers go on its event system, so
  clients created *afterwards* are faked; native calls use that session's clients;
- a boto3 `backup` client (also a drtool RetryingClient): that client is faked; native
  calls use fresh boto3 clients (they honour AWS_ENDPOINT_URL);
- a callable `(service, region) -> client`: use `fake.client(service, region)`, which
  fakes the `backup` clients it returns.

`fake.attach(client)` fakes one more client (idempotent); `fake.register(emitter)` fakes a
session-level event emitter. To wire it yourself, build the service directly:
`FakeBackup(clock, durations, account_id, client_factory=lambda service, region: ...)`,
where the factory makes the native EC2/RDS/DynamoDB (and `backup`, for vault checks)
clients the fake uses.

How: a `before-parameter-build.backup.<Op>` handler keeps the caller's parameters in the
request context, and a `before-call.backup.<Op>` handler (registered last, so drtool's
call counter still runs first) returns `(http, parsed)`, which botocore 1.43 uses instead
of sending the request (`BaseClient._make_api_call`). Parameter validation still runs,
and errors come back as the service's own exception classes (e.g.
`client.exceptions.ResourceNotFoundException`).

Operations: StartBackupJob, DescribeBackupJob, ListBackupJobs,
ListRecoveryPointsByResource, ListRecoveryPointsByBackupVault, DescribeRecoveryPoint,
StartCopyJob, DescribeCopyJob, ListCopyJobs, StartRestoreJob, DescribeRestoreJob,
ListRestoreJobs, DeleteRecoveryPoint, GetRecoveryPointRestoreMetadata (a few keys naming the
source resource, as AWS returns its configuration at backup time).

Timing: a job takes `durations[kind]` seconds (kinds `backup`, `copy`, `restore`; a
per-type key such as `restore:DynamoDB` wins), then completes. Jobs advance whenever a
faked operation is called, on `fake.settle()`, and with a `FakeClock` whenever the
clock advances (an `on_sleep` hook), so a poll loop sees the job finish on time.

Effects (so probes see real resources): a backup job takes the native backup at its
start (`ec2.create_snapshot`, `rds.create_db_snapshot` / `create_db_cluster_snapshot`,
`dynamodb.create_backup`) and publishes the recovery point (CreationDate = job start) at
completion; its ARN is the native one, as in AWS (EBS and RDS snapshot ARNs, the
DynamoDB backup ARN). A copy job copies natively (`ec2.copy_snapshot`,
`rds.copy_db_snapshot`) into the destination vault's region; the copy keeps the source
ResourceArn. A restore job creates the resource at completion (`create_volume` with
metadata `availabilityZone`; `restore_db_instance_from_db_snapshot` with
`DBInstanceIdentifier` [+ `DBInstanceClass`]; `restore_table_from_backup` with
`targetTableName`) and reports it as `CreatedResourceArn`. A native failure makes the
job FAILED with its message.

Limits: vaults must exist in the backing service (`create_backup_vault`; checked with
`describe_backup_vault`); no lifecycle or expiry; no restore testing; recovery points of
other resource types (EFS...) and DynamoDB copies in another region have no native data
and cannot be restored (the restore job FAILS). `fake.add_recovery_point(...)` seeds a
completed recovery point without a job (benchmarks, sandbox scenes).
"""

from __future__ import annotations

import re
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from drtool.aws.arns import arn_region, arn_resource
from drtool.timing import Clock, FakeClock, SystemClock, to_datetime, to_epoch

OPERATIONS = ("StartBackupJob", "DescribeBackupJob", "ListBackupJobs", "ListRecoveryPointsByResource",
              "ListRecoveryPointsByBackupVault", "DescribeRecoveryPoint", "StartCopyJob", "DescribeCopyJob",
              "ListCopyJobs", "StartRestoreJob", "DescribeRestoreJob", "ListRestoreJobs", "DeleteRecoveryPoint",
              "GetRecoveryPointRestoreMetadata")
DEFAULT_DURATIONS = {"backup": 60.0, "copy": 120.0, "restore": 300.0}
DEFAULT_ACCOUNT = "123456789012"
_PARAMS = "drtool.fake_backup.params"
_FINAL = ("COMPLETED", "FAILED", "ABORTED")


class BackupError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class _Http:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""
        self.raw = None


def resource_type(arn: str) -> str:
    """AWS Backup's ResourceType of a resource ARN."""
    rest = arn_resource(arn) or ""
    service = arn.split(":")[2] if arn.count(":") >= 2 else ""
    if service == "ec2":
        return "EBS" if rest.startswith("volume/") else "EC2"
    if service == "rds":
        return "Aurora" if rest.startswith("cluster:") else "RDS"
    return {"dynamodb": "DynamoDB", "elasticfilesystem": "EFS", "s3": "S3", "fsx": "FSx"}.get(service, service.upper())


@dataclass
class RecoveryPoint:
    arn: str
    vault: str
    vault_arn: str
    region: str
    account: str
    resource_arn: str
    resource_type: str
    created_at: float
    completed_at: float | None
    status: str = "COMPLETED"
    native: dict[str, str] = field(default_factory=dict)
    source_vault_arn: str | None = None
    iam_role_arn: str | None = None

    def summary(self) -> dict[str, Any]:
        item = {"RecoveryPointArn": self.arn, "BackupVaultName": self.vault, "BackupVaultArn": self.vault_arn,
                "ResourceArn": self.resource_arn, "ResourceType": self.resource_type,
                "Status": self.status, "CreationDate": to_datetime(self.created_at), "BackupSizeInBytes": 0,
                "IsEncrypted": False, "IsParent": False,
                "ResourceName": re.split(r"[/:]", arn_resource(self.resource_arn) or "")[-1]}
        if self.completed_at is not None:
            item["CompletionDate"] = to_datetime(self.completed_at)
        if self.source_vault_arn:
            item["SourceBackupVaultArn"] = self.source_vault_arn
        if self.iam_role_arn:
            item["IamRoleArn"] = self.iam_role_arn
        return item


@dataclass
class Job:
    kind: str  # backup | copy | restore
    id: str
    region: str
    account: str
    created_at: float
    done_at: float
    state: str
    params: dict[str, Any]
    resource_arn: str = ""
    resource_type: str = ""
    recovery_point_arn: str = ""
    vault: str = ""
    vault_arn: str = ""
    dest_vault_arn: str = ""
    dest_recovery_point_arn: str = ""
    created_resource_arn: str = ""
    message: str = ""
    completed_at: float | None = None
    native: dict[str, str] = field(default_factory=dict)


class FakeBackup:
    """The service: shared state for every region and every attached client."""

    def __init__(self, clock: Clock | None = None, durations: dict[str, float] | None = None,
                 account_id: str | None = None,
                 client_factory: Callable[[str, str], Any] | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.durations = {**DEFAULT_DURATIONS, **(durations or {})}
        self.account_id = account_id or DEFAULT_ACCOUNT
        self.client_factory = client_factory or _boto3_factory()
        self.recovery_points: dict[str, RecoveryPoint] = {}
        self.jobs: dict[str, Job] = {}
        self._tokens: dict[tuple[str, str], str] = {}
        self._vaults: dict[tuple[str, str], str] = {}
        self._lock = threading.RLock()
        self._attached: weakref.WeakSet[Any] = weakref.WeakSet()
        if isinstance(self.clock, FakeClock):
            self.clock.on_sleep.append(lambda _t: self.settle())

    # --- wiring ----------------------------------------------------------------------

    def attach(self, client: Any) -> Any:
        """Fake the AWS Backup operations of one boto3 `backup` client (idempotent)."""
        emitter = client.meta.events
        if emitter not in self._attached:
            self.register(emitter)
        return client

    def register(self, emitter: Any) -> None:
        """Register the handlers on a botocore event emitter (session- or client-level)."""
        self._attached.add(emitter)
        for op in OPERATIONS:
            emitter.register(f"before-parameter-build.backup.{op}", _stash)
            emitter.register_last(f"before-call.backup.{op}", self._handle)

    def client(self, service: str, region: str) -> Any:
        """A native client from the factory; `backup` clients come back faked."""
        made = self.client_factory(service, region)
        return self.attach(made) if service == "backup" else made

    def _handle(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[_Http, dict[str, Any]]:
        params = dict(context.get(_PARAMS) or {})
        region = context.get("client_region") or "us-east-1"
        method = getattr(self, "_op_" + model.name)
        try:
            with self._lock:
                self.settle()
                body = method(region, params)
        except BackupError as exc:
            return _Http(exc.status), {"Error": {"Code": exc.code, "Message": exc.message},
                                       "ResponseMetadata": {"HTTPStatusCode": exc.status}, "Message": exc.message}
        body.setdefault("ResponseMetadata", {"HTTPStatusCode": 200, "RequestId": str(uuid.uuid4()),
                                             "HTTPHeaders": {}, "RetryAttempts": 0})
        return _Http(200), body

    # --- time ------------------------------------------------------------------------

    def duration(self, kind: str, rtype: str) -> float:
        return float(self.durations.get(f"{kind}:{rtype}", self.durations.get(kind, 0.0)))

    def settle(self) -> None:
        """Finish every job whose time has come (in start order)."""
        with self._lock:
            now = self.clock.now()
            for job in sorted(self.jobs.values(), key=lambda j: (j.done_at, j.created_at)):
                if job.state not in _FINAL and job.done_at <= now:
                    getattr(self, f"_finish_{job.kind}")(job)
                    job.completed_at = job.done_at

    # --- helpers ---------------------------------------------------------------------

    def _new_job(self, kind: str, region: str, params: dict[str, Any], rtype: str) -> Job:
        token = params.get("IdempotencyToken")
        if token and (kind, token) in self._tokens:
            return self.jobs[self._tokens[(kind, token)]]
        now = self.clock.now()
        job = Job(kind, str(uuid.uuid4()).upper(), region,
                  self.account_id, now, now + self.duration(kind, rtype), "RUNNING", params, resource_type=rtype)
        self.jobs[job.id] = job
        if token:
            self._tokens[(kind, token)] = job.id
        return job

    def _vault_arn(self, region: str, name: str) -> str:
        if (region, name) not in self._vaults:
            try:
                out = self.client("backup", region).describe_backup_vault(BackupVaultName=name)
            except Exception as exc:  # noqa: BLE001 - any failure means the vault is not there
                raise BackupError("ResourceNotFoundException", f"Backup vault {name} does not exist in {region}",
                                  404) from exc
            self._vaults[(region, name)] = out["BackupVaultArn"]
        return self._vaults[(region, name)]

    def _point(self, arn: str, vault: str | None = None) -> RecoveryPoint:
        point = self.recovery_points.get(arn)
        if point is None or (vault is not None and point.vault != vault):
            raise BackupError("ResourceNotFoundException", f"Recovery point {arn} not found", 404)
        return point

    def _job(self, kind: str, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None or job.kind != kind:
            raise BackupError("ResourceNotFoundException", f"{kind.title()} job {job_id} not found", 404)
        return job

    def _percent(self, job: Job) -> str:
        if job.state in _FINAL:
            return "100.0"
        span = max(job.done_at - job.created_at, 1e-9)
        return f"{min(99.9, 100.0 * (self.clock.now() - job.created_at) / span):.1f}"

    def _safe(self, job: Job, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except Exception as exc:  # noqa: BLE001 - a native failure fails the job, as in AWS
            job.state, job.message = "FAILED", f"{type(exc).__name__}: {exc}"
            return None

    @staticmethod
    def _page(items: list[dict[str, Any]], params: dict[str, Any], key: str) -> dict[str, Any]:
        start = int(params.get("NextToken") or 0)
        size = int(params.get("MaxResults") or 1000)
        out: dict[str, Any] = {key: items[start:start + size]}
        if start + size < len(items):
            out["NextToken"] = str(start + size)
        return out

    @staticmethod
    def _created_filter(items: Iterable[Any], params: dict[str, Any], attr: str = "created_at") -> list[Any]:
        after, before = to_epoch(params.get("ByCreatedAfter")), to_epoch(params.get("ByCreatedBefore"))
        return [i for i in items if (after is None or getattr(i, attr) >= after)
                and (before is None or getattr(i, attr) <= before)]

    # --- seeding ---------------------------------------------------------------------

    def add_recovery_point(self, resource_arn: str, created_at: float, *, vault: str = "Default",
                           region: str | None = None, status: str = "COMPLETED",
                           source_vault_arn: str | None = None) -> RecoveryPoint:
        """A recovery point without a job or native data (for benchmarks and scenes)."""
        region = region or arn_region(resource_arn) or "us-east-1"
        with self._lock:
            arn = f"arn:aws:backup:{region}:{self.account_id}:recovery-point:{uuid.uuid4()}"
            point = RecoveryPoint(arn, vault, f"arn:aws:backup:{region}:{self.account_id}:backup-vault:{vault}",
                                  region, self.account_id, resource_arn, resource_type(resource_arn), created_at,
                                  created_at, status, source_vault_arn=source_vault_arn)
            self.recovery_points[arn] = point
            return point

    # --- backup jobs -----------------------------------------------------------------

    def _op_StartBackupJob(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        vault_arn = self._vault_arn(region, p["BackupVaultName"])
        arn = p["ResourceArn"]
        if arn_region(arn) not in (region, ""):
            raise BackupError("InvalidParameterValueException", f"{arn} is not in {region}")
        rtype = resource_type(arn)
        known = (p.get("IdempotencyToken") and ("backup", p["IdempotencyToken"]) in self._tokens)
        job = self._new_job("backup", region, p, rtype)
        if not known:
            job.resource_arn, job.vault, job.vault_arn = arn, p["BackupVaultName"], vault_arn
            job.native = self._safe(job, lambda: self._native_backup(region, arn, job.id)) or {}
            job.recovery_point_arn = job.native.get("arn") or \
                f"arn:aws:backup:{region}:{self.account_id}:recovery-point:{uuid.uuid4()}"
        return {"BackupJobId": job.id, "RecoveryPointArn": job.recovery_point_arn,
                "CreationDate": to_datetime(job.created_at), "IsParent": False}

    def _native_backup(self, region: str, arn: str, job_id: str) -> dict[str, str]:
        rest = arn_resource(arn) or ""
        name = f"awsbackup-job-{job_id.replace('-', '').lower()[:20]}"
        rtype = resource_type(arn)
        if rtype == "EBS":
            snap = self.client("ec2", region).create_snapshot(
                VolumeId=rest.split("/", 1)[1], Description="This snapshot is created by the AWS Backup service.")
            sid = snap["SnapshotId"]
            return {"service": "ec2", "id": sid, "arn": f"arn:aws:ec2:{region}::snapshot/{sid}"}
        if rtype == "RDS":
            out = self.client("rds", region).create_db_snapshot(
                DBInstanceIdentifier=rest.split(":", 1)[1], DBSnapshotIdentifier=name)["DBSnapshot"]
            return {"service": "rds", "id": name, "arn": out["DBSnapshotArn"]}
        if rtype == "Aurora":
            out = self.client("rds", region).create_db_cluster_snapshot(
                DBClusterIdentifier=rest.split(":", 1)[1], DBClusterSnapshotIdentifier=name)["DBClusterSnapshot"]
            return {"service": "rds-cluster", "id": name, "arn": out["DBClusterSnapshotArn"]}
        if rtype == "DynamoDB":
            out = self.client("dynamodb", region).create_backup(TableName=rest.split("/")[1], BackupName=name)
            return {"service": "dynamodb", "id": out["BackupDetails"]["BackupArn"],
                    "arn": out["BackupDetails"]["BackupArn"]}
        return {}

    def _finish_backup(self, job: Job) -> None:
        if job.state == "FAILED":
            return
        job.state = "COMPLETED"
        self.recovery_points[job.recovery_point_arn] = RecoveryPoint(
            job.recovery_point_arn, job.vault, job.vault_arn, job.region, job.account, job.resource_arn,
            job.resource_type, job.created_at, job.done_at, native=job.native,
            iam_role_arn=job.params.get("IamRoleArn"))

    def _backup_job_json(self, job: Job) -> dict[str, Any]:
        out = {"AccountId": job.account, "BackupJobId": job.id, "BackupVaultName": job.vault,
               "BackupVaultArn": job.vault_arn, "RecoveryPointArn": job.recovery_point_arn,
               "ResourceArn": job.resource_arn, "ResourceType": job.resource_type,
               "CreationDate": to_datetime(job.created_at), "State": job.state, "PercentDone": self._percent(job),
               "IamRoleArn": job.params.get("IamRoleArn", ""), "ExpectedCompletionDate": to_datetime(job.done_at)}
        if job.completed_at is not None:
            out["CompletionDate"] = to_datetime(job.completed_at)
        if job.message:
            out["StatusMessage"] = job.message
        return out

    def _op_DescribeBackupJob(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        return self._backup_job_json(self._job("backup", p["BackupJobId"]))

    def _op_ListBackupJobs(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        jobs = [j for j in self.jobs.values() if j.kind == "backup" and j.region == region
                and p.get("ByResourceArn") in (None, j.resource_arn) and p.get("ByState") in (None, j.state)
                and p.get("ByBackupVaultName") in (None, j.vault)
                and p.get("ByResourceType") in (None, j.resource_type)]
        items = [self._backup_job_json(j) for j in self._created_filter(jobs, p)]
        return self._page(items, p, "BackupJobs")

    # --- recovery points -------------------------------------------------------------

    def _op_ListRecoveryPointsByResource(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        points = sorted((rp for rp in self.recovery_points.values()
                         if rp.region == region and rp.resource_arn == p["ResourceArn"]),
                        key=lambda rp: rp.created_at, reverse=True)
        items = [{k: v for k, v in rp.summary().items() if k not in ("ResourceArn", "ResourceType")}
                 for rp in points]
        return self._page(items, p, "RecoveryPoints")

    def _op_ListRecoveryPointsByBackupVault(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        self._vault_arn(region, p["BackupVaultName"])
        points = [rp for rp in self.recovery_points.values() if rp.region == region
                  and rp.vault == p["BackupVaultName"] and p.get("ByResourceArn") in (None, rp.resource_arn)
                  and p.get("ByResourceType") in (None, rp.resource_type)]
        points = sorted(self._created_filter(points, p), key=lambda rp: rp.created_at, reverse=True)
        return self._page([rp.summary() for rp in points], p, "RecoveryPoints")

    def _op_DescribeRecoveryPoint(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        point = self._point(p["RecoveryPointArn"], p["BackupVaultName"])
        if point.region != region:
            raise BackupError("ResourceNotFoundException", f"Recovery point {point.arn} is not in {region}", 404)
        return point.summary()

    def _op_GetRecoveryPointRestoreMetadata(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        """A small subset of what AWS returns: the keys naming the backed-up resource (AWS Backup
        Developer Guide, restore metadata per service)."""
        point = self._point(p["RecoveryPointArn"], p["BackupVaultName"])
        name = re.split(r"[/:]", arn_resource(point.resource_arn) or "")[-1]
        if point.resource_type == "DynamoDB":
            name = (arn_resource(point.resource_arn) or "").split("/")[1]
        meta = {"DynamoDB": {"targetTableName": name}, "RDS": {"DBInstanceIdentifier": name},
                "Aurora": {"DBClusterIdentifier": name},
                "EBS": {"volumeId": name, "encrypted": "false"}}.get(point.resource_type, {})
        return {"BackupVaultArn": point.vault_arn, "RecoveryPointArn": point.arn, "RestoreMetadata": meta,
                "ResourceType": point.resource_type}

    def _op_DeleteRecoveryPoint(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        point = self._point(p["RecoveryPointArn"], p["BackupVaultName"])
        native = point.native
        client = None if not native else self.client("dynamodb" if native["service"] == "dynamodb" else
                                                     "rds" if native["service"].startswith("rds") else "ec2",
                                                     point.region)
        try:
            if native.get("service") == "ec2":
                client.delete_snapshot(SnapshotId=native["id"])
            elif native.get("service") == "rds":
                client.delete_db_snapshot(DBSnapshotIdentifier=native["id"])
            elif native.get("service") == "rds-cluster":
                client.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=native["id"])
            elif native.get("service") == "dynamodb":
                client.delete_backup(BackupArn=native["id"])
        except Exception:  # noqa: BLE001, S110 - native data already gone is fine
            pass
        del self.recovery_points[point.arn]
        return {}

    # --- copy jobs -------------------------------------------------------------------

    def _op_StartCopyJob(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        point = self._point(p["RecoveryPointArn"], p["SourceBackupVaultName"])
        if point.status != "COMPLETED":
            raise BackupError("InvalidRequestException", f"Recovery point {point.arn} is {point.status}")
        dest_arn = p["DestinationBackupVaultArn"]
        dest_region = arn_region(dest_arn) or region
        self._vault_arn(dest_region, dest_arn.rsplit(":", 1)[-1])
        known = (p.get("IdempotencyToken") and ("copy", p["IdempotencyToken"]) in self._tokens)
        job = self._new_job("copy", region, p, point.resource_type)
        if not known:
            job.resource_arn, job.recovery_point_arn = point.resource_arn, point.arn
            job.vault, job.vault_arn, job.dest_vault_arn = point.vault, point.vault_arn, dest_arn
            job.native = self._safe(job, lambda: self._native_copy(point, dest_region, job.id)) or {}
            job.dest_recovery_point_arn = job.native.get("arn") or \
                f"arn:aws:backup:{dest_region}:{self.account_id}:recovery-point:{uuid.uuid4()}"
        return {"CopyJobId": job.id, "CreationDate": to_datetime(job.created_at), "IsParent": False}

    def _native_copy(self, point: RecoveryPoint, dest: str, job_id: str) -> dict[str, str]:
        native = point.native
        if native.get("service") == "ec2":
            out = self.client("ec2", dest).copy_snapshot(
                SourceSnapshotId=native["id"], SourceRegion=point.region,
                Description=f"[Copied {native['id']} from {point.region}] This snapshot is created by the AWS Backup service.")
            return {"service": "ec2", "id": out["SnapshotId"], "arn": f"arn:aws:ec2:{dest}::snapshot/{out['SnapshotId']}"}
        if native.get("service") == "rds":
            name = f"awsbackup-copy-{job_id.replace('-', '').lower()[:20]}"
            out = self.client("rds", dest).copy_db_snapshot(
                SourceDBSnapshotIdentifier=native["arn"], TargetDBSnapshotIdentifier=name,
                SourceRegion=point.region)["DBSnapshot"]
            return {"service": "rds", "id": name, "arn": out["DBSnapshotArn"]}
        return {}

    def _finish_copy(self, job: Job) -> None:
        if job.state == "FAILED":
            return
        source = self.recovery_points.get(job.recovery_point_arn)
        dest_region = arn_region(job.dest_vault_arn) or job.region
        job.state = "COMPLETED"
        self.recovery_points[job.dest_recovery_point_arn] = RecoveryPoint(
            job.dest_recovery_point_arn, job.dest_vault_arn.rsplit(":", 1)[-1], job.dest_vault_arn, dest_region,
            job.account, job.resource_arn, job.resource_type, source.created_at if source else job.created_at,
            job.done_at, native=job.native, source_vault_arn=job.vault_arn,
            iam_role_arn=job.params.get("IamRoleArn"))

    def _copy_job_json(self, job: Job) -> dict[str, Any]:
        out = {"AccountId": job.account, "CopyJobId": job.id, "SourceBackupVaultArn": job.vault_arn,
               "SourceRecoveryPointArn": job.recovery_point_arn, "DestinationBackupVaultArn": job.dest_vault_arn,
               "DestinationRecoveryPointArn": job.dest_recovery_point_arn, "ResourceArn": job.resource_arn,
               "ResourceType": job.resource_type, "CreationDate": to_datetime(job.created_at), "State": job.state,
               "IamRoleArn": job.params.get("IamRoleArn", "")}
        if job.completed_at is not None:
            out["CompletionDate"] = to_datetime(job.completed_at)
        if job.message:
            out["StatusMessage"] = job.message
        return out

    def _op_DescribeCopyJob(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        return {"CopyJob": self._copy_job_json(self._job("copy", p["CopyJobId"]))}

    def _op_ListCopyJobs(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        jobs = [j for j in self.jobs.values() if j.kind == "copy" and j.region == region
                and p.get("ByResourceArn") in (None, j.resource_arn) and p.get("ByState") in (None, j.state)]
        return self._page([self._copy_job_json(j) for j in self._created_filter(jobs, p)], p, "CopyJobs")

    # --- restore jobs ----------------------------------------------------------------

    def _op_StartRestoreJob(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        point = self._point(p["RecoveryPointArn"])
        if point.region != region:
            raise BackupError("InvalidParameterValueException", f"Recovery point {point.arn} is not in {region}")
        if point.status != "COMPLETED":
            raise BackupError("InvalidRequestException", f"Recovery point {point.arn} is {point.status}")
        metadata = p.get("Metadata") or {}
        required = {"RDS": "DBInstanceIdentifier", "Aurora": "DBClusterIdentifier", "DynamoDB": "targetTableName"}
        need = required.get(point.resource_type)
        if need and not metadata.get(need):
            raise BackupError("InvalidParameterValueException", f"Metadata {need} is required to restore "
                                                                f"{point.resource_type}")
        job = self._new_job("restore", region, p, point.resource_type)
        job.recovery_point_arn, job.resource_arn, job.vault_arn = point.arn, point.resource_arn, point.vault_arn
        return {"RestoreJobId": job.id}

    def _finish_restore(self, job: Job) -> None:
        point = self.recovery_points.get(job.recovery_point_arn)
        if point is None:
            job.state, job.message = "FAILED", "the recovery point was deleted"
            return
        created = self._safe(job, lambda: self._native_restore(point, job.params.get("Metadata") or {}))
        if created:
            job.state, job.created_resource_arn = "COMPLETED", created
        elif job.state != "FAILED":
            job.state = "FAILED"
            job.message = f"the fake AWS Backup cannot restore {point.resource_type} from {point.arn}"

    def _native_restore(self, point: RecoveryPoint, meta: dict[str, str]) -> str | None:
        native, region = point.native, point.region
        if native.get("service") == "ec2":
            kwargs: dict[str, Any] = {"SnapshotId": native["id"],
                                      "AvailabilityZone": meta.get("availabilityZone") or f"{region}a"}
            if meta.get("volumeType"):
                kwargs["VolumeType"] = meta["volumeType"]
            vol = self.client("ec2", region).create_volume(**kwargs)["VolumeId"]
            return f"arn:aws:ec2:{region}:{point.account}:volume/{vol}"
        if native.get("service") == "rds":
            kwargs = {"DBInstanceIdentifier": meta["DBInstanceIdentifier"], "DBSnapshotIdentifier": native["id"]}
            if meta.get("DBInstanceClass"):
                kwargs["DBInstanceClass"] = meta["DBInstanceClass"]
            out = self.client("rds", region).restore_db_instance_from_db_snapshot(**kwargs)["DBInstance"]
            return out["DBInstanceArn"]
        if native.get("service") == "dynamodb":
            out = self.client("dynamodb", region).restore_table_from_backup(
                TargetTableName=meta["targetTableName"], BackupArn=native["id"])
            return out["TableDescription"]["TableArn"]
        return None

    def _restore_job_json(self, job: Job) -> dict[str, Any]:
        point = self.recovery_points.get(job.recovery_point_arn)
        out = {"AccountId": job.account, "RestoreJobId": job.id, "RecoveryPointArn": job.recovery_point_arn,
               "SourceResourceArn": job.resource_arn, "BackupVaultArn": job.vault_arn,
               "CreationDate": to_datetime(job.created_at), "Status": job.state, "PercentDone": self._percent(job),
               "IamRoleArn": job.params.get("IamRoleArn", ""), "ResourceType": job.resource_type,
               "ExpectedCompletionTimeMinutes": max(1, round((job.done_at - job.created_at) / 60))}
        if point is not None:
            out["RecoveryPointCreationDate"] = to_datetime(point.created_at)
        if job.completed_at is not None:
            out["CompletionDate"] = to_datetime(job.completed_at)
        if job.created_resource_arn:
            out["CreatedResourceArn"] = job.created_resource_arn
        if job.message:
            out["StatusMessage"] = job.message
        return out

    def _op_DescribeRestoreJob(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        return self._restore_job_json(self._job("restore", p["RestoreJobId"]))

    def _op_ListRestoreJobs(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        jobs = [j for j in self.jobs.values() if j.kind == "restore" and j.region == region
                and p.get("ByStatus") in (None, j.state) and p.get("ByResourceType") in (None, j.resource_type)]
        jobs = sorted(self._created_filter(jobs, p), key=lambda j: j.created_at, reverse=True)
        return self._page([self._restore_job_json(j) for j in jobs], p, "RestoreJobs")


def _stash(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_PARAMS] = dict(params)


def _cached(make: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
    cache: dict[tuple[str, str], Any] = {}

    def client(service: str, region: str) -> Any:
        if (service, region) not in cache:
            cache[(service, region)] = make(service, region)
        return cache[(service, region)]

    return client


def _boto3_factory() -> Callable[[str, str], Any]:
    def make(service: str, region: str) -> Any:
        import boto3

        return boto3.Session().client(service, region_name=region)

    return _cached(make)


def install(target: Any, clock: Clock | None = None, durations: dict[str, float] | None = None, *,
            account_id: str | None = None) -> FakeBackup:
    """Fake AWS Backup jobs and recovery points for `target` (see the module docstring)."""
    meta = getattr(target, "meta", None)
    if meta is not None and getattr(meta, "events", None) is not None:  # a boto3 client
        fake = FakeBackup(clock, durations, account_id)
        fake.attach(target)
        return fake
    events = _session_emitter(target)
    if events is not None:
        make = getattr(target, "create_client", None) or target.client
        fake = FakeBackup(clock, durations, account_id, client_factory=_cached(
            lambda service, region: make(service, region_name=region)))
        fake.register(events)
        return fake
    if callable(getattr(target, "client", None)):  # AwsSession and the like
        original = target.client
        fake = FakeBackup(clock, durations, account_id, client_factory=lambda s, r: original(s, r))

        def client(service: str, region: str | None = None) -> Any:
            made = original(service, region)
            return fake.attach(made) if service == "backup" else made

        target.client = client
        return fake
    if callable(target):
        return FakeBackup(clock, durations, account_id, client_factory=target)
    raise TypeError(f"cannot install the fake AWS Backup on {type(target).__name__}")


def _session_emitter(target: Any) -> Any:
    """The event emitter of a boto3 or botocore session, else None."""
    try:
        import boto3
        import botocore.session
    except ImportError:  # pragma: no cover
        return None
    if isinstance(target, boto3.Session):
        return target.events
    if isinstance(target, botocore.session.Session):
        return target.get_component("event_emitter")
    return None
