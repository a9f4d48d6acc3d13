"""route53.failover (both forms), its undos and route53.points-to, asserted on moto state."""

from __future__ import annotations

import pytest

from drtool.aws import route53
from drtool.errors import ChangedSince, DrToolError
from tests.aws.cas_helpers import left_as_found, rollback
from tests.region.helpers import journal_events, run_undo

ZONE = "shop.example.com."
APP = "app.shop.example.com."


@pytest.fixture
def zone(session):
    """Zone with a simple `www` A record and a PRIMARY/SECONDARY CNAME pair for `app`."""
    client = session.client("route53")
    zone_id = client.create_hosted_zone(Name=ZONE, CallerReference="z")["HostedZone"]["Id"].rsplit("/", 1)[-1]
    check = client.create_health_check(CallerReference="h", HealthCheckConfig={
        "Type": "HTTP", "FullyQualifiedDomainName": "use1.shop.example.com", "Port": 80,
        "ResourcePath": "/health"})["HealthCheck"]["Id"]
    pair = [("PRIMARY", "use1.shop.example.com", {"HealthCheckId": check}),
            ("SECONDARY", "usw2.shop.example.com", {})]
    changes = [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": APP, "Type": "CNAME", "SetIdentifier": role.lower(), "Failover": role, "TTL": 2,
        "ResourceRecords": [{"Value": value}], **extra}} for role, value, extra in pair]
    changes.append({"Action": "CREATE", "ResourceRecordSet": {
        "Name": "www.shop.example.com.", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "10.0.0.1"}]}})
    client.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    return {"client": client, "id": zone_id, "check": check}


def _sets(zone, name):
    return route53.record_sets(zone["client"], zone["id"], name)


def test_value_form_upserts_and_undo_restores_exactly(ctx, zone):
    before = _sets(zone, "www.shop.example.com.")
    out = route53.failover(ctx, route53.FailoverParams(zone=ZONE, record="www", value="10.1.0.1"), [])
    [after] = _sets(zone, "www.shop.example.com.")
    assert after["ResourceRecords"] == [{"Value": "10.1.0.1"}] and after["TTL"] == 300
    assert "10.0.0.1" in out.detail
    probe = route53.points_to(ctx, route53.PointsToParams(zone=zone["id"], record="www.shop.example.com",
                                                          value="10.1.0.1", settle_ttl=False))
    assert probe.ok, probe.detail

    [intent] = journal_events(ctx, "change.intent")
    assert "Restored" in run_undo(ctx, intent["undo"])
    assert _sets(zone, "www.shop.example.com.") == before
    assert "already" in run_undo(ctx, intent["undo"])
    assert _sets(zone, "www.shop.example.com.") == before


def test_value_form_creates_and_undo_deletes_verified_by_listing(ctx, zone):
    route53.failover(ctx, route53.FailoverParams(zone=ZONE, record="api", value="usw2.shop.example.com"), [])
    [created] = _sets(zone, "api.shop.example.com.")
    assert created["Type"] == "CNAME"
    [intent] = journal_events(ctx, "change.intent")
    assert intent["undo"]["params"]["previous"] is None

    assert "Deleted" in run_undo(ctx, intent["undo"])
    assert _sets(zone, "api.shop.example.com.") == []
    assert "already absent" in run_undo(ctx, intent["undo"])  # moto would accept a blind DELETE too


def test_undo_of_a_created_record_leaves_a_changed_one_alone(ctx, zone):
    route53.failover(ctx, route53.FailoverParams(zone=ZONE, record="api", value="a.example.com"), [])
    [intent] = journal_events(ctx, "change.intent")
    route53.failover(ctx, route53.FailoverParams(zone=ZONE, record="api", value="b.example.com"), [])
    with pytest.raises(ChangedSince, match="answers CNAME b.example.com., not the CNAME a.example.com. the drill"):
        run_undo(ctx, intent["undo"])
    assert len(_sets(zone, "api.shop.example.com.")) == 1


def _operator_sets(zone, value):
    zone["client"].change_resource_record_sets(HostedZoneId=zone["id"], ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": "www.shop.example.com.", "Type": "A", "TTL": 300,
                                                   "ResourceRecords": [{"Value": value}]}}]})


