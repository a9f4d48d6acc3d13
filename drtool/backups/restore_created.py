"""What an AWS Backup restore job created, by ARN: read its run tag, tag it, delete it.

Used by `backup.start-restore` (tag what a finished job made) and its undo (delete only
what is this run's). Covers the types drtool restores: EBS volumes, RDS instances and
DynamoDB tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drtool.backups.model import DYNAMODB_TABLE, EBS_VOLUME, RDS_INSTANCE, resource_key, tag_dict
from drtool.backups.restore_common import is_missing, run_tags
from drtool.backups.restore_dynamodb import delete_table
from drtool.backups.restore_ebs import delete_volume
from drtool.backups.restore_rds import delete_db_instance
from drtool.context import StepContext
from drtool.errors import DrToolError

KINDS = {EBS_VOLUME: "EBS volume", DYNAMODB_TABLE: "DynamoDB table", RDS_INSTANCE: "RDS instance"}


@dataclass
class Created:
    """A resource a restore job created, as it is now (`exists` False: already deleted)."""

    arn: str
    kind: str
    rtype: str
    region: str
    rid: str
    exists: bool
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.rid}"


def _key(arn: str) -> tuple[str, str, str]:
    key = resource_key(arn)
    if key is None or key[0] not in KINDS:
        raise DrToolError(f"cannot handle {arn} automatically; delete it by hand")
    return key


def look(ctx: StepContext, arn: str) -> Created:
    """Read the resource and its tags (one or two describe calls)."""
    rtype, region, rid = _key(arn)
    made = Created(arn, KINDS[rtype], rtype, region, rid, exists=False)
    if rtype == EBS_VOLUME:
        try:
            vol = ctx.client("ec2", region).describe_volumes(VolumeIds=[rid])["Volumes"][0]
        except Exception as exc:
            if is_missing(exc, "InvalidVolume.NotFound"):
                return made
            raise
        made.exists, made.tags = vol.get("State") not in ("deleting", "deleted"), tag_dict(vol.get("Tags"))
    elif rtype == DYNAMODB_TABLE:
        client = ctx.client("dynamodb", region)
        try:
            table = client.describe_table(TableName=rid)["Table"]
            made.tags = tag_dict(client.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags"))
        except Exception as exc:
            if is_missing(exc, "ResourceNotFoundException"):
                return made
            raise
        made.exists = table.get("TableStatus") != "DELETING"
    else:
        try:
            db = ctx.client("rds", region).describe_db_instances(DBInstanceIdentifier=rid)["DBInstances"][0]
        except Exception as exc:
            if is_missing(exc, "DBInstanceNotFound", "DBInstanceNotFoundFault"):
                return made
            raise
        made.exists, made.tags = db.get("DBInstanceStatus") != "deleting", tag_dict(db.get("TagList"))
    return made


def tag(ctx: StepContext, made: Created, **extra: str) -> None:
    """Put the run tags on it (StartRestoreJob takes no tags: AWS Backup API Reference)."""
    tags = run_tags(ctx, **extra)
    if made.rtype == EBS_VOLUME:
        ctx.client("ec2", made.region).create_tags(Resources=[made.rid], Tags=tags)
    elif made.rtype == DYNAMODB_TABLE:
        ctx.client("dynamodb", made.region).tag_resource(ResourceArn=made.arn, Tags=tags)
    else:
        ctx.client("rds", made.region).add_tags_to_resource(ResourceName=made.arn, Tags=tags)


def delete(ctx: StepContext, made: Created) -> str:
    """Delete it (RDS: no final snapshot, it is a drill's throw-away copy)."""
    if made.rtype == EBS_VOLUME:
        client = ctx.client("ec2", made.region)
        try:
            vol = client.describe_volumes(VolumeIds=[made.rid])["Volumes"][0]
        except Exception as exc:
            if is_missing(exc, "InvalidVolume.NotFound"):
                return f"EBS volume {made.rid} is already gone"
            raise
        delete_volume(ctx, client, vol)
        return f"Deleted EBS volume {made.rid}"
    if made.rtype == DYNAMODB_TABLE:
        return delete_table(ctx, ctx.client("dynamodb", made.region), made.rid)
    return delete_db_instance(ctx, ctx.client("rds", made.region), made.rid)
