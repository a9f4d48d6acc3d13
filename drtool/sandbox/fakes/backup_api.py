"""The AWS Backup fake's operations: request parameters in, response members out.

moto (5.2.x) keeps vaults and plans but answers 404 "Not yet implemented" for backup, copy
and restore jobs and for recovery points; these operations fill that gap. The sandbox
server serves them over HTTP (`drtool.sandbox.fakes.rest_json`), so boto3, the AWS CLI
or any SDK pointed at the sandbox sees them. Each operation cites the API reference it
follows. Limits: vaults must exist in moto (`create_backup_vault`); no lifecycle or
expiry; no restore testing; recovery points of other resource types (EFS...) and DynamoDB
copies in another region have no native data, so their restore job FAILS.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from drtool.aws.arns import arn_region, arn_resource
from drtool.sandbox.fakes.backup_native import NativeEffects
from drtool.sandbox.fakes.backup_state import BackupError, BackupState, Job, RecoveryPoint, resource_type
from drtool.timing import to_datetime

OPERATIONS = ("StartBackupJob", "DescribeBackupJob", "ListBackupJobs", "ListRecoveryPointsByResource",
              "ListRecoveryPointsByBackupVault", "DescribeRecoveryPoint", "StartCopyJob", "DescribeCopyJob",
              "ListCopyJobs", "StartRestoreJob", "DescribeRestoreJob", "ListRestoreJobs", "DeleteRecoveryPoint",
              "GetRecoveryPointRestoreMetadata")


class FakeBackup(BackupState, NativeEffects):
    """The service: `call(operation, region, params)` returns the response members or
    raises BackupError (code, message, HTTP status)."""

    operations = OPERATIONS

    def call(self, operation: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation not in self.operations:
            raise BackupError("UnknownOperationException", f"{operation} is not served by the fake", 404)
        with self._lock:
            self.settle()
            result: dict[str, Any] = getattr(self, "_op_" + operation)(region, params)
            return result

    def _finish(self, job: Job) -> None:
        getattr(self, f"_finish_{job.kind}")(job)

    def _op_StartBackupJob(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartBackupJob.html
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
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeBackupJob.html
        return self._backup_job_json(self._job("backup", p["BackupJobId"]))

    def _op_ListBackupJobs(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListBackupJobs.html
        jobs = [j for j in self.jobs.values() if j.kind == "backup" and j.region == region
                and p.get("ByResourceArn") in (None, j.resource_arn) and p.get("ByState") in (None, j.state)
                and p.get("ByBackupVaultName") in (None, j.vault)
                and p.get("ByResourceType") in (None, j.resource_type)]
        items = [self._backup_job_json(j) for j in self._created_filter(jobs, p)]
        return self._page(items, p, "BackupJobs")

    def _op_ListRecoveryPointsByResource(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListRecoveryPointsByResource.html
        points = sorted((rp for rp in self.recovery_points.values()
                         if rp.region == region and rp.resource_arn == p["ResourceArn"]),
                        key=lambda rp: rp.created_at, reverse=True)
        items = [{k: v for k, v in rp.summary().items() if k not in ("ResourceArn", "ResourceType")}
                 for rp in points]
        return self._page(items, p, "RecoveryPoints")

    def _op_ListRecoveryPointsByBackupVault(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListRecoveryPointsByBackupVault.html
        self._vault_arn(region, p["BackupVaultName"])
        points = [rp for rp in self.recovery_points.values() if rp.region == region
                  and rp.vault == p["BackupVaultName"] and p.get("ByResourceArn") in (None, rp.resource_arn)
                  and p.get("ByResourceType") in (None, rp.resource_type)]
        points = sorted(self._created_filter(points, p), key=lambda rp: rp.created_at, reverse=True)
        return self._page([rp.summary() for rp in points], p, "RecoveryPoints")

    def _op_DescribeRecoveryPoint(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeRecoveryPoint.html
        point = self._point(p["RecoveryPointArn"], p["BackupVaultName"])
        if point.region != region:
            raise BackupError("ResourceNotFoundException", f"Recovery point {point.arn} is not in {region}", 404)
        return point.summary()

    def _op_GetRecoveryPointRestoreMetadata(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        """A small subset of what AWS returns: the keys naming the backed-up resource (AWS Backup
        Developer Guide, restore metadata per service)."""
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_GetRecoveryPointRestoreMetadata.html
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
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DeleteRecoveryPoint.html
        point = self._point(p["RecoveryPointArn"], p["BackupVaultName"])
        self._native_delete(point)
        del self.recovery_points[point.arn]
        return {}

    def _op_StartCopyJob(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartCopyJob.html
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
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeCopyJob.html
        return {"CopyJob": self._copy_job_json(self._job("copy", p["CopyJobId"]))}

    def _op_ListCopyJobs(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListCopyJobs.html
        jobs = [j for j in self.jobs.values() if j.kind == "copy" and j.region == region
                and p.get("ByResourceArn") in (None, j.resource_arn) and p.get("ByState") in (None, j.state)]
        return self._page([self._copy_job_json(j) for j in self._created_filter(jobs, p)], p, "CopyJobs")

    def _op_StartRestoreJob(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartRestoreJob.html
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
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeRestoreJob.html
        return self._restore_job_json(self._job("restore", p["RestoreJobId"]))

    def _op_ListRestoreJobs(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListRestoreJobs.html
        jobs = [j for j in self.jobs.values() if j.kind == "restore" and j.region == region
                and p.get("ByStatus") in (None, j.state) and p.get("ByResourceType") in (None, j.resource_type)]
        jobs = sorted(self._created_filter(jobs, p), key=lambda j: j.created_at, reverse=True)
        return self._page([self._restore_job_json(j) for j in jobs], p, "RestoreJobs")
