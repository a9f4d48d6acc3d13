"""route53.points-to and its HealthReader follow Route 53's documented rules (table-driven):
Inverted flips, >18% of checkers, calculated checks via children, routing-control checks,
alias EvaluateTargetHealth, INSYNC and the TTL. The AWS sources are cited in
drtool/aws/route53_health.py."""

from __future__ import annotations

import pytest

from drtool.aws import route53
from drtool.aws.route53_health import HealthReader, answer

OK, BAD = "Success: HTTP Status Code 200", "Failure: HTTP Status Code 503"


class Checks:
    """The route53 client's health-check reads, behind the same boto3 interface: moto can
    neither fail a checker nor keep a routing control ARN."""

    def __init__(self, **checks):
        self.checks = checks

    def get_health_check(self, HealthCheckId):  # noqa: N803 - boto3 signature
        config = {k: v for k, v in self.checks[HealthCheckId].items() if k != "observations"}
        return {"HealthCheck": {"HealthCheckConfig": {"Type": "HTTP", **config}}}

    def get_health_check_status(self, HealthCheckId):  # noqa: N803
        config = self.checks[HealthCheckId]
        if config.get("Type") == "CALCULATED":
            raise AssertionError("GetHealthCheckStatus rejects calculated health checks")
        return {"HealthCheckObservations": [{"StatusReport": {"Status": s}} for s in config["observations"]]}


CASES = [
    # (why, checks, expected health of "hc")
    ("every checker healthy", {"hc": {"observations": [OK] * 8}}, True),
    ("one failing checker of eight: 7/8 > 18%", {"hc": {"observations": [OK] * 7 + [BAD]}}, True),
    ("2 of 11 healthy = 18.2% > 18%", {"hc": {"observations": [OK] * 2 + [BAD] * 9}}, True),
    ("1 of 6 healthy = 16.7% <= 18%", {"hc": {"observations": [OK] + [BAD] * 5}}, False),
    ("no checker data yet counts healthy", {"hc": {"observations": []}}, True),
    ("inverted healthy -> unhealthy", {"hc": {"Inverted": True, "observations": [OK] * 3}}, False),
    ("inverted FAILING -> healthy (why inverting is no failover)",
     {"hc": {"Inverted": True, "observations": [BAD] * 3}}, True),
    ("disabled counts healthy even when failing", {"hc": {"Disabled": True, "observations": [BAD] * 3}}, True),
    ("disabled + inverted is always unhealthy", {"hc": {"Disabled": True, "Inverted": True, "observations": []}},
     False),
    ("calculated: 2 of 3 children healthy, threshold 2",
     {"hc": {"Type": "CALCULATED", "ChildHealthChecks": ["a", "b", "c"], "HealthThreshold": 2},
      "a": {"observations": [OK]}, "b": {"observations": [OK]}, "c": {"observations": [BAD]}}, True),
    ("calculated: 1 of 3 children healthy, threshold 2",
     {"hc": {"Type": "CALCULATED", "ChildHealthChecks": ["a", "b", "c"], "HealthThreshold": 2},
      "a": {"observations": [OK]}, "b": {"observations": [BAD]}, "c": {"observations": [BAD]}}, False),
    ("calculated children are Route 53 verdicts: an inverted failing child is healthy",
     {"hc": {"Type": "CALCULATED", "ChildHealthChecks": ["a"], "HealthThreshold": 1},
      "a": {"Inverted": True, "observations": [BAD]}}, True),
    ("calculated and inverted",
     {"hc": {"Type": "CALCULATED", "ChildHealthChecks": ["a"], "HealthThreshold": 1, "Inverted": True},
      "a": {"observations": [OK]}}, False),
]


@pytest.mark.parametrize("why, checks, healthy", CASES, ids=[c[0] for c in CASES])
def test_health_check_verdicts_follow_route53(why, checks, healthy):
    assert HealthReader(Checks(**checks)).check("hc").healthy is healthy


@pytest.mark.parametrize("state, healthy", [("On", True), ("Off", False)])
def test_routing_control_check_follows_its_control(state, healthy):
    arn = "arn:aws:route53-recovery-control::123456789012:controlpanel/p/routingcontrol/r"
    client = Checks(hc={"Type": "RECOVERY_CONTROL", "RoutingControlArn": arn, "observations": []})
    reader = HealthReader(client, routing_control_state=lambda a: state if a == arn else None)
    assert reader.check("hc").healthy is healthy


def _pair(primary_extra=None, secondary_extra=None):
    base = {"Name": "app.ex.com.", "Type": "CNAME", "TTL": 60}
    return [{**base, "SetIdentifier": "p", "Failover": "PRIMARY", "ResourceRecords": [{"Value": "use1.ex.com"}],
             **(primary_extra or {})},
            {**base, "SetIdentifier": "s", "Failover": "SECONDARY", "ResourceRecords": [{"Value": "usw2.ex.com"}],
             **(secondary_extra or {})}]


PAIRS = [
    ("primary healthy", {"p": {"observations": [OK]}}, {"HealthCheckId": "p"}, None, "use1.ex.com."),
    ("primary failing -> secondary", {"p": {"observations": [BAD]}}, {"HealthCheckId": "p"}, None, "usw2.ex.com."),
    ("primary failing but inverted -> Route 53 keeps answering the dead primary",
     {"p": {"Inverted": True, "observations": [BAD]}}, {"HealthCheckId": "p"}, None, "use1.ex.com."),
    ("both unhealthy -> primary", {"p": {"observations": [BAD]}, "s": {"observations": [BAD]}},
     {"HealthCheckId": "p"}, {"HealthCheckId": "s"}, "use1.ex.com."),
]


