"""Route 53: fail a record over (UPSERT a value, or invert the PRIMARY's health check) and the
`route53.points-to` probe, which works out the answer Route 53 would give."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from pydantic import Field

from drtool.aws.errors import error_code
from drtool.aws.route53_health import (
    ROUTING_CHANGES,
    Answer,
    Health,
    HealthReader,
    answer,
    clock_text,
    values_of,
    wait_insync,
)
from drtool.context import StepContext
from drtool.errors import ChangedSince, DrToolError
from drtool.registry import Params, action, probe, undo
from drtool.resources import Outcome, ProbeResult, Resource, UndoSpec

ARC_READ_IAM = ["route53-recovery-control-config:DescribeControlPanel",
                "route53-recovery-control-config:DescribeCluster", "route53-recovery-cluster:GetRoutingControlState"]
READ_IAM = ["route53:ListHostedZonesByName", "route53:GetHostedZone", "route53:ListResourceRecordSets"]


def norm(name: str) -> str:
    """Lower-case, absolute DNS name (`\\052` unescaped) for comparisons."""
    return name.replace("\\052", "*").lower().rstrip(".") + "."


def zone_lookup(client: Any, zone: str) -> tuple[str, str]:
    """(zone id, zone name) for a zone given by id (`Z123`, `/hostedzone/Z123`) or by name."""
    if zone.startswith("/hostedzone/") or "." not in zone.rstrip("."):
        found = client.get_hosted_zone(Id=zone.rsplit("/", 1)[-1])["HostedZone"]
        return found["Id"].rsplit("/", 1)[-1], found["Name"]
    zones = client.list_hosted_zones_by_name(DNSName=zone, MaxItems="10")["HostedZones"]
    matches = [z for z in zones if norm(z["Name"]) == norm(zone)]
    if not matches:
        raise DrToolError(f"hosted zone {zone!r} not found", "give the zone's name or id")
    if len(matches) > 1:
        ids = ", ".join(z["Id"].rsplit("/", 1)[-1] for z in matches)
        raise DrToolError(f"more than one hosted zone is named {zone!r} ({ids})", "give the zone id instead")
    return matches[0]["Id"].rsplit("/", 1)[-1], matches[0]["Name"]


def fqdn(record: str, zone_name: str) -> str:
    """`app` or `app.shop.example.com` in zone `shop.example.com.` -> `app.shop.example.com.`"""
    name, zone = norm(record), norm(zone_name)
    return name if name == zone or name.endswith("." + zone) else norm(f"{record.rstrip('.')}.{zone}")


def record_sets(client: Any, zone_id: str, name: str) -> list[dict[str, Any]]:
    """Every record set named exactly `name` (Route 53 lists in name order, so stop at the next name)."""
    kwargs: dict[str, Any] = {"HostedZoneId": zone_id, "StartRecordName": name, "MaxItems": "100"}
    found: list[dict[str, Any]] = []
    while True:
        page = client.list_resource_record_sets(**kwargs)
        for rs in page["ResourceRecordSets"]:
            if norm(rs["Name"]) != norm(name):
                return found
            found.append(rs)
        if not page.get("IsTruncated"):
            return found
        kwargs.update(StartRecordName=page["NextRecordName"], StartRecordType=page["NextRecordType"])
        if page.get("NextRecordIdentifier"):
            kwargs["StartRecordIdentifier"] = page["NextRecordIdentifier"]
        else:
            kwargs.pop("StartRecordIdentifier", None)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _same_value(a: str, b: str) -> bool:
    return (a == b) if _is_ip(a) or _is_ip(b) else norm(a) == norm(b)


def _infer_type(value: str) -> str:
    if _is_ip(value):
        return "AAAA" if ":" in value else "A"
    return "CNAME"


def _find(sets: list[dict[str, Any]], rtype: str | None, set_identifier: str | None) -> list[dict[str, Any]]:
    return [rs for rs in sets if (rtype is None or rs["Type"] == rtype)
            and rs.get("SetIdentifier") == set_identifier]


def canon(rs: dict[str, Any] | None) -> str:
    """A record set in a canonical form, for exact comparisons."""
    if rs is None:
        return "null"
    records = sorted(r["Value"] for r in rs.get("ResourceRecords") or [])
    return json.dumps({**rs, "Name": norm(rs["Name"]), "ResourceRecords": records}, sort_keys=True, default=str)


def _change(client: Any, zone_id: str, action_name: str, rs: dict[str, Any], comment: str) -> Any:
    return client.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
        "Comment": comment[:256], "Changes": [{"Action": action_name, "ResourceRecordSet": rs}]})


# --- health and answer (drtool.aws.route53_health has the Route 53 rules) ------------------


def reader_for(ctx: StepContext, client: Any) -> HealthReader:
    """A HealthReader that reads routing controls through the ARC cluster and ALBs through elbv2."""
    from drtool.aws import arc

    return HealthReader(client, routing_control_state=lambda a: arc.state_for_health_check(ctx, a),
                        elbv2=lambda r: ctx.client("elbv2", r))


def health_of(client: Any, health_check_id: str | None) -> Health:
    """Route 53's verdict on one health check (see drtool.aws.route53_health)."""
    return HealthReader(client).check(health_check_id)


