"""Collect tagged resources and their recovery points across regions (read-only).

Each region's recovery points are fetched once and joined in memory; nothing is asked
per resource where a list call exists. Per region, at most:

- selection: `tagging:GetResources` (RDS instances and clusters, DynamoDB tables, EFS)
  and `ec2:DescribeVolumes` with tag filters (EBS volumes);
- EBS: `ec2:DescribeSnapshots(OwnerIds=["self"])`, joined by VolumeId; a copy in another
  region is matched by its description `[Copied snap-... from REGION]` (AWS's form; the
  copy's VolumeId is the arbitrary `vol-ffffffff` there), by a tag naming the volume, or
  by VolumeId where it is real (moto keeps the source VolumeId);
- RDS: `DescribeDBInstances` / `DescribeDBClusters` (PITR `LatestRestorableTime` when
  automated backups are on, cluster membership), `DescribeDBSnapshots`,
  `DescribeDBClusterSnapshots`, and in copy regions `DescribeDBInstanceAutomatedBackups`
  (replicated automated backups); copies match by `SourceDBSnapshotIdentifier` /
  `SourceRegion`, else by instance identifier;
- DynamoDB: `ListBackups(BackupType=ALL)` once, and `DescribeContinuousBackups` per table
  (PITR has no list call), run in parallel;
- AWS Backup: `ListBackupVaults`, then `ListRecoveryPointsByBackupVault` per vault; a
  copied recovery point keeps its source ResourceArn, so copies join the same way.

Resources carrying `drtool:run-id` (what restore drills create) are drill artifacts and
are left out, like untagged resources.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from drtool.aws.arns import arn_region
from drtool.aws.errors import call_aws, error_code, translate
from drtool.backups.model import (
    DYNAMODB_TABLE,
    EBS_VOLUME,
    EFS_FILE_SYSTEM,
    RDS_CLUSTER,
    RDS_INSTANCE,
    Key,
    ProtectedResource,
    RecoveryPoint,
    resource_key,
    tag_dict,
)
from drtool.context import RUN_TAG
from drtool.timing import to_epoch

TagQuery = dict[str, list[str]]  # key -> accepted values (AND across keys, OR within one)

# What `collect` calls (for `drtool permissions` when a drill asks for a posture check).
CHECK_IAM = ("tag:GetResources", "ec2:DescribeVolumes", "ec2:DescribeSnapshots", "rds:DescribeDBInstances",
             "rds:DescribeDBClusters", "rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots",
             "rds:DescribeDBInstanceAutomatedBackups", "dynamodb:ListBackups", "dynamodb:DescribeContinuousBackups",
             "backup:ListBackupVaults", "backup:ListRecoveryPointsByBackupVault")

TAGGING_TYPES = [RDS_INSTANCE, RDS_CLUSTER, DYNAMODB_TABLE, EFS_FILE_SYSTEM]
COPIED_DESCRIPTION = re.compile(r"\[Copied (snap-[0-9a-f]+) from ([a-z0-9-]+)\]")
VOLUME_ID = re.compile(r"\bvol-[0-9a-f]{8,17}\b")
PLACEHOLDER_VOLUME = "vol-ffffffff"


@dataclass
class Inventory:
    """Selected resources and every recovery point found for them (local and copies)."""

    resources: list[ProtectedResource]
    points: dict[Key, list[RecoveryPoint]] = field(default_factory=dict)
    regions: list[str] = field(default_factory=list)
    copy_regions: list[str] = field(default_factory=list)

    def points_for(self, resource: ProtectedResource) -> list[RecoveryPoint]:
        return self.points.get(resource.key, [])


def paginate(method: Callable[..., dict[str, Any]], operation: str, items: str, token_in: str,
             token_out: str | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Items of every page, calling the (retrying) client method; errors become AwsError."""
    token_out = token_out or token_in
    while True:
        page = call_aws(method, operation, **kwargs)
        yield from page.get(items) or []
        token = page.get(token_out)
        if not token:
            return
        kwargs[token_in] = token


