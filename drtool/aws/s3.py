"""S3: pause and resume a bucket's replication rules, and remove RPO canaries (spec section 5)."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import Field

from drtool.aws.errors import error_code
from drtool.context import StepContext
from drtool.errors import ChangedSince, DrToolError
from drtool.registry import Params, action, undo
from drtool.resources import Outcome, Resource, UndoSpec
from drtool.timing import rfc3339

NO_CONFIG = ("ReplicationConfigurationNotFoundError", "NoSuchReplicationConfiguration")
# S3 replicates only objects written while a rule is enabled; objects written while it is
# disabled never replicate later and need S3 Batch Replication (S3 User Guide, "Replicating
# existing objects with Batch Replication",
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html).
PAUSE_WARNING = ("native pause: objects written while the rules are disabled are NEVER replicated later "
                 "(the scorecard lists them for S3 Batch Replication); prefer fis.experiment with "
                 "aws:s3:bucket-pause-replication, which replicates them after the pause")
COUNT_PAGES = 20   # at most 20,000 keys are counted when listing what the pause left behind


def replication_config(client: Any, bucket: str) -> dict[str, Any] | None:
    """The bucket's replication configuration, or None when it has none."""
    try:
        return client.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
    except Exception as exc:
        if error_code(exc) in NO_CONFIG:
            return None
        raise


def rule_id(rule: dict[str, Any], index: int) -> str:
    """A rule's ID (AWS always assigns one; `#index` for a configuration without)."""
    return rule.get("ID") or f"#{index}"


def _set_status(client: Any, bucket: str, config: dict[str, Any], ids: set[str], status: str) -> Any:
    new = copy.deepcopy(config)
    for i, rule in enumerate(new["Rules"]):
        if rule_id(rule, i) in ids:
            rule["Status"] = status
    return client.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=new)


class BucketParams(Params):
    bucket: str = Field(description="source bucket of the replication")


def _touches_bucket(ctx: StepContext, params: BucketParams) -> list[Resource]:
    """The bucket whose replication is paused, with its tags, for `require_tags` (read-only)."""
    region = params.region or ctx.region
    try:
        tags = ctx.client("s3", region).get_bucket_tagging(Bucket=params.bucket)["TagSet"]
        missing = False
    except Exception as exc:
        if error_code(exc) not in ("NoSuchTagSet", "NoSuchBucket"):
            raise
        tags, missing = [], error_code(exc) == "NoSuchBucket"
    return [Resource(id=params.bucket, type="s3:bucket", region=region, arn=f"arn:aws:s3:::{params.bucket}",
                     tags={t["Key"]: t["Value"] for t in tags}, attrs={"missing": missing})]


@action("s3.pause-replication", summary="Disable a bucket's enabled replication rules (undo: re-enable them; "
        "objects written meanwhile are listed in follow_up for S3 Batch Replication)",
        params=BucketParams, undo="s3.resume-replication", touches=_touches_bucket, plan_warning=PAUSE_WARNING,
        iam=["s3:GetReplicationConfiguration", "s3:PutReplicationConfiguration", "iam:PassRole",
             "s3:GetBucketTagging"])
def pause_replication(ctx: StepContext, params: BucketParams, targets: list[Resource]) -> Outcome:
    """Objects written while a rule is disabled are never replicated later (unlike FIS's pause):
    the undo counts them and records a follow-up naming S3 Batch Replication."""
    client = ctx.client("s3", params.region)
    config = replication_config(client, params.bucket)
    if config is None:
        raise DrToolError(f"bucket {params.bucket} has no replication configuration to pause",
                          "check `bucket`: name the replication source bucket")
    enabled = [rule_id(r, i) for i, r in enumerate(config.get("Rules") or []) if r.get("Status") == "Enabled"]
    if not enabled:
        return Outcome(f"No replication rule of {params.bucket} is enabled; nothing paused.", {"rules": []})
    region = params.region or ctx.region
    ctx.change(f"disable replication rule(s) {', '.join(enabled)} of bucket {params.bucket}",
               lambda: _set_status(client, params.bucket, config, set(enabled), "Disabled"),
               undo=UndoSpec("s3.resume-replication",
                             {"bucket": params.bucket, "rule_ids": enabled,
                              "applied": {r: "Disabled" for r in enabled}, "region": region,
                              "paused_at": ctx.clock.now()}, region),
               resources=[f"arn:aws:s3:::{params.bucket}"])
    return Outcome(f"Paused replication of {params.bucket}: disabled rule(s) {', '.join(enabled)}.",
                   {"bucket": params.bucket, "rules": enabled})


class ResumeParams(BucketParams):
    rule_ids: list[str] = Field(min_length=1, description="exactly the rules the pause disabled")
    applied: dict[str, str] | None = Field(default=None, description="rule id -> the Status the drill set "
                                           "(absent in journals written before the check existed)")
    paused_at: float | None = Field(default=None, description="epoch seconds of the pause (objects written "
                                    "since are listed in follow_up)")


@undo("s3.resume-replication", summary="Re-enable the replication rules a drill disabled (those still disabled)",
      params=ResumeParams, iam=["s3:GetReplicationConfiguration", "s3:PutReplicationConfiguration", "iam:PassRole"])