def resolve_answer(client: Any, zone_id: str, name: str, rtype: str | None = None,
                   reader: HealthReader | None = None) -> Answer:
    """The answer Route 53 gives for `name` (failover: PRIMARY unless unhealthy, then the
    SECONDARY unless that is unhealthy too). Public so the sandbox can follow DNS the same way."""
    sets = [rs for rs in record_sets(client, zone_id, name) if rtype is None or rs["Type"] == rtype]
    return answer(reader or HealthReader(client), zone_id, name, sets, lambda n: record_sets(client, zone_id, n))


# --- failover ----------------------------------------------------------------------------


class FailoverParams(Params):
    zone: str = Field(description="hosted zone name or id")
    record: str = Field(description="record name (absolute, or relative to the zone)")
    value: str | None = Field(default=None, description="UPSERT the record to this value. Required: "
                              "failover pairs are failed over with ARC routing controls (arc.set-routing-control)")
    set_identifier: str | None = Field(default=None, description="which record set (routing policies)")
    type: str | None = Field(default=None, description="record type (default: the existing one, else "
                             "A/AAAA for an IP, CNAME otherwise)")
    ttl: int = Field(default=60, ge=0, description="TTL when the record is created")
    insync_timeout: float = Field(default=300.0, ge=0, description="seconds to wait for the change to reach "
                                  "INSYNC (GetChange); 0 = do not wait")


def _touches_zone(ctx: StepContext, params: FailoverParams) -> list[Resource]:
    """The hosted zone whose record is changed, with its tags, for `require_tags` (read-only)."""
    client = ctx.client("route53", params.region)
    try:
        zone_id, _name = zone_lookup(client, params.zone)
    except DrToolError:
        return [Resource(id=params.zone, type="route53:hostedzone", region="global", attrs={"missing": True})]
    except Exception as exc:
        if error_code(exc) != "NoSuchHostedZone":
            raise
        return [Resource(id=params.zone, type="route53:hostedzone", region="global", attrs={"missing": True})]
    tags = client.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)["ResourceTagSet"].get("Tags", [])
    return [Resource(id=zone_id, type="route53:hostedzone", region="global", arn=f"arn:aws:route53:::hostedzone/{zone_id}",
                     tags={t["Key"]: t["Value"] for t in tags})]


@action("route53.failover",
        summary="UPSERT a simple record to `value` and wait until INSYNC (undo: restore it); failover pairs "
                "are refused (use arc.set-routing-control)",
        params=FailoverParams, undo="route53.restore-record", undos=("route53.restore-health-check",),
        touches=_touches_zone,
        iam=[*READ_IAM, "route53:ChangeResourceRecordSets", "route53:ListTagsForResource", "route53:GetChange"])
def failover(ctx: StepContext, params: FailoverParams, targets: list[Resource]) -> Outcome:
    client = ctx.client("route53", params.region)
    zone_id, zone_name = zone_lookup(client, params.zone)
    name = fqdn(params.record, zone_name)
    sets = record_sets(client, zone_id, name)
    if params.value is None or (params.set_identifier is None and any(rs.get("Failover") for rs in sets)):
        raise _refuse_pair(name, sets)
    return _upsert_value(ctx, client, params, zone_id, name, sets)


