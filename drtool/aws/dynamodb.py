"""DynamoDB: pause global-table replication into a replica (as AWS FIS's
`aws:dynamodb:global-table-pause-replication` does, with a deny resource policy) and remove
RPO canary items."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import Field, field_validator

from drtool.aws.errors import error_code
from drtool.context import StepContext
from drtool.durations import parse_duration
from drtool.errors import ChangedSince, DrToolError
from drtool.registry import Params, action, undo
from drtool.resources import Outcome, Resource, UndoSpec
from drtool.timing import rfc3339

REPLICATION_SERVICE = "replication.dynamodb.amazonaws.com"
REPLICATION_ROLE = f"role/aws-service-role/{REPLICATION_SERVICE}/AWSServiceRoleForDynamoDBReplication"
# The statements below are the ones AWS FIS appends for an MREC table, action for action
# (FIS actions reference, aws:dynamodb:global-table-pause-replication, "Multi-Region
# eventually consistent (MREC) global tables",
# https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html#global-table-pause-replication;
# tests/region/test_dynamodb_stream_deny.py asserts them). What the replication role does on a replica:
DENIED_ITEM_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                       "dynamodb:DescribeTable", "dynamodb:UpdateTable", "dynamodb:Scan",
                       "dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive"]
DENIED_DATA_ACTIONS = ["dynamodb:ReadDataForReplication", "dynamodb:WriteDataForReplication"]
# FIS also appends a deny for the replication role to the resource policy of the target
# table's stream (same page: GetRecords, DescribeStream, GetShardIterator, conditioned on the
# replication role's ARN and the expiry). A table without a stream gets no stream statement.
DENIED_STREAM_ACTIONS = ["dynamodb:GetRecords", "dynamodb:DescribeStream", "dynamodb:GetShardIterator"]
# Denying the replication role on a multi-Region strongly consistent (MRSC) replica makes it
# return AccessDeniedException for writes and strongly consistent reads (DynamoDB Developer
# Guide, "DynamoDB global tables security",
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables-security.html).
MRSC_REFUSAL = ("table {table} in {region} is a multi-Region strongly consistent global table "
                "(MultiRegionConsistency STRONG): denying its replication makes the replica refuse writes and "
                "strongly consistent reads (AccessDeniedException), an outage rather than a replication pause")
# DynamoDB blocks a policy update for ~15 s after the previous one, and reads it eventually
# consistently: the undo retries and re-reads for this long before it concludes anything.
POLICY_SETTLE_S = 20.0
POLICY_POLL_S = 5.0
RETRY_CODES = ("ResourceInUseException", "LimitExceededException")


def sid_prefix(run_id: str) -> str:
    """Statement ids of a run's pause (policy Sids are alphanumeric)."""
    return "DrtoolPauseReplication" + re.sub(r"[^A-Za-z0-9]", "", run_id)


def get_policy(client: Any, arn: str) -> dict[str, Any] | None:
    """The table's resource policy document, or None."""
    try:
        return json.loads(client.get_resource_policy(ResourceArn=arn)["Policy"])
    except Exception as exc:
        if error_code(exc) in ("PolicyNotFoundException", "ResourceNotFoundException"):
            return None
        raise


