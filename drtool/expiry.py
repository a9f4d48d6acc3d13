"""The dead man's switch, resource side: when a run expires, and tags saying so.

Every resource a run changes (with an undo) carries `drtool:run-id` and
`drtool:expires-at` (RFC 3339), so anyone looking at it in the console, and any tool,
sees which drill changed it and from when it counts as abandoned. `drtool rollback
--expired` works from the journals (drtool.sweeper); the tags are the evidence on the
resource itself. Tagging is best effort: a failure is journaled as a note and never fails
the drill. Route 53 records cannot be tagged (only health checks and hosted zones can,
Route 53 API: ChangeTagsForResource); the journal covers them.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterable
from typing import Any

from drtool.aws.arns import parse_arn
from drtool.context import RUN_TAG

EXPIRES_TAG = "drtool:expires-at"
DEFAULT_MARGIN_S = 15 * 60.0            # time for the runner's own rollback after the time limit
DEFAULT_LIMIT_S = 6 * 3600.0            # a drill without guardrails.time_limit

_EC2_ID = re.compile(r"^(i|vpc|subnet|acl|vol|sg|snap|eni|rtb|igw|nat|eipalloc|lt|tgw|vpce)-[0-9a-f]{8,17}$")


def expires_at(started: float, time_limit: float | None, margin: float = DEFAULT_MARGIN_S) -> float:
    """start + time_limit (or 6 h without one) + margin: after this the run counts as dead."""
    return started + (time_limit if time_limit is not None else DEFAULT_LIMIT_S) + margin


def classify(resource: str, undo_name: str | None = None) -> tuple[str, str] | None:
    """(kind, identifier) for a journaled resource id, or None when it cannot be tagged.

    Kinds: ec2, autoscaling, rds, s3, dynamodb, route53-healthcheck. A bare name is
    read through the undo that restores it (autoscaling.*, rds.*, dynamodb.*, the
    Route 53 health-check undo)."""
    if (undo_name or "").endswith(".delete-canaries"):
        return None                       # canaries carry the run id in their keys; the store is not ours
    arn = parse_arn(resource)
    if arn is not None:
        if arn.service == "s3":
            return "s3", arn.resource.split("/", 1)[0]
        if arn.service in ("rds", "dynamodb"):
            return arn.service, resource
        if arn.service == "autoscaling":
            return "autoscaling", arn.resource.rsplit("autoScalingGroupName/", 1)[-1]
        if arn.service == "ec2":
            return "ec2", arn.resource.rsplit("/", 1)[-1]
        if arn.service == "route53" and arn.resource.startswith("healthcheck/"):
            return "route53-healthcheck", arn.resource.split("/", 1)[1]
        return None
    if _EC2_ID.match(resource):
        return "ec2", resource
    if "/" in resource:
        return None                       # a Route 53 record (zone/name): cannot be tagged
    hint = undo_name or ""
    if hint.startswith("autoscaling."):
        return "autoscaling", resource
    if hint.startswith("rds."):
        return "rds-name", resource
    if hint.startswith("dynamodb."):
        return "dynamodb-name", resource
    if hint == "route53.restore-health-check":
        return "route53-healthcheck", resource
    return None


def tag_changed(ctx: Any, resource_ids: Iterable[str], expires_at: float, undo_name: str | None = None) -> list[str]:
    """Tag each changed resource with the run id and expiry; return the ids tagged.
    Never raises: a failure is journaled as a note."""
    tags = {RUN_TAG: ctx.run_id, EXPIRES_TAG: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at))}
    return _apply(ctx, resource_ids, undo_name, tags, remove=False)


def untag(ctx: Any, resource_ids: Iterable[str], undo_name: str | None = None) -> list[str]:
    """Remove the two tags again (after an undo restored the resource). Best effort."""
    return _apply(ctx, resource_ids, undo_name, {RUN_TAG: "", EXPIRES_TAG: ""}, remove=True)


def _apply(ctx: Any, resource_ids: Iterable[str], undo_name: str | None, tags: dict[str, str],
           remove: bool) -> list[str]:
    done = []
    for resource in resource_ids:
        target = classify(resource, undo_name)
        if target is None:
            continue
        try:
            _TAGGERS[target[0]](ctx, target[1], tags, remove)
            done.append(resource)
        except Exception as exc:  # noqa: BLE001 - tags are evidence, never a reason to fail the drill
            what = "remove the run tags from" if remove else "tag"
            with contextlib.suppress(Exception):
                ctx.note(f"could not {what} {resource}: {type(exc).__name__}: {exc}")
    return done


def _ec2(ctx: Any, ident: str, tags: dict[str, str], remove: bool) -> None:
    client = ctx.client("ec2")
    if remove:
        client.delete_tags(Resources=[ident], Tags=[{"Key": k} for k in tags])
    else:
        client.create_tags(Resources=[ident], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


def _autoscaling(ctx: Any, ident: str, tags: dict[str, str], remove: bool) -> None:
    client = ctx.client("autoscaling")
    items = [{"ResourceId": ident, "ResourceType": "auto-scaling-group", "Key": k, "Value": v,
              "PropagateAtLaunch": False} for k, v in tags.items()]
    (client.delete_tags if remove else client.create_or_update_tags)(Tags=items)


def _rds(ctx: Any, arn: str, tags: dict[str, str], remove: bool) -> None:
    client = ctx.client("rds")
    if remove:
        client.remove_tags_from_resource(ResourceName=arn, TagKeys=list(tags))
    else:
        client.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


def _rds_name(ctx: Any, name: str, tags: dict[str, str], remove: bool) -> None:
    """A bare RDS name: an instance, else a cluster (AddTagsToResource needs the ARN)."""
    client = ctx.client("rds")
    try:
        arn = client.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]["DBInstanceArn"]
    except client.exceptions.DBInstanceNotFoundFault:
        arn = client.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["DBClusterArn"]
    _rds(ctx, arn, tags, remove)


def _s3(ctx: Any, bucket: str, tags: dict[str, str], remove: bool) -> None:
    """PutBucketTagging replaces the whole tag set (S3 API reference): read, merge, write."""
    client = ctx.client("s3")
    try:
        current = client.get_bucket_tagging(Bucket=bucket)["TagSet"]
    except client.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchTagSet":
            raise
        current = []
    merged = {t["Key"]: t["Value"] for t in current if t["Key"] not in tags}
    if not remove:
        merged.update(tags)
    if merged:
        client.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v}
                                                                     for k, v in merged.items()]})
    elif current:
        client.delete_bucket_tagging(Bucket=bucket)


def _dynamodb(ctx: Any, arn: str, tags: dict[str, str], remove: bool) -> None:
    parsed = parse_arn(arn)
    client = ctx.client("dynamodb", parsed.region if parsed else None)
    if remove:
        client.untag_resource(ResourceArn=arn, TagKeys=list(tags))
    else:
        client.tag_resource(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


def _dynamodb_name(ctx: Any, name: str, tags: dict[str, str], remove: bool) -> None:
    arn = ctx.client("dynamodb").describe_table(TableName=name)["Table"]["TableArn"]
    _dynamodb(ctx, arn, tags, remove)


def _health_check(ctx: Any, ident: str, tags: dict[str, str], remove: bool) -> None:
    client = ctx.client("route53")
    change = {"RemoveTagKeys": list(tags)} if remove else \
        {"AddTags": [{"Key": k, "Value": v} for k, v in tags.items()]}
    client.change_tags_for_resource(ResourceType="healthcheck", ResourceId=ident, **change)


_TAGGERS = {"ec2": _ec2, "autoscaling": _autoscaling, "rds": _rds, "rds-name": _rds_name, "s3": _s3,
            "dynamodb": _dynamodb, "dynamodb-name": _dynamodb_name, "route53-healthcheck": _health_check}


def untag_undone(events: list[dict[str, Any]], session: Any, started: dict[str, Any], clock: Any = None) -> None:
    """Best effort: take the run tags off every resource whose change was undone."""
    from drtool.context import StepContext
    from drtool.timing import SystemClock

    done = {e["intent"] for e in events if e["event"] == "undo.done"}
    default = (started.get("aws") or {}).get("default_region")
    for e in events:
        if e["event"] == "change.intent" and e["seq"] in done and e.get("resources"):
            region = e.get("region") or default or session.default_region
            ctx = StepContext(aws=session, clock=clock or SystemClock(), region=region, run_id=started["run_id"],
                              drill=started.get("drill", ""), account=e.get("account"))
            untag(ctx, e["resources"], (e.get("undo") or {}).get("name"))