def _refuse_pair(name: str, sets: list[dict[str, Any]]) -> DrToolError:
    """Why drtool no longer inverts a PRIMARY's health check: `Inverted` flips the verdict, so
    during a region loss the failing check becomes *healthy* and Route 53 keeps answering the
    dead PRIMARY (API_UpdateHealthCheck, `Inverted`). AWS recommends ARC routing controls, a
    data-plane switch, for failover (ARC developer guide; Route 53's control plane lives in
    us-east-1)."""
    if any(rs.get("Failover") for rs in sets):
        return DrToolError(f"{name} is a PRIMARY/SECONDARY failover pair: drtool does not fail it over by "
                           f"inverting a health check (inverting a failing check makes it healthy, so Route 53 "
                           f"would keep answering the dead PRIMARY)",
                           "attach routing control health checks (Type RECOVERY_CONTROL) to the pair and use "
                           "`arc.set-routing-control`, or give `value` with `set_identifier` to UPSERT one record")
    return DrToolError(f"route53.failover needs `value` for {name}", "give the value the record should answer")


# Changes this process submitted, for points-to: (run id, zone id, name) -> (change id, INSYNC at).
SUBMITTED: dict[tuple[str, str, str], tuple[str, float | None]] = {}


def _upsert_value(ctx: StepContext, client: Any, params: FailoverParams, zone_id: str, name: str,
                  sets: list[dict[str, Any]]) -> Outcome:
    value = params.value or ""
    found = _find(sets, params.type, params.set_identifier)
    if len(found) > 1:
        raise DrToolError(f"{name} has several record sets ({', '.join(rs['Type'] for rs in found)})",
                          "give `type` (and `set_identifier` for routing policies)")
    previous = found[0] if found else None
    if previous is None and params.set_identifier:
        raise DrToolError(f"{name} has no record set with identifier {params.set_identifier!r}",
                          "a routed record cannot be created by a failover step; check `set_identifier`")
    if previous is not None:
        new = {k: v for k, v in previous.items() if k not in ("AliasTarget", "ResourceRecords")}
        new.setdefault("TTL", params.ttl)
    else:
        new = {"Name": name, "Type": params.type or _infer_type(value), "TTL": params.ttl}
    new["ResourceRecords"] = [{"Value": value}]
    if previous is not None and values_of(previous) == values_of(new) and not previous.get("AliasTarget"):
        return Outcome(f"{name} ({previous['Type']}) already answers {value}; nothing changed.",
                       {"record": name, "value": value})
    was = ", ".join(values_of(previous)) if previous else "absent"
    result = ctx.change(f"UPSERT {name} {new['Type']} -> {value} (was {was})",
               lambda: _change(client, zone_id, "UPSERT", new, f"drtool run {ctx.run_id}: failover"),
               undo=UndoSpec("route53.restore-record",
                             {"zone_id": zone_id, "name": name, "type": new["Type"],
                              "set_identifier": params.set_identifier, "previous": previous,
                              "applied": new, "region": params.region}, params.region),
               resources=[f"{zone_id}/{name}"])
    change_id = str(result["ChangeInfo"]["Id"])
    insync = wait_insync(ctx.clock, client, change_id, params.insync_timeout) if params.insync_timeout else None
    SUBMITTED[(ctx.run_id, zone_id, norm(name))] = (change_id, insync)
    if insync is not None:
        ROUTING_CHANGES[ctx.run_id] = insync
    synced = "INSYNC" if insync is not None else "not yet INSYNC"
    ctx.note(f"Route 53 change {change_id} for {name} is {synced}", change_id=change_id, insync_at=insync)
    return Outcome(f"Pointed {name} ({new['Type']}) at {value} (was {was}); change {synced}.",
                   {"record": name, "value": value, "previous": previous, "change_id": change_id,
                    "insync_at": insync})