def resume_replication(ctx: StepContext, params: ResumeParams) -> str:
    """Per rule, compare and swap: Enabled -> done (re-enabled, or never paused); the drill's
    status -> re-enable it; gone (rule or whole configuration) -> left as found. The rules still
    ours are re-enabled even when another one was left as found. PutBucketReplication replaces
    the whole configuration (S3 API Reference), so it is re-read and only their Status changes."""
    client = ctx.client("s3", params.region)
    config = replication_config(client, params.bucket)
    if config is None:
        raise ChangedSince(f"bucket {params.bucket} has no replication configuration any more; rule(s) "
                           f"{', '.join(params.rule_ids)} the drill disabled are gone")
    rules = {rule_id(r, i): r for i, r in enumerate(config.get("Rules") or [])}
    applied = params.applied or {}
    changed = [f"rule {r} is gone" for r in params.rule_ids if r not in rules]
    changed += [f"rule {r} is {rules[r].get('Status')}" for r in params.rule_ids if r in rules and r in applied
                and rules[r].get("Status") not in ("Enabled", applied[r])]
    todo = [r for r in params.rule_ids if r in rules and rules[r].get("Status") != "Enabled"
            and rules[r].get("Status") == applied.get(r, rules[r].get("Status"))]
    if todo:
        _set_status(client, params.bucket, config, set(todo), "Enabled")
        if params.paused_at is not None:
            _follow_up_unreplicated(ctx, client, params, [rules[r] for r in todo])
    sentence = (f"Re-enabled replication rule(s) {', '.join(todo)} of {params.bucket}." if todo
                else f"Replication rule(s) of {params.bucket} the drill disabled are already enabled.")
    if changed:
        raise ChangedSince(f"{'; '.join(changed)} in bucket {params.bucket}" + (f" ({sentence})" if todo else ""))
    return sentence


def _rule_prefix(rule: dict[str, Any]) -> str:
    flt = rule.get("Filter") or {}
    return str(flt.get("Prefix") or (flt.get("And") or {}).get("Prefix") or rule.get("Prefix") or "")


def _follow_up_unreplicated(ctx: StepContext, client: Any, params: ResumeParams, rules: list[dict[str, Any]]) -> None:
    """Count the objects written under the re-enabled rules since the pause, and record how
    to replicate them: an S3 Batch Replication job whose generated manifest takes the
    objects never replicated (ObjectReplicationStatuses NONE) created in the window (S3 User
    Guide, "Create a Batch Replication job for existing replication rules" and "Getting
    replication status information", replication-status.html)."""
    # LastModified has whole seconds: count from the second of the pause (may include an
    # object written in that second just before it).
    since, until = float(int(params.paused_at or 0)), ctx.clock.now()
    prefixes = sorted({_rule_prefix(r) for r in rules})
    count, capped = 0, False
    for prefix in ([""] if "" in prefixes else prefixes):
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=params.bucket, Prefix=prefix)
        for number, page in enumerate(pages):
            if number >= COUNT_PAGES:
                capped = True
                break
            count += sum(1 for o in page.get("Contents") or [] if o["LastModified"].timestamp() >= since)
    if not count:
        return
    start, end = rfc3339(since), rfc3339(until)
    ctx.follow_up(
        f"arn:aws:s3:::{params.bucket}",
        f"{'at least ' if capped else ''}{count} object(s) written to {params.bucket} while replication rule(s) "
        f"{', '.join(params.rule_ids)} were disabled ({start} to {end}) were not replicated and never will be",
        "S3 does not replicate objects written while a rule is disabled. Replicate them with an S3 Batch "
        "Replication job (https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
        "s3-batch-replication-existing-config.html): `aws s3control create-job` with operation S3ReplicateObject "
        f"and an S3JobManifestGenerator on source bucket arn:aws:s3:::{params.bucket} filtered by "
        f"EligibleForReplication=true, ObjectReplicationStatuses=[NONE], CreatedAfter={start}, "
        f"CreatedBefore={end}")


# --- canaries ------------------------------------------------------------------------------


def canary_prefix(prefix: str, run_id: str) -> str:
    """Where a run's canaries live: `{prefix}{run_id}/`."""
    return f"{prefix}{run_id}/"


def canary_key(prefix: str, run_id: str, seq: int) -> str:
    return f"{canary_prefix(prefix, run_id)}{seq:08d}"


class DeleteCanariesParams(Params):
    bucket: str
    replica_bucket: str
    replica_region: str | None = None
    prefix: str = Field(min_length=1)
    run_id: str = Field(min_length=1)


def _purge(client: Any, bucket: str, prefix: str) -> int:
    """Delete every version and delete marker under `prefix`; returns how many went."""
    doomed: list[dict[str, str]] = []
    try:
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
            for item in (page.get("Versions") or []) + (page.get("DeleteMarkers") or []):
                doomed.append({"Key": item["Key"], "VersionId": item.get("VersionId") or "null"})
    except Exception as exc:
        if error_code(exc) == "NoSuchBucket":
            return 0
        raise
    for start in range(0, len(doomed), 1000):
        chunk = doomed[start:start + 1000]
        errors = client.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True}).get("Errors") or []
        if errors:
            first = errors[0]
            raise DrToolError(f"could not delete {len(errors)} canary object(s) in {bucket}: "
                              f"{first.get('Code')}: {first.get('Message')} ({first.get('Key')})",
                              "an Object Lock retention or a bucket policy may protect them")
    return len(doomed)


@undo("s3.delete-canaries", summary="Remove a run's RPO canary objects (every version) from both buckets",
      params=DeleteCanariesParams,
      iam=["s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion"])
def delete_canaries(ctx: StepContext, params: DeleteCanariesParams) -> str:
    """The replica goes first; replication of a late canary is the only thing that can refill it."""
    where = canary_prefix(params.prefix, params.run_id)
    replica = _purge(ctx.client("s3", params.replica_region or params.region), params.replica_bucket, where)
    primary = _purge(ctx.client("s3", params.region), params.bucket, where)
    if not replica and not primary:
        return f"No canary of run {params.run_id} is left in {params.bucket} or {params.replica_bucket}."
    return (f"Removed {primary} canary object version(s) from {params.bucket} and {replica} from "
            f"{params.replica_bucket} (prefix {where}).")