# --- selection -----------------------------------------------------------------------


def _wanted(tags: dict[str, str]) -> bool:
    return bool(tags) and RUN_TAG not in tags


def select_resources(aws: Any, region: str, tags: TagQuery) -> list[ProtectedResource]:
    """Tagged EBS volumes, RDS instances/clusters, DynamoDB tables and EFS in one region."""
    found: list[ProtectedResource] = []
    tagging = aws.client("resourcegroupstaggingapi", region)
    kwargs: dict[str, Any] = {"ResourceTypeFilters": TAGGING_TYPES, "ResourcesPerPage": 100}
    if tags:
        kwargs["TagFilters"] = [{"Key": k, "Values": v} for k, v in tags.items()]
    for item in paginate(tagging.get_resources, "tag:GetResources", "ResourceTagMappingList",
                         "PaginationToken", **kwargs):
        key = resource_key(item["ResourceARN"])
        item_tags = tag_dict(item.get("Tags"))
        if key is None or key[0] == EBS_VOLUME or key[1] != region or not _wanted(item_tags):
            continue
        found.append(ProtectedResource(key[2], key[0], region, item["ResourceARN"], item_tags))
    filters = [{"Name": f"tag:{k}", "Values": v} for k, v in tags.items()]
    ec2 = aws.client("ec2", region)
    for vol in paginate(ec2.describe_volumes, "ec2:DescribeVolumes", "Volumes", "NextToken",
                        Filters=filters, MaxResults=500):
        vol_tags = tag_dict(vol.get("Tags"))
        if _wanted(vol_tags) and vol.get("State") not in ("deleting", "deleted"):
            found.append(ProtectedResource(vol["VolumeId"], EBS_VOLUME, region, None, vol_tags,
                                           {"az": vol.get("AvailabilityZone")}))
    return found


# --- fetching ------------------------------------------------------------------------


@dataclass
class _Fetched:
    """Raw listings per region, filled by parallel tasks."""

    snapshots: dict[str, list[dict]] = field(default_factory=dict)
    db_snapshots: dict[str, list[dict]] = field(default_factory=dict)
    cluster_snapshots: dict[str, list[dict]] = field(default_factory=dict)
    db_instances: dict[str, list[dict]] = field(default_factory=dict)
    db_clusters: dict[str, list[dict]] = field(default_factory=dict)
    automated: dict[str, list[dict]] = field(default_factory=dict)
    ddb_backups: dict[str, list[dict]] = field(default_factory=dict)
    pitr: dict[Key, dict | None] = field(default_factory=dict)
    vaults: dict[str, list[str]] = field(default_factory=dict)
    recovery_points: dict[tuple[str, str], list[dict]] = field(default_factory=dict)


def _run(tasks: list[Callable[[], None]], workers: int) -> None:
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            task()
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="drtool-backups") as pool:
        for future in [pool.submit(task) for task in tasks]:
            future.result()


def _pitr(aws: Any, key: Key) -> dict | None:
    client = aws.client("dynamodb", key[1])
    try:
        out = client.describe_continuous_backups(TableName=key[2])
    except Exception as exc:  # noqa: BLE001 - a table deleted since selection is skipped
        if error_code(exc) in ("TableNotFoundException", "ResourceNotFoundException"):
            return None
        raise translate(exc, "dynamodb:DescribeContinuousBackups") from exc
    return out["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription") or {}