class RestoreRecordParams(Params):
    zone_id: str
    name: str
    type: str
    set_identifier: str | None = None
    previous: dict[str, Any] | None = Field(default=None, description="the record set before (None: it did not exist)")
    applied: dict[str, Any]


def _answers(rs: dict[str, Any] | None) -> str:
    """What a record set answers, in words (for "found" messages)."""
    return f"{rs['Type']} {', '.join(values_of(rs)) or 'no value'}" if rs else "absent"


def _holds(now: dict[str, Any] | None, applied: dict[str, Any]) -> bool:
    """The record still answers what the drill UPSERTed (type and values)."""
    return now is not None and now["Type"] == applied["Type"] and sorted(values_of(now)) == sorted(values_of(applied))


@undo("route53.restore-record", summary="Put a record set back exactly as it was, or delete the one a drill created "
      "(only if it still answers what the drill set)",
      params=RestoreRecordParams, iam=[*READ_IAM, "route53:ChangeResourceRecordSets"])
def restore_record(ctx: StepContext, params: RestoreRecordParams) -> str:
    """Compare and swap: as it was -> done (restored, or the UPSERT never happened); answering
    the drill's value -> restore (or delete); anything else -> someone changed it: left as found.
    Checked on state before and after: Route 53 (and moto) accept a DELETE of a missing
    record silently, so success is never taken from the response."""
    client = ctx.client("route53", params.region)

    def current() -> dict[str, Any] | None:
        found = _find(record_sets(client, params.zone_id, params.name), params.type, params.set_identifier)
        return found[0] if found else None

    now = current()
    label = f"{params.name} ({params.type})"
    if params.previous is None:
        if now is None:
            return f"{label} is already absent."
        if not _holds(now, params.applied):
            raise ChangedSince(f"{label} answers {_answers(now)}, not the {_answers(params.applied)} the drill "
                               f"created")
        # A DELETE must name the record set exactly as it is (ChangeResourceRecordSets: "the values
        # that you specify for the record set must match the existing record set"), so send `now`.
        _change(client, params.zone_id, "DELETE", now, f"drtool rollback: remove {params.name}")
        if current() is not None:
            raise DrToolError(f"deleted {label}, but it is still listed")
        return f"Deleted {label}, which the drill had created."
    if canon(now) == canon(params.previous):
        return f"{label} is already as it was ({', '.join(values_of(params.previous))})."
    if not _holds(now, params.applied):
        raise ChangedSince(f"{label} answers {_answers(now)}, not the drill's {_answers(params.applied)} "
                           f"(before the drill: {_answers(params.previous)})")
    # UPSERT replaces the whole record set with `previous` (ChangeResourceRecordSets, UPSERT).
    _change(client, params.zone_id, "UPSERT", params.previous, f"drtool rollback: restore {params.name}")
    if canon(current()) != canon(params.previous):
        raise DrToolError(f"restored {label}, but Route 53 does not list it as it was")
    return f"Restored {label} to {', '.join(values_of(params.previous))}."


class RestoreHealthCheckParams(Params):
    health_check_id: str
    inverted: bool = Field(description="the Inverted value before the drill")
    applied: bool | None = Field(default=None, description="the Inverted value the drill set (absent in "
                                 "journals written before the check existed)")


@undo("route53.restore-health-check", summary="Set a health check's Inverted flag back", params=RestoreHealthCheckParams,
      iam=["route53:GetHealthCheck", "route53:UpdateHealthCheck"])
def restore_health_check(ctx: StepContext, params: RestoreHealthCheckParams) -> str:
    """Compare and swap on the Inverted flag. A boolean has no third value: at the original
    value it is restored (or the update never happened), otherwise it holds the drill's `applied`
    value and is set back."""
    client = ctx.client("route53", params.region)
    try:
        config = client.get_health_check(HealthCheckId=params.health_check_id)["HealthCheck"]["HealthCheckConfig"]
    except Exception as exc:
        if error_code(exc) == "NoSuchHealthCheck":
            return f"Health check {params.health_check_id} no longer exists; nothing to restore."
        raise
    word = "inverted" if params.inverted else "not inverted"
    now = bool(config.get("Inverted"))
    if now == params.inverted:
        return f"Health check {params.health_check_id} is already {word}."
    client.update_health_check(HealthCheckId=params.health_check_id, Inverted=params.inverted)
    return f"Health check {params.health_check_id} is {word} again."


