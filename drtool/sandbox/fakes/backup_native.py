"""The AWS Backup fake's native effects: real snapshots, backups and restores in moto.

A backup job takes the native backup at its start; its recovery point ARN is the native
one, as in AWS (EBS and RDS snapshot ARNs, the DynamoDB backup ARN): see
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartBackupJob.html and
https://docs.aws.amazon.com/aws-backup/latest/devguide/whatisbackup.html#features-overview
("Backups of ... are stored as native snapshots"). A copy copies natively into the
destination vault's region (keeping the source ResourceArn: API_CopyJob.html); a restore
creates the resource with the documented restore metadata keys
(https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-a-backup.html and
API_StartRestoreJob.html#Backup-StartRestoreJob-request-Metadata).
"""

from __future__ import annotations

from typing import Any

from drtool.aws.arns import arn_resource
from drtool.sandbox.fakes.backup_state import ClientFactory, RecoveryPoint, resource_type


class NativeEffects:
    """Mixin: needs `self.client(service, region)`."""

    client: ClientFactory

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

    def _native_delete(self, point: RecoveryPoint) -> None:
        """Delete the native data behind a recovery point; already gone is fine."""
        native = point.native
        service = native.get("service", "")
        if not service:
            return
        client = self.client("dynamodb" if service == "dynamodb" else "rds" if service.startswith("rds") else "ec2",
                             point.region)
        try:
            if service == "ec2":
                client.delete_snapshot(SnapshotId=native["id"])
            elif service == "rds":
                client.delete_db_snapshot(DBSnapshotIdentifier=native["id"])
            elif service == "rds-cluster":
                client.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=native["id"])
            elif service == "dynamodb":
                client.delete_backup(BackupArn=native["id"])
        except Exception:  # noqa: BLE001, S110 - native data already gone is fine
            pass