def _fetch_tasks(aws: Any, fetched: _Fetched, selected: list[ProtectedResource], regions: list[str],
                 copy_regions: list[str]) -> list[Callable[[], None]]:
    kinds = {r.type for r in selected}
    source_regions = {r.region for r in selected}
    all_regions = list(dict.fromkeys([*regions, *copy_regions]))
    tasks: list[Callable[[], None]] = []

    def add(store: dict, region: str, service: str, method: str, op: str, items: str, token_in: str,
            token_out: str | None = None, **kwargs: Any) -> None:
        def task() -> None:
            client = aws.client(service, region)
            store[region] = list(paginate(getattr(client, method), op, items, token_in, token_out, **kwargs))
        tasks.append(task)

    for region in all_regions:
        if EBS_VOLUME in kinds:
            add(fetched.snapshots, region, "ec2", "describe_snapshots", "ec2:DescribeSnapshots", "Snapshots",
                "NextToken", OwnerIds=["self"], MaxResults=1000)
        if kinds & {RDS_INSTANCE, RDS_CLUSTER}:
            add(fetched.db_snapshots, region, "rds", "describe_db_snapshots", "rds:DescribeDBSnapshots",
                "DBSnapshots", "Marker", MaxRecords=100)
            add(fetched.cluster_snapshots, region, "rds", "describe_db_cluster_snapshots",
                "rds:DescribeDBClusterSnapshots", "DBClusterSnapshots", "Marker", MaxRecords=100)
            if region in source_regions:
                add(fetched.db_instances, region, "rds", "describe_db_instances", "rds:DescribeDBInstances",
                    "DBInstances", "Marker", MaxRecords=100)
                add(fetched.db_clusters, region, "rds", "describe_db_clusters", "rds:DescribeDBClusters",
                    "DBClusters", "Marker", MaxRecords=100)
            if region in copy_regions and RDS_INSTANCE in kinds:
                add(fetched.automated, region, "rds", "describe_db_instance_automated_backups",
                    "rds:DescribeDBInstanceAutomatedBackups", "DBInstanceAutomatedBackups", "Marker",
                    MaxRecords=100)
        if any(r.type == DYNAMODB_TABLE and r.region == region for r in selected):
            add(fetched.ddb_backups, region, "dynamodb", "list_backups", "dynamodb:ListBackups",
                "BackupSummaries", "ExclusiveStartBackupArn", "LastEvaluatedBackupArn", BackupType="ALL")
        if selected:
            def vaults(region: str = region) -> None:
                client = aws.client("backup", region)
                fetched.vaults[region] = [v["BackupVaultName"] for v in paginate(
                    client.list_backup_vaults, "backup:ListBackupVaults", "BackupVaultList", "NextToken")]
            tasks.append(vaults)
    for res in selected:
        if res.type == DYNAMODB_TABLE:
            def pitr(key: Key = res.key) -> None:
                fetched.pitr[key] = _pitr(aws, key)
            tasks.append(pitr)
    return tasks


def _recovery_point_tasks(aws: Any, fetched: _Fetched) -> list[Callable[[], None]]:
    tasks: list[Callable[[], None]] = []
    for region, names in fetched.vaults.items():
        for name in names:
            def task(region: str = region, name: str = name) -> None:
                client = aws.client("backup", region)
                fetched.recovery_points[(region, name)] = list(paginate(
                    client.list_recovery_points_by_backup_vault, "backup:ListRecoveryPointsByBackupVault",
                    "RecoveryPoints", "NextToken", BackupVaultName=name))
            tasks.append(task)
    return tasks


# --- joining -------------------------------------------------------------------------