# --- probe -------------------------------------------------------------------------------


class PointsToParams(Params):
    zone: str = Field(description="hosted zone name or id")
    record: str = Field(description="record name (absolute, or relative to the zone)")
    value: str = Field(description="the answer expected")
    type: str | None = Field(default=None, description="record type (default: any)")
    settle_ttl: bool = Field(default=True, description="pass only once the record's TTL has elapsed since "
                             "Route 53 started giving this answer (resolvers may cache the old one until then)")


# First instant each probe saw the expected answer: (run id, zone id, name, value) -> time.
_SEEN: dict[tuple[str, str, str, str], float] = {}
_OTHER: dict[tuple[str, str, str, str], float] = {}   # last instant a probe saw another answer
ALIAS_TTL = 60  # alias records to AWS resources use the resource's TTL, 60 s for ELB (Route 53
                # developer guide, "Choosing between alias and non-alias records")


@probe("route53.points-to",
       summary="Route 53's answer for a record equals `value`, read the way Route 53 decides (18% rule, "
               "Inverted, calculated and routing-control checks, alias target health), INSYNC and past its TTL",
       params=PointsToParams, iam=[*READ_IAM, "route53:GetHealthCheck", "route53:GetHealthCheckStatus",
                                   "route53:GetChange", "elasticloadbalancing:DescribeLoadBalancers",
                                   "elasticloadbalancing:DescribeTargetGroups",
                                   "elasticloadbalancing:DescribeTargetHealth", *ARC_READ_IAM])
def points_to(ctx: StepContext, params: PointsToParams) -> ProbeResult:
    client = ctx.client("route53", params.region)
    zone_id, zone_name = zone_lookup(client, params.zone)
    name = fqdn(params.record, zone_name)
    found = resolve_answer(client, zone_id, name, params.type, reader_for(ctx, client))
    data: dict[str, Any] = {"record": name, "answer": found.values, "how": found.detail}
    key = (ctx.run_id, zone_id, norm(name), params.value)
    if not found.values:
        _SEEN.pop(key, None)
        _OTHER[key] = ctx.clock.now()
        return ProbeResult(False, f"{name} does not exist in zone {zone_name}.", data)
    shown = ", ".join(found.values)
    if not any(_same_value(v, params.value) for v in found.values):
        _SEEN.pop(key, None)
        _OTHER[key] = ctx.clock.now()
        return ProbeResult(False, f"{name} answers {shown}, not {params.value}: {found.detail}.", data)
    submitted = SUBMITTED.get((ctx.run_id, zone_id, norm(name)))
    if submitted is not None and submitted[1] is None:
        if client.get_change(Id=submitted[0])["ChangeInfo"]["Status"] != "INSYNC":
            return ProbeResult(False, f"{name} will answer {shown}, but change {submitted[0]} is still PENDING "
                                      f"(not on every Route 53 DNS server yet).", data)
        submitted = (submitted[0], ctx.clock.now())
        SUBMITTED[(ctx.run_id, zone_id, norm(name))] = submitted
    since = _SEEN.setdefault(key, ctx.clock.now())
    changed = ROUTING_CHANGES.get(ctx.run_id)
    if changed is not None and changed <= since and _OTHER.get(key, -1.0) <= changed:
        since = changed     # produced by drtool's own change (ARC set / Route 53 INSYNC): dated from it
    ttl = found.ttl if found.ttl is not None else ALIAS_TTL
    settled = since + ttl
    data.update(since=since, ttl=ttl, settled_at=settled)
    when = f"since {clock_text(since)}, TTL {ttl}s: resolvers may answer the old value until {clock_text(settled)}"
    if params.settle_ttl and ctx.clock.now() < settled:
        return ProbeResult(False, f"{name} answers {shown} {when} (waiting out the TTL): {found.detail}.", data)
    return ProbeResult(True, f"{name} answers {shown} as expected {when}: {found.detail}.", data)

