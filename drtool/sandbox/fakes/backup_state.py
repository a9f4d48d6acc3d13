"""The AWS Backup fake's state machine: jobs and recovery points on an injectable clock.

A job is RUNNING from its start until `durations[kind]` seconds later (a per-type key such
as `restore:DynamoDB` wins), then COMPLETED, or FAILED when its native effect failed.
Jobs advance whenever the service is called, on `settle()`, and with a `FakeClock`
whenever the clock advances (its `on_sleep` hook), so a poll loop sees them finish on time.
Job states follow https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupJob.html
(State), API_CopyJob.html (State) and API_RestoreJobsListMember.html (Status).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from drtool.aws.arns import arn_region, arn_resource
from drtool.timing import Clock, FakeClock, SystemClock, to_datetime, to_epoch

DEFAULT_DURATIONS = {"backup": 60.0, "copy": 120.0, "restore": 300.0}
DEFAULT_ACCOUNT = "123456789012"
FINAL = ("COMPLETED", "FAILED", "ABORTED")
ClientFactory = Callable[[str, str], Any]


class BackupError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def resource_type(arn: str) -> str:
    """AWS Backup's ResourceType of a resource ARN.

    https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ProtectedResource.html (ResourceType)."""
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


class BackupState:
    """Shared state for every region; subclasses add the operations and native effects."""

    def __init__(self, clock: Clock | None = None, durations: dict[str, float] | None = None,
                 account_id: str | None = None, client_factory: ClientFactory | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.durations = {**DEFAULT_DURATIONS, **(durations or {})}
        self.account_id = account_id or DEFAULT_ACCOUNT
        self.client = client_factory or boto3_factory()
        self.recovery_points: dict[str, RecoveryPoint] = {}
        self.jobs: dict[str, Job] = {}
        self._tokens: dict[tuple[str, str], str] = {}
        self._vaults: dict[tuple[str, str], str] = {}
        self._lock = threading.RLock()
        if isinstance(self.clock, FakeClock):
            self.clock.on_sleep.append(lambda _t: self.settle())

    def clear(self) -> None:
        """Forget every job, recovery point and vault (the sandbox was reprovisioned)."""
        with self._lock:
            for table in (self.recovery_points, self.jobs, self._tokens, self._vaults):
                table.clear()

    def _finish(self, job: Job) -> None:  # pragma: no cover - the subclass decides
        raise NotImplementedError

    def duration(self, kind: str, rtype: str) -> float:
        return float(self.durations.get(f"{kind}:{rtype}", self.durations.get(kind, 0.0)))

    def settle(self) -> None:
        """Finish every job whose time has come (in start order)."""
        with self._lock:
            now = self.clock.now()
            for job in sorted(self.jobs.values(), key=lambda j: (j.done_at, j.created_at)):
                if job.state not in FINAL and job.done_at <= now:
                    self._finish(job)
                    job.completed_at = job.done_at

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
        if job.state in FINAL:
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


def boto3_factory() -> ClientFactory:
    """Native clients from a default boto3 session (they honour AWS_ENDPOINT_URL), cached."""
    cache: dict[tuple[str, str], Any] = {}

    def client(service: str, region: str) -> Any:
        if (service, region) not in cache:
            import boto3

            cache[(service, region)] = boto3.Session().client(service, region_name=region)
        return cache[(service, region)]

    return client
