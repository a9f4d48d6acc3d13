"""`dynamodb.restore-backup`, its undo and the `dynamodb.item-count` probe (see drtool.backups.restore)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from drtool.aws.errors import error_code
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
from drtool.registry import Params, action, probe, undo
from drtool.resources import Outcome, ProbeResult, Resource, UndoSpec
from drtool.timing import rfc3339, to_epoch


class DynamoRestoreParams(Params):
    table: str = Field(description="table whose backup is restored")
    target: str = Field(description="name of the new table")
    backup_arn: str | None = Field(default=None, description="on-demand backup ARN (default: newest)")


def _dynamo_backup(client: Any, table: str, backup_arn: str | None) -> tuple[str, float | None]:
    if backup_arn:
        details = client.describe_backup(BackupArn=backup_arn)["BackupDescription"]["BackupDetails"]
        if details.get("BackupStatus") != "AVAILABLE":
            raise DrToolError(f"backup {backup_arn} is {details.get('BackupStatus')}, not AVAILABLE")
        return backup_arn, to_epoch(details.get("BackupCreationDateTime"))
    found = [b for b in paginate(client.list_backups, "dynamodb:ListBackups", "BackupSummaries",
                                 "ExclusiveStartBackupArn", "LastEvaluatedBackupArn", TableName=table,
                                 BackupType="ALL") if b.get("BackupStatus") == "AVAILABLE"]
    latest = newest(found, "BackupCreationDateTime")
    if latest is None:
        raise DrToolError(f"no available on-demand backup of DynamoDB table {table}")
    return latest["BackupArn"], to_epoch(latest.get("BackupCreationDateTime"))


def _table(client: Any, name: str) -> dict[str, Any] | None:
    try:
        return client.describe_table(TableName=name)["Table"]
    except Exception as exc:
        if is_missing(exc, "ResourceNotFoundException"):
            return None
        raise


@action("dynamodb.restore-backup", summary="Restore the newest (or named) on-demand backup of a DynamoDB table "
        "as a new table (undo: delete it)", params=DynamoRestoreParams, undo="dynamodb.delete-restored-table",
        iam=["dynamodb:ListBackups", "dynamodb:DescribeBackup", "dynamodb:DescribeTable",
             "dynamodb:RestoreTableFromBackup", "dynamodb:TagResource", "dynamodb:PutItem", "dynamodb:UpdateItem",
             "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan",
             "dynamodb:BatchWriteItem"])
def dynamodb_restore_backup(ctx: StepContext, params: DynamoRestoreParams, targets: list[Resource]) -> Outcome:
    region = step_region(ctx, params)
    client = ctx.client("dynamodb", region)
    backup_arn, at = _dynamo_backup(client, params.table, params.backup_arn)
    if _table(client, params.target) is not None:
        raise DrToolError(f"DynamoDB table {params.target} already exists in {region}; pick another target")
    out = ctx.change(f"restore DynamoDB backup of {params.table} as table {params.target} in {region}",
                     lambda: client.restore_table_from_backup(TargetTableName=params.target, BackupArn=backup_arn),
                     undo=UndoSpec("dynamodb.delete-restored-table",
                                   {"table": params.target, "run_id": ctx.run_id, "backup_arn": backup_arn,
                                    "region": region}, region),
                     resources=[params.target])
    arn = out["TableDescription"]["TableArn"]
    try:  # RestoreTableFromBackup takes no tags; the undo also recognises the table by its RestoreSummary
        ctx.change(f"tag restored table {params.target} with the run id",
                   lambda: client.tag_resource(ResourceArn=arn, Tags=run_tags(ctx, **{RESTORED_FROM_TAG: backup_arn})),
                   resources=[params.target])
    except Exception as exc:
        if not is_missing(exc, "ResourceInUseException", "LimitExceededException"):
            raise
        ctx.note(f"could not tag {params.target} yet ({error_code(exc)}); the undo matches its restore summary")
    return Outcome(f"Restoring backup of {params.table} (taken {rfc3339(at)}) as table {params.target}.",
                   {"table": params.target, "table_arn": arn, "recovery_point": backup_arn,
                    "recovery_point_at": at, "region": region})


class DeleteTableParams(Params):
    table: str
    run_id: str | None = Field(default=None, description="only delete it if this run restored it")
    backup_arn: str | None = Field(default=None, description="the backup the run restored it from")


def _not_ours(client: Any, table: dict[str, Any], params: DeleteTableParams) -> str | None:
    """None when this run restored the table, else what it is, in words. The run tag decides;
    an untagged table (the crash window between restore and tagging, or a tag call DynamoDB
    refused while the table was busy) is recognised by its RestoreSummary.SourceBackupArn."""
    if not params.run_id:
        return None
    try:
        tags = tag_dict(client.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags"))
    except Exception as exc:
        if not is_missing(exc, "ResourceInUseException"):
            raise
        tags = {}
    if tags.get(RUN_TAG):
        return None if tags[RUN_TAG] == params.run_id else f"carries {RUN_TAG}={tags[RUN_TAG]}"
    source = (table.get("RestoreSummary") or {}).get("SourceBackupArn")
    if params.backup_arn and source == params.backup_arn:
        return None
    return f"carries no {RUN_TAG} tag and was " + (f"restored from {source}" if source else "not restored from a backup")


@undo("dynamodb.delete-restored-table", summary="Delete a DynamoDB table a drill restored (only if it is the run's)",
      params=DeleteTableParams, iam=["dynamodb:DescribeTable", "dynamodb:ListTagsOfResource", "dynamodb:DeleteTable"])
def dynamodb_delete_restored_table(ctx: StepContext, params: DeleteTableParams) -> str:
    client = ctx.client("dynamodb", params.region)
    table = _table(client, params.table)
    if table is None:
        return f"DynamoDB table {params.table} is already gone."
    found = _not_ours(client, table, params)
    if found:
        raise ChangedSince(f"DynamoDB table {params.table} {found}, so run {params.run_id} did not restore it")
    if table.get("TableStatus") == "DELETING":
        return f"DynamoDB table {params.table} is already being deleted."
    return delete_table(ctx, client, params.table) + "."


def delete_table(ctx: StepContext, client: Any, name: str) -> str:
    """Delete, waiting while it is busy (ResourceInUse: still creating)."""
    def delete() -> bool:
        try:
            client.delete_table(TableName=name)
        except Exception as exc:
            if is_missing(exc, "ResourceNotFoundException"):
                return False
            raise
        return True

    if retry_busy(ctx, delete, ("ResourceInUseException",), f"delete table {name}"):
        return f"Deleted DynamoDB table {name}"
    return f"DynamoDB table {name} is already gone"


# DescribeTable's ItemCount: "DynamoDB updates this value approximately every six hours.
# Recent changes might not be reflected in this value." (TableDescription,
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TableDescription.html);
# a backup's SourceTableDetails.ItemCount is "an approximate value" too
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_SourceTableDetails.html).
# So the probe counts by default: Scan with Select=COUNT, every page
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Scan.html), once per poll.
ITEM_COUNT_LAG_S = 6 * 3600


class ItemCountParams(Params):
    table: str
    equals: int | None = Field(default=None, ge=0)
    matches_backup: str | None = Field(default=None, description='a backup ARN, "newest" (of source_table) or '
                                       '"restored" (the backup the table was restored from)')
    source_table: str | None = None
    count: Literal["exact", "approximate"] = Field(default="exact", description=(
        "exact: a paginated Scan(Select=COUNT) on every poll (a wait sees the count change); approximate: "
        "DescribeTable's ItemCount, which DynamoDB refreshes only about every six hours (no scan; opt-in, "
        "and the result says it is approximate)"))
    tolerance: int = Field(default=0, ge=0, description="accepted difference in items (give this or "
                           "tolerance_percent, not both)")
    tolerance_percent: float = Field(default=0.0, ge=0, le=100, description="accepted difference in percent of "
                                     "the expected count, rounded down to whole items (give this or tolerance, "
                                     "not both)")
    max_scan_pages: int = Field(default=1000, ge=1, description="bound on the exact count's Scan pages (1 MB "
                                "each); a table larger than that fails the probe instead of scanning on")

    @model_validator(mode="after")
    def _one(self) -> ItemCountParams:
        if (self.equals is None) == (self.matches_backup is None):
            raise ValueError("give exactly one of equals, matches_backup")
        if self.matches_backup == "newest" and not self.source_table:
            raise ValueError('matches_backup: newest needs source_table')
        if {"tolerance", "tolerance_percent"} <= self.model_fields_set:
            raise ValueError("give one of tolerance (items) and tolerance_percent, not both")
        return self

    def allowed(self, expected: int) -> int:
        """The accepted difference in items: `tolerance`, or `tolerance_percent` of `expected`."""
        if "tolerance_percent" in self.model_fields_set:
            return int(expected * self.tolerance_percent / 100)
        return self.tolerance


def scan_count(client: Any, table: str, max_pages: int) -> tuple[int, bool]:
    """(items counted, complete): a paginated Scan(Select=COUNT) of at most `max_pages` pages."""
    total, kwargs = 0, {"TableName": table, "Select": "COUNT"}
    for _ in range(max_pages):
        page = client.scan(**kwargs)
        total += page.get("Count", 0)
        if not page.get("LastEvaluatedKey"):
            return total, True
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return total, False


def _expected(client: Any, params: ItemCountParams, table: dict[str, Any]) -> tuple[int | None, str]:
    if params.equals is not None:
        return params.equals, "expected"
    arn = params.matches_backup
    if arn == "restored":
        arn = (table.get("RestoreSummary") or {}).get("SourceBackupArn")
        if not arn:
            return None, f"table {params.table} was not restored from a backup"
    elif arn == "newest":
        arn, _ = _dynamo_backup(client, params.source_table or "", None)
    source = client.describe_backup(BackupArn=arn)["BackupDescription"].get("SourceTableDetails") or {}
    return source.get("ItemCount"), f"backup {arn} recorded"


def _stale_hint(ctx: StepContext, table: dict[str, Any]) -> str:
    created = to_epoch(table.get("CreationDateTime"))
    if created is not None and ctx.clock.now() - created < ITEM_COUNT_LAG_S:
        return (" DescribeTable's ItemCount is refreshed about every six hours and the table is younger than "
                "that: use `count: exact` for a scanned count.")
    return ""


@probe("dynamodb.item-count", summary="A DynamoDB table is ACTIVE and holds the expected number of items "
       "(a number, or the backup's item count), within a tolerance; counted by Scan on every poll unless "
       "`count: approximate` (DescribeTable's ItemCount, about six hours stale)", params=ItemCountParams,
       iam=["dynamodb:DescribeTable", "dynamodb:Scan", "dynamodb:DescribeBackup", "dynamodb:ListBackups"])
def dynamodb_item_count(ctx: StepContext, params: ItemCountParams) -> ProbeResult:
    """Compares a bounded Scan count of this poll (or, with `count: approximate`, DescribeTable's
    ItemCount) with the expected count (a backup's is approximate, hence the tolerance)."""
    client = ctx.client("dynamodb", params.region)
    table = _table(client, params.table)
    if table is None:
        return ProbeResult(False, f"Table {params.table} does not exist (yet).")
    if table.get("TableStatus") != "ACTIVE":
        return ProbeResult(False, f"Table {params.table} is {table.get('TableStatus')}, not ACTIVE yet.")
    expected, source = _expected(client, params, table)
    if params.count == "exact":
        count, complete = scan_count(client, params.table, params.max_scan_pages)
    else:
        count, complete = int(table.get("ItemCount") or 0), True
    data: dict[str, Any] = {"count": count, "expected": expected, "method": params.count}
    holds = f"holds {count} items" if params.count == "exact" else \
        f"holds about {count} items (approximate: DescribeTable's ItemCount, refreshed about every six hours)"
    if not complete:
        return ProbeResult(False, f"Table {params.table} holds more than {count} items: the exact count stopped at "
                           f"max_scan_pages={params.max_scan_pages}; raise it or use `count: approximate`.", data)
    if expected is None:
        return ProbeResult(False, f"Table {params.table} {holds}; {source}, nothing to compare.", data)
    allowed = params.allowed(expected)
    data["tolerance"] = allowed
    ok = abs(count - expected) <= allowed
    verb = "matching" if ok else "but"
    within = f" (within {allowed})" if allowed else ""
    hint = "" if ok or params.count == "exact" else _stale_hint(ctx, table)
    return ProbeResult(ok, f"Table {params.table} {holds}, {verb} {source} {expected}{within}.{hint}", data)