def _statements(doc: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not doc:
        return []
    statements = doc.get("Statement") or []
    return [statements] if isinstance(statements, dict) else list(statements)


def _role_arn(table_arn: str) -> str:
    parts = table_arn.split(":")
    return f"arn:{parts[1]}:iam::{parts[4]}:{REPLICATION_ROLE}"


def stream_statement(table_arn: str, stream_arn: str, sid: str, until: str) -> dict[str, Any]:
    """The deny FIS appends to the table's stream policy: the replication role reads no records."""
    return {"Sid": f"{sid}Stream", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": DENIED_STREAM_ACTIONS,
            "Resource": stream_arn, "Condition": {"ArnEquals": {"aws:PrincipalArn": _role_arn(table_arn)},
                                                  "DateLessThan": {"aws:CurrentTime": until}}}


def pause_statements(table_arn: str, sid: str, until: str) -> list[dict[str, Any]]:
    """The two deny statements AWS FIS appends for a multi-Region eventually consistent table."""
    role_arn = _role_arn(table_arn)
    expiry = {"DateLessThan": {"aws:CurrentTime": until}}
    return [
        {"Sid": f"{sid}ServicePrincipal", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": DENIED_DATA_ACTIONS, "Resource": table_arn,
         "Condition": {"StringEquals": {"aws:PrincipalServiceName": REPLICATION_SERVICE}, **expiry}},
        {"Sid": sid, "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": DENIED_ITEM_ACTIONS,
         "Resource": table_arn, "Condition": {"ArnEquals": {"aws:PrincipalArn": role_arn}, **expiry}},
    ]


class PauseParams(Params):
    table: str = Field(description="global table name")
    replica_region: str = Field(description="region of the replica that stops receiving writes")
    duration: float = Field(default=7200.0, gt=0, description="the deny expires by itself after this "
                            "(a replica left unauthorized for 20 h is converted to a single-region table)")

    _duration = field_validator("duration", mode="before")(lambda v: parse_duration(v))


def _touches_replica(ctx: StepContext, params: PauseParams) -> list[Resource]:
    """The replica table that gets the deny policy, with its tags, for `require_tags` (read-only)."""
    client = ctx.client("dynamodb", params.replica_region)
    try:
        arn = client.describe_table(TableName=params.table)["Table"]["TableArn"]
    except Exception as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        return [Resource(id=params.table, type="dynamodb:table", region=params.replica_region, attrs={"missing": True})]
    tags = client.list_tags_of_resource(ResourceArn=arn).get("Tags", [])
    return [Resource(id=params.table, type="dynamodb:table", region=params.replica_region, arn=arn,
                     tags={t["Key"]: t["Value"] for t in tags})]


@action("dynamodb.pause-replication", touches=_touches_replica,
        summary="Deny the replication service on a replica table with a resource policy (undo: remove it)",
        params=PauseParams, undo="dynamodb.resume-replication",
        iam=["dynamodb:DescribeTable", "dynamodb:GetResourcePolicy", "dynamodb:PutResourcePolicy",
             "dynamodb:DeleteResourcePolicy", "dynamodb:ListTagsOfResource"])
def pause_replication(ctx: StepContext, params: PauseParams, targets: list[Resource]) -> Outcome:
    """Appends the deny statements to any existing policy (untouched), with an expiry as a
    safety net should rollback never run."""
    client = ctx.client("dynamodb", params.replica_region)
    table = client.describe_table(TableName=params.table)["Table"]
    if table.get("MultiRegionConsistency") == "STRONG":
        raise DrToolError(MRSC_REFUSAL.format(table=params.table, region=params.replica_region),
                          "pause only multi-Region eventually consistent tables; for MRSC tables test Region "
                          "isolation with fis.experiment (aws:dynamodb:global-table-pause-replication)")
    arn = table["TableArn"]
    sid = sid_prefix(ctx.run_id)
    doc = get_policy(client, arn)
    statements = _statements(doc)
    if any(str(s.get("Sid", "")).startswith(sid) for s in statements):
        return Outcome(f"Replication into {params.table} ({params.replica_region}) is already paused by this run.",
                       {"table_arn": arn})
    until = rfc3339(ctx.clock.now() + params.duration) or ""
    added = pause_statements(arn, sid, until)
    new = {"Version": (doc or {}).get("Version", "2012-10-17"),
           **{k: v for k, v in (doc or {}).items() if k not in ("Version", "Statement")},
           "Statement": statements + added}
    ctx.change(f"deny the DynamoDB replication service on {params.table} in {params.replica_region} until {until}",
               lambda: client.put_resource_policy(ResourceArn=arn, Policy=json.dumps(new)),
               undo=UndoSpec("dynamodb.resume-replication",
                             {"table": params.table, "sid": sid, "statement_ids": [a["Sid"] for a in added],
                              "region": params.replica_region},
                             params.replica_region),
               resources=[arn])
    stream_arn = table.get("LatestStreamArn")
    if stream_arn:
        _deny_stream(ctx, client, params, arn, stream_arn, sid, until)
    kept = f" (kept its {len(statements)} existing statement(s))" if statements else ""
    return Outcome(f"Paused replication into {params.table} ({params.replica_region}): the replication "
                   f"service is denied until {until}{kept}.", {"table_arn": arn, "until": until})


def _deny_stream(ctx: StepContext, client: Any, params: PauseParams, arn: str, stream_arn: str, sid: str,
                 until: str) -> None:
    doc = get_policy(client, stream_arn)
    added = stream_statement(arn, stream_arn, sid, until)
    new = {"Version": (doc or {}).get("Version", "2012-10-17"),
           **{k: v for k, v in (doc or {}).items() if k not in ("Version", "Statement")},
           "Statement": _statements(doc) + [added]}
    ctx.change(f"deny the DynamoDB replication role on the stream of {params.table} in {params.replica_region}",
               lambda: client.put_resource_policy(ResourceArn=stream_arn, Policy=json.dumps(new)),
               undo=UndoSpec("dynamodb.resume-replication",
                             {"table": params.table, "sid": sid, "statement_ids": [added["Sid"]],
                              "resource_arn": stream_arn, "region": params.replica_region}, params.replica_region),
               resources=[stream_arn])


class ResumeParams(Params):
    table: str
    resource_arn: str | None = Field(default=None, description="the policy's resource when it is not the "
                                     "table (its stream)")
    sid: str = Field(min_length=1, description="Sid prefix of the run's deny statements")
    statement_ids: list[str] | None = Field(default=None, description="the Sids the drill added (absent in "
                                            "journals written before the check existed: any Sid with the prefix)")


def _split(statements: list[dict[str, Any]], params: ResumeParams) -> tuple[list, list, list]:
    """(ours, changed, others): statements the drill added and still deny, statements under the
    drill's Sids that now say something else, and everything else."""
    def mine(s: dict[str, Any]) -> bool:
        sid = str(s.get("Sid", ""))
        return sid in params.statement_ids if params.statement_ids is not None else sid.startswith(params.sid)

    ours = [s for s in statements if mine(s) and s.get("Effect") == "Deny"]
    changed = [s for s in statements if mine(s) and s.get("Effect") != "Deny"]
    return ours, changed, [s for s in statements if not mine(s)]


@undo("dynamodb.resume-replication", summary="Remove a run's replication-deny statements from a table's policy",
      params=ResumeParams,
      iam=["dynamodb:DescribeTable", "dynamodb:GetResourcePolicy", "dynamodb:PutResourcePolicy",
           "dynamodb:DeleteResourcePolicy"])
def resume_replication(ctx: StepContext, params: ResumeParams) -> str:
    """Removes only the statements the drill added that still deny; other statements stay, and
    the policy is deleted only if nothing else is left in it. A statement under the drill's Sid
    that someone changed (no longer a Deny) is left as found."""
    client = ctx.client("dynamodb", params.region)
    try:
        arn = params.resource_arn or client.describe_table(TableName=params.table)["Table"]["TableArn"]
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return f"Table {params.table} no longer exists; nothing to resume."
        raise
    waited = 0.0
    while True:
        doc = get_policy(client, arn)
        ours, changed, keep = _split(_statements(doc), params)
        found = "; ".join(f"statement {s.get('Sid')} is now {s.get('Effect')}" for s in changed)
        if not ours and changed:
            raise ChangedSince(f"{found} in the resource policy of {params.table}")
        if not ours:
            # Reads are eventually consistent: look again before calling it done.
            if waited >= POLICY_SETTLE_S:
                return f"No replication-deny statement of this run is on {params.table}; nothing to remove."
        else:
            try:
                keep = keep + changed
                if keep:
                    client.put_resource_policy(ResourceArn=arn, Policy=json.dumps({**(doc or {}), "Statement": keep}))
                else:
                    client.delete_resource_policy(ResourceArn=arn)
            except Exception as exc:
                if error_code(exc) not in RETRY_CODES or waited >= POLICY_SETTLE_S:
                    raise
            else:
                if changed:
                    raise ChangedSince(f"{found} in the resource policy of {params.table} (removed the run's "
                                       f"other deny statement(s))")
                tail = f"kept {len(keep)} other statement(s)" if keep else "deleted the policy, nothing else was in it"
                return f"Replication into {params.table} resumes: removed the deny statements ({tail})."
        ctx.clock.sleep(POLICY_POLL_S)
        waited += POLICY_POLL_S


# --- canaries ------------------------------------------------------------------------------

HEAD = "head"
RESERVE = 100


def canary_pk(run_id: str, seq: int | str) -> str:
    return f"drtool-canary#{run_id}#{seq}"


def key_of(key_attr: str, sort_key: dict[str, str] | None, pk: str) -> dict[str, Any]:
    """A canary's full primary key (a table with a sort key gets a constant sort value)."""
    key: dict[str, Any] = {key_attr: {"S": pk}}
    if sort_key:
        key[sort_key["name"]] = {sort_key["type"]: "0"}
    return key


class DeleteCanariesParams(Params):
    table: str
    replica_table: str
    replica_region: str
    run_id: str = Field(min_length=1)
    key: str = "pk"
    sort_key: dict[str, str] | None = Field(default=None, description="{name, type} of the table's sort key")


def _reserved(client: Any, table: str, params: DeleteCanariesParams) -> int | None:
    """The head item's reservation: every canary seq of the run is below it."""
    try:
        item = client.get_item(TableName=table, ConsistentRead=True,
                               Key=key_of(params.key, params.sort_key, canary_pk(params.run_id, HEAD))).get("Item")
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    return int(item["reserved"]["N"]) if item else None


def _delete_keys(client: Any, table: str, keys: list[dict[str, Any]]) -> None:
    for start in range(0, len(keys), 25):
        pending = {table: [{"DeleteRequest": {"Key": k}} for k in keys[start:start + 25]]}
        for _ in range(8):
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
        if pending:
            raise DrToolError(f"DynamoDB left {len(pending.get(table, []))} canary deletes unprocessed in {table}")


@undo("dynamodb.delete-canaries", summary="Remove a run's RPO canary items from the table and its replica",
      params=DeleteCanariesParams, iam=["dynamodb:GetItem", "dynamodb:BatchWriteItem"])
def delete_canaries(ctx: StepContext, params: DeleteCanariesParams) -> str:
    """The writer keeps a head item whose `reserved` bounds every seq it may have written, so
    removal deletes by key (never scans the table). Replica first, head item last."""
    stores = [(ctx.client("dynamodb", params.replica_region), params.replica_table),
              (ctx.client("dynamodb", params.region), params.table)]
    bounds = [b for client, table in stores if (b := _reserved(client, table, params)) is not None]
    if not bounds:
        return f"No canary of run {params.run_id} is left in {params.table} or its replica."
    bound = max(bounds)
    for client, table in stores:
        keys = [key_of(params.key, params.sort_key, canary_pk(params.run_id, s)) for s in range(bound)]
        _delete_keys(client, table, keys)
        _delete_keys(client, table, [key_of(params.key, params.sort_key, canary_pk(params.run_id, HEAD))])
    return (f"Removed the canary items of run {params.run_id} (seq 0-{bound - 1} and the head item) from "
            f"{params.table} and {params.replica_table} ({params.replica_region}).")
