"""Plain data shared by the inventory (collects) and the check (judges). No AWS here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drtool.aws.arns import parse_arn

# Resource types, named as the Resource Groups Tagging API names them.
EBS_VOLUME = "ec2:volume"
RDS_INSTANCE = "rds:db"
RDS_CLUSTER = "rds:cluster"
DYNAMODB_TABLE = "dynamodb:table"
EFS_FILE_SYSTEM = "elasticfilesystem:file-system"
RESOURCE_TYPES = (EBS_VOLUME, RDS_INSTANCE, RDS_CLUSTER, DYNAMODB_TABLE, EFS_FILE_SYSTEM)

Key = tuple[str, str, str]  # (type, region, id)

@dataclass
class ProtectedResource:
    """One tagged resource whose backups are judged."""

    id: str
    type: str
    region: str
    arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        return (self.type, self.region, self.id)


@dataclass(frozen=True)
class RecoveryPoint:
    """A point the resource can be restored to.

    `at` is the epoch second the data is from (for a copy: the source's time when it is
    known, else the copy's own time); `region` is where the point is stored, so a point
    whose region differs from its resource's region is a cross-region copy.
    """

    at: float
    kind: str
    ref: str
    region: str


def resource_key(arn: str) -> Key | None:
    """(type, region, id) of a resource ARN, or None for a type drtool does not judge."""
    parsed = parse_arn(arn)
    if parsed is None:
        return None
    service, region, rest = parsed.service, parsed.region, parsed.resource
    if service == "ec2" and rest.startswith("volume/"):
        return (EBS_VOLUME, region, rest.split("/", 1)[1])
    if service == "rds" and rest.startswith("db:"):
        return (RDS_INSTANCE, region, rest.split(":", 1)[1])
    if service == "rds" and rest.startswith("cluster:"):
        return (RDS_CLUSTER, region, rest.split(":", 1)[1])
    if service == "dynamodb" and rest.startswith("table/"):
        return (DYNAMODB_TABLE, region, rest.split("/")[1])
    if service == "elasticfilesystem" and rest.startswith("file-system/"):
        return (EFS_FILE_SYSTEM, region, rest.split("/", 1)[1])
    return None


def tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or []}