def test_restore_record_leaves_an_operator_change_as_found(ctx, zone):
    """The drill points www at 10.1.0.1; an operator then points it at 10.2.0.2: rollback
    keeps the operator's value and lists the record as left as found."""
    route53.failover(ctx, route53.FailoverParams(zone=ZONE, record="www", value="10.1.0.1"), [])
    [intent] = journal_events(ctx, "change.intent")
    assert intent["undo"]["params"]["applied"]["ResourceRecords"] == [{"Value": "10.1.0.1"}]
    _operator_sets(zone, "10.2.0.2")
    remaining = rollback(ctx)
    [now] = _sets(zone, "www.shop.example.com.")
    assert now["ResourceRecords"] == [{"Value": "10.2.0.2"}]
    (item,) = left_as_found(remaining)
    assert "answers A 10.2.0.2, not the drill's A 10.1.0.1 (before the drill: A 10.0.0.1)" in item
    assert rollback(ctx) == remaining and _sets(zone, "www.shop.example.com.") == [now]


def test_restore_record_when_an_operator_deleted_it(ctx, zone):
    route53.failover(ctx, route53.FailoverParams(zone=ZONE, record="www", value="10.1.0.1"), [])
    [rs] = _sets(zone, "www.shop.example.com.")
    zone["client"].change_resource_record_sets(HostedZoneId=zone["id"], ChangeBatch={"Changes": [
        {"Action": "DELETE", "ResourceRecordSet": rs}]})
    (item,) = left_as_found(rollback(ctx))
    assert "answers absent" in item and _sets(zone, "www.shop.example.com.") == []


def test_restore_record_after_a_crash_before_the_upsert(ctx, zone):
    """The intent is journaled, the UPSERT never made: the record is as it was, so it counts as restored."""
    [before] = _sets(zone, "www.shop.example.com.")
    params = {"zone_id": zone["id"], "name": "www.shop.example.com.", "type": "A", "previous": before,
              "applied": {**before, "ResourceRecords": [{"Value": "10.1.0.1"}]}}
    assert "already as it was" in run_undo(ctx, {"name": "route53.restore-record", "params": params})
    assert _sets(zone, "www.shop.example.com.") == [before]


def test_failover_pair_is_refused_pointing_to_arc(ctx, zone):
    """Inverting the PRIMARY's check is no failover: a failing check inverted is healthy."""
    client = zone["client"]
    before = client.get_health_check(HealthCheckId=zone["check"])["HealthCheck"]["HealthCheckConfig"]
    with pytest.raises(DrToolError, match="failover pair") as raised:
        route53.failover(ctx, route53.FailoverParams(zone=ZONE, record=APP), [])
    assert "arc.set-routing-control" in (raised.value.hint or "")
    with pytest.raises(DrToolError, match="failover pair"):
        route53.failover(ctx, route53.FailoverParams(zone=ZONE, record=APP, value="usw2.shop.example.com"), [])
    assert client.get_health_check(HealthCheckId=zone["check"])["HealthCheck"]["HealthCheckConfig"] == before
    assert journal_events(ctx, "change.intent") == []
    expect = route53.points_to(ctx, route53.PointsToParams(zone=ZONE, record="app", value="use1.shop.example.com",
                                                           settle_ttl=False))
    assert expect.ok, expect.detail


def test_old_journal_health_check_undo_still_restores(ctx, zone):
    """Journals written before the refusal may hold route53.restore-health-check."""
    client = zone["client"]
    client.update_health_check(HealthCheckId=zone["check"], Inverted=True)
    undo = {"name": "route53.restore-health-check",
            "params": {"health_check_id": zone["check"], "inverted": False, "applied": True}}
    run_undo(ctx, undo)
    assert client.get_health_check(HealthCheckId=zone["check"])["HealthCheck"]["HealthCheckConfig"]["Inverted"] is False
    assert "already" in run_undo(ctx, undo)


def test_simple_record_needs_a_value(ctx, zone):
    with pytest.raises(DrToolError, match="needs `value`"):
        route53.failover(ctx, route53.FailoverParams(zone=ZONE, record="www"), [])