class _Joiner:
    """Attach every fetched recovery point to the resource it protects."""

    def __init__(self, selected: list[ProtectedResource], clusters_of: dict[Key, Key]) -> None:
        self.points: dict[Key, list[RecoveryPoint]] = defaultdict(list)
        self.keys = {r.key for r in selected}
        self.clusters_of = clusters_of
        self.wanted = self.keys | set(clusters_of.values())  # + clusters of selected Aurora members
        self.volumes = {r.id: r.key for r in selected if r.type == EBS_VOLUME}

    def add(self, key: Key | None, at: float | None, kind: str, ref: str, region: str) -> None:
        if key in self.wanted and at is not None:
            self.points[key].append(RecoveryPoint(at, kind if key[1] == region else f"{kind}-copy", ref, region))

    def ebs(self, snapshots: dict[str, list[dict]]) -> None:
        index = {region: {s["SnapshotId"]: s for s in snaps} for region, snaps in snapshots.items()}
        for region, snaps in snapshots.items():
            for snap in snaps:
                if snap.get("State") == "completed":
                    key, at = self._ebs_source(snap, region, index)
                    self.add(key, at, "ebs-snapshot", snap["SnapshotId"], region)

    def _ebs_source(self, snap: dict, region: str, index: dict[str, dict[str, dict]]) -> tuple[Key | None, float | None]:
        at = to_epoch(snap.get("StartTime"))
        volume = snap.get("VolumeId") or PLACEHOLDER_VOLUME
        key = self.volumes.get(volume)
        if key is not None and key[1] == region:
            return key, at
        copied = COPIED_DESCRIPTION.search(snap.get("Description") or "")
        if copied:
            source = index.get(copied[2], {}).get(copied[1])
            source_key = self.volumes.get(source.get("VolumeId", "")) if source else None
            if source is not None and source_key is not None and source_key[1] == copied[2]:
                return source_key, to_epoch(source.get("StartTime"))
        for value in tag_dict(snap.get("Tags")).values():
            for vid in VOLUME_ID.findall(value):
                if vid in self.volumes and vid != PLACEHOLDER_VOLUME:
                    return self.volumes[vid], at
        return key, at  # a real VolumeId from another region (moto), or None

    def rds(self, fetched: _Fetched) -> None:
        self._snapshots(fetched.db_snapshots, RDS_INSTANCE, "DBInstanceIdentifier",
                        "SourceDBSnapshotIdentifier", "DBSnapshotIdentifier", "rds-snapshot")
        self._snapshots(fetched.cluster_snapshots, RDS_CLUSTER, "DBClusterIdentifier",
                        "SourceDBClusterSnapshotArn", "DBClusterSnapshotIdentifier", "rds-cluster-snapshot")
        for region, items in fetched.db_instances.items():
            for db in items:
                key = (RDS_INSTANCE, region, db["DBInstanceIdentifier"])
                if not db.get("DBClusterIdentifier") and db.get("BackupRetentionPeriod"):
                    self.add(key, to_epoch(db.get("LatestRestorableTime")), "rds-pitr", "LatestRestorableTime", region)
        for region, items in fetched.db_clusters.items():
            for cluster in items:
                key = (RDS_CLUSTER, region, cluster["DBClusterIdentifier"])
                if cluster.get("BackupRetentionPeriod"):
                    self.add(key, to_epoch(cluster.get("LatestRestorableTime")), "rds-pitr", "LatestRestorableTime",
                             region)
        for region, items in fetched.automated.items():
            for backup in items:
                source = arn_region(backup.get("DBInstanceArn", "")) or backup.get("Region") or region
                key = (RDS_INSTANCE, source, backup.get("DBInstanceIdentifier", ""))
                latest = (backup.get("RestoreWindow") or {}).get("LatestTime")
                if source != region:
                    self.add(key, to_epoch(latest), "rds-replicated-backup", backup.get("DBInstanceAutomatedBackupsArn",
                                                                                    "automated-backup"), region)

    def _snapshots(self, by_region: dict[str, list[dict]], rtype: str, id_field: str,
                   source_field: str, ref_field: str, kind: str) -> None:
        wanted = self.wanted
        by_name: dict[str, list[Key]] = defaultdict(list)
        for wanted_key in wanted:
            if wanted_key[0] == rtype:
                by_name[wanted_key[2]].append(wanted_key)
        for region, snaps in by_region.items():
            for snap in snaps:
                if snap.get("Status") != "available":
                    continue
                name = snap.get(id_field, "")
                source = arn_region(snap.get(source_field) or "") or snap.get("SourceRegion")
                if source:
                    key: Key | None = (rtype, source, name)
                elif (rtype, region, name) in wanted:
                    key = (rtype, region, name)
                else:
                    others = [k for k in by_name.get(name, []) if k[1] != region]
                    key = others[0] if len(others) == 1 and snap.get("SnapshotType") != "automated" else None
                if key in wanted:
                    at = to_epoch(snap.get("OriginalSnapshotCreateTime") or snap.get("SnapshotCreateTime"))
                    self.add(key, at, kind, snap.get(ref_field, ""), region)

    def dynamodb(self, fetched: _Fetched) -> None:
        for region, backups in fetched.ddb_backups.items():
            for backup in backups:
                key = (DYNAMODB_TABLE, region, backup.get("TableName", ""))
                if backup.get("BackupStatus") == "AVAILABLE":
                    self.add(key, to_epoch(backup.get("BackupCreationDateTime")), "dynamodb-backup",
                             backup["BackupArn"], region)
        for key, pitr in fetched.pitr.items():
            if pitr and pitr.get("PointInTimeRecoveryStatus") == "ENABLED":
                self.add(key, to_epoch(pitr.get("LatestRestorableDateTime")), "dynamodb-pitr",
                         "LatestRestorableDateTime", key[1])

    def aws_backup(self, fetched: _Fetched) -> None:
        for (region, _vault), items in fetched.recovery_points.items():
            for point in items:
                if point.get("Status") == "COMPLETED":
                    self.add(resource_key(point.get("ResourceArn", "")), to_epoch(point.get("CreationDate")),
                             "aws-backup", point["RecoveryPointArn"], region)

    def result(self) -> dict[Key, list[RecoveryPoint]]:
        """Points per selected resource; an Aurora member instance has its cluster's."""
        for member, cluster in self.clusters_of.items():
            self.points[member].extend(self.points.get(cluster, []))
        return {key: points for key, points in self.points.items() if key in self.keys}