@pytest.mark.parametrize("why, checks, p, s, expected", PAIRS, ids=[c[0] for c in PAIRS])
def test_failover_pair_answers_like_route53(why, checks, p, s, expected):
    sets = _pair(p, s)
    got = answer(HealthReader(Checks(**checks)), "Z1", "app.ex.com.", sets, lambda n: [])
    assert got.values == [expected]


def test_alias_with_evaluate_target_health_follows_a_record_in_the_zone():
    target = {"Name": "use1.ex.com.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.0.1"}],
              "HealthCheckId": "t"}
    alias = {"AliasTarget": {"HostedZoneId": "Z1", "DNSName": "use1.ex.com", "EvaluateTargetHealth": True}}
    sets = _pair(alias, None)
    for rs in sets:
        rs["Type"] = "A"
        if rs.get("AliasTarget"):
            rs.pop("ResourceRecords"), rs.pop("TTL")
    for observations, expected in (([OK], "use1.ex.com."), ([BAD], "usw2.ex.com.")):
        reader = HealthReader(Checks(t={"observations": observations}))
        got = answer(reader, "Z1", "app.ex.com.", sets, lambda n: [target] if n == "use1.ex.com." else [])
        assert got.values == [expected], got.detail
    unevaluated = {**alias["AliasTarget"], "EvaluateTargetHealth": False}
    sets[0]["AliasTarget"] = unevaluated
    got = answer(HealthReader(Checks(t={"observations": [BAD]})), "Z1", "app.ex.com.", sets, lambda n: [target])
    assert got.values == ["use1.ex.com."]


class Elb:
    def __init__(self, states):
        self.states = states

    def describe_load_balancers(self):
        return {"LoadBalancers": [{"DNSName": "shop-123.us-east-1.elb.amazonaws.com", "LoadBalancerArn": "lb",
                                   "LoadBalancerName": "shop"}]}

    def describe_target_groups(self, LoadBalancerArn):  # noqa: N803
        return {"TargetGroups": [{"TargetGroupArn": "tg", "TargetGroupName": "shop-tg"}]}

    def describe_target_health(self, TargetGroupArn):  # noqa: N803
        return {"TargetHealthDescriptions": [{"TargetHealth": {"State": s}} for s in self.states]}


@pytest.mark.parametrize("states, healthy", [(["healthy", "unhealthy"], True), (["unhealthy"], False), ([], False)],
                         ids=["one healthy target", "only unhealthy targets", "no registered targets"])
def test_alias_to_a_load_balancer_needs_a_healthy_target_in_every_group(states, healthy):
    reader = HealthReader(Checks(), elbv2=lambda region: Elb(states))
    alias = {"HostedZoneId": "Z35SXDOTRQ7X7K", "DNSName": "dualstack.shop-123.us-east-1.elb.amazonaws.com.",
             "EvaluateTargetHealth": True}
    assert reader.alias_target("Z1", "A", alias, lambda n: [], 0).healthy is healthy


# --- INSYNC and TTL on moto ------------------------------------------------------------------


@pytest.fixture
def www(session):
    route53.SUBMITTED.clear()      # per-process memory of the probes, keyed by run id
    route53._SEEN.clear()
    client = session.client("route53")
    zone_id = client.create_hosted_zone(Name="shop.example.com.", CallerReference="z")["HostedZone"]["Id"]
    client.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "CREATE",
        "ResourceRecordSet": {"Name": "www.shop.example.com.", "Type": "A", "TTL": 60,
                              "ResourceRecords": [{"Value": "10.0.0.1"}]}}]})
    return client


def test_points_to_waits_out_the_ttl_after_the_insync_change(ctx, www):
    route53.failover(ctx, route53.FailoverParams(zone="shop.example.com.", record="www", value="10.1.0.1"), [])
    [(change_id, insync)] = [v for k, v in route53.SUBMITTED.items() if k[0] == ctx.run_id]
    assert www.get_change(Id=change_id)["ChangeInfo"]["Status"] == "INSYNC" and insync is not None
    params = route53.PointsToParams(zone="shop.example.com.", record="www", value="10.1.0.1")
    first = route53.points_to(ctx, params)
    assert not first.ok and "TTL 60s" in first.detail and "waiting out the TTL" in first.detail
    ctx.clock.advance(59)
    assert not route53.points_to(ctx, params).ok
    ctx.clock.advance(1)
    assert route53.points_to(ctx, params).ok
    relaxed = route53.points_to(ctx, params.model_copy(update={"settle_ttl": False}))
    assert relaxed.ok and "resolvers may answer the old value until" in relaxed.detail


def test_points_to_refuses_a_pending_change(ctx, www, monkeypatch):
    """A change that is still PENDING has not reached every Route 53 DNS server (GetChange)."""
    params = route53.FailoverParams(zone="shop.example.com.", record="www", value="10.1.0.1", insync_timeout=0)
    route53.failover(ctx, params, [])
    client = ctx.client("route53")
    real = client.get_change
    monkeypatch.setattr(type(client), "get_change", lambda self, Id: {"ChangeInfo": {"Id": Id, "Status": "PENDING"}},
                        raising=False)
    probe = route53.PointsToParams(zone="shop.example.com.", record="www", value="10.1.0.1", settle_ttl=False)
    result = route53.points_to(ctx, probe)
    assert not result.ok and "PENDING" in result.detail
    monkeypatch.setattr(type(client), "get_change", lambda self, Id: real(Id=Id), raising=False)
    assert route53.points_to(ctx, probe).ok