def _live(selected: list[ProtectedResource], fetched: _Fetched) -> tuple[list[ProtectedResource], dict[Key, Key]]:
    """Drop resources deleted since the tagging API saw them; map Aurora members to clusters."""
    instances = {(RDS_INSTANCE, region, db["DBInstanceIdentifier"]): db
                 for region, items in fetched.db_instances.items() for db in items}
    clusters = {(RDS_CLUSTER, region, c["DBClusterIdentifier"])
                for region, items in fetched.db_clusters.items() for c in items}
    live: list[ProtectedResource] = []
    clusters_of: dict[Key, Key] = {}
    for res in selected:
        if res.type == RDS_INSTANCE:
            db = instances.get(res.key)
            if db is None:
                continue
            if db.get("DBClusterIdentifier"):
                clusters_of[res.key] = (RDS_CLUSTER, res.region, db["DBClusterIdentifier"])
                res.attrs["cluster"] = db["DBClusterIdentifier"]
        gone = (res.type == RDS_CLUSTER and res.key not in clusters) or \
            (res.type == DYNAMODB_TABLE and res.key in fetched.pitr and fetched.pitr[res.key] is None)
        if not gone:
            live.append(res)
    return live, clusters_of


def collect(aws: Any, *, regions: list[str], tags: TagQuery, copy_regions: list[str] | tuple[str, ...] = (),
            workers: int = 8) -> Inventory:
    """Select tagged resources in `regions` and gather their recovery points (and copies
    in `copy_regions`). `aws` is a drtool AwsSession (clients cached, calls counted)."""
    regions = list(dict.fromkeys(regions))
    copies = [r for r in dict.fromkeys(copy_regions)]
    selected: list[ProtectedResource] = []
    by_region: dict[str, list[ProtectedResource]] = {}
    def select_task(region: str) -> Callable[[], None]:
        def task() -> None:
            by_region[region] = select_resources(aws, region, tags)
        return task

    _run([select_task(r) for r in regions], workers)
    for region in regions:
        selected.extend(by_region[region])
    fetched = _Fetched()
    _run(_fetch_tasks(aws, fetched, selected, regions, copies), workers)
    _run(_recovery_point_tasks(aws, fetched), workers)
    live, clusters_of = _live(selected, fetched)
    joiner = _Joiner(live, clusters_of)
    joiner.ebs(fetched.snapshots)
    joiner.rds(fetched)
    joiner.dynamodb(fetched)
    joiner.aws_backup(fetched)
    live.sort(key=lambda r: (r.region, r.type, r.id))
    return Inventory(live, joiner.result(), regions, copies)
