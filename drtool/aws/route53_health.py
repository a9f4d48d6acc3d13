"""How Route 53 decides a record's health and which record of a failover pair answers.

Every rule cites the Route 53 documentation it follows:

- Endpoint checks: "If more than 18% of health checkers report that an endpoint is healthy,
  Route 53 considers it healthy. If 18% of health checkers or fewer report that an endpoint
  is healthy, Route 53 considers it unhealthy." A new check with no data yet counts as
  healthy ("Route 53 considers a new health check to be healthy until there's enough data").
  https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html
- Calculated checks: healthy when at least `HealthThreshold` child checks are healthy (same
  page, "calculated health checks"); `GetHealthCheckStatus` cannot read them ("You can't use
  GetHealthCheckStatus to get the status of a calculated health check",
  https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHealthCheckStatus.html), so
  drtool evaluates their children.
- Routing control checks (`RECOVERY_CONTROL`): healthy while the routing control is On,
  unhealthy while it is Off (ARC developer guide, "Routing control health checks",
  https://docs.aws.amazon.com/r53recovery/latest/dg/routing-control.create.html).
- `Disabled`: "Route 53 considers the status of the health check to always be healthy";
  `Inverted`: "invert the status of a health check, for example, to consider a health check
  unhealthy when it otherwise would be considered healthy" -- applied last, so an inverted
  check of a dead endpoint is *healthy*, and disabled + inverted is always unhealthy
  (https://docs.aws.amazon.com/Route53/latest/APIReference/API_UpdateHealthCheck.html).
- Alias records with `EvaluateTargetHealth` inherit the target's health; for an ALB/NLB
  "every target group that contains targets must contain at least one healthy target" and "a
  target group that has no registered targets is considered unhealthy"; for another record
  in the zone, the health of that record (set)
  (https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html).
- Failover: the PRIMARY answers while healthy, else the SECONDARY if healthy; when both are
  unhealthy Route 53 answers the PRIMARY (developer guide, "Active-passive failover",
  https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-types.html).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The last instant this process changed routing for a run (an ARC routing control set, a
# Route 53 change INSYNC): route53.points-to dates an answer that change produced from it.
ROUTING_CHANGES: dict[str, float] = {}
HEALTHY_SHARE = 0.18          # "more than 18% of health checkers" (see module docstring)
MAX_DEPTH = 8                 # calculated checks / aliases nest; stop runaway recursion


@dataclass
class Health:
    healthy: bool
    why: str


@dataclass
class Answer:
    values: list[str]
    rtype: str | None
    detail: str                      # how the answer was chosen, as a clause
    record: dict[str, Any] | None = None
    ttl: int | None = None


def _norm(name: str) -> str:
    return name.replace("\\052", "*").lower().rstrip(".") + "."


@dataclass
class HealthReader:
    """Evaluates health checks and alias targets the way Route 53 does.

    `routing_control_state(arn)` returns "On"/"Off" (or None when unknown: then Route 53's own
    status observations are used); `elbv2(region)` gives an elbv2 client for alias targets."""

    client: Any
    routing_control_state: Callable[[str], str | None] | None = None
    elbv2: Callable[[str], Any] | None = None
    _cache: dict[str, Health] = field(default_factory=dict)

    def check(self, check_id: str | None, depth: int = 0) -> Health:
        if not check_id:
            return Health(True, "no health check")
        if check_id in self._cache:
            return self._cache[check_id]
        config = self.client.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
        if config.get("Disabled"):
            raw = Health(True, f"health check {check_id} is disabled (Route 53 counts it healthy)")
        elif config.get("Type") == "CALCULATED":
            raw = self._calculated(check_id, config, depth)
        elif config.get("Type") == "RECOVERY_CONTROL" and config.get("RoutingControlArn") \
                and self.routing_control_state is not None:
            raw = self._routing_control(check_id, config["RoutingControlArn"])
        else:
            raw = self._observed(check_id)
        health = raw
        if config.get("Inverted"):
            health = Health(not raw.healthy, f"{raw.why}, inverted -> {'healthy' if not raw.healthy else 'unhealthy'}")
        self._cache[check_id] = health
        return health

    def _observed(self, check_id: str) -> Health:
        observations = self.client.get_health_check_status(HealthCheckId=check_id)["HealthCheckObservations"]
        if not observations:
            return Health(True, f"health check {check_id} has no checker data yet (counts healthy)")
        ok = sum(1 for o in observations if str(o.get("StatusReport", {}).get("Status", "")).startswith("Success"))
        share = ok / len(observations)
        verdict = share > HEALTHY_SHARE
        return Health(verdict, f"health check {check_id}: {ok} of {len(observations)} checkers report healthy "
                               f"({share:.0%} {'>' if verdict else '<='} 18%)")

    def _calculated(self, check_id: str, config: dict[str, Any], depth: int) -> Health:
        children = list(config.get("ChildHealthChecks") or [])
        threshold = int(config.get("HealthThreshold") or 0)
        if depth >= MAX_DEPTH:
            return Health(False, f"calculated health check {check_id} nests too deep to evaluate")
        healthy = sum(1 for child in children if self.check(child, depth + 1).healthy)
        verdict = healthy >= threshold
        return Health(verdict, f"calculated health check {check_id}: {healthy} of {len(children)} children "
                               f"healthy, threshold {threshold}")

    def _routing_control(self, check_id: str, arn: str) -> Health:
        assert self.routing_control_state is not None
        state = self.routing_control_state(arn)
        if state is None:
            return self._observed(check_id)
        return Health(state == "On", f"routing control health check {check_id}: routing control is {state}")

    # --- records ------------------------------------------------------------------------

    def record(self, zone_id: str, rs: dict[str, Any], sets_of: Callable[[str], list[dict[str, Any]]],
               depth: int = 0) -> Health:
        """One record set's health: its own health check, and its alias target's when
        `EvaluateTargetHealth` is true."""
        own = self.check(rs.get("HealthCheckId"), depth)
        alias = rs.get("AliasTarget") or {}
        if not own.healthy or not alias.get("EvaluateTargetHealth"):
            return own
        target = self.alias_target(zone_id, rs["Type"], alias, sets_of, depth)
        if target.healthy:
            return Health(True, own.why if rs.get("HealthCheckId") else target.why)
        return target

    def alias_target(self, zone_id: str, rtype: str, alias: dict[str, Any],
                     sets_of: Callable[[str], list[dict[str, Any]]], depth: int) -> Health:
        dns = _norm(alias["DNSName"]).removeprefix("dualstack.")
        if depth >= MAX_DEPTH:
            return Health(False, f"alias chain to {dns} is too deep to evaluate")
        if alias.get("HostedZoneId", "").rsplit("/", 1)[-1] == zone_id:
            targets = [t for t in sets_of(dns) if t["Type"] == rtype]
            if not targets:
                return Health(False, f"alias target {dns} does not exist")
            verdicts = [self.record(zone_id, t, sets_of, depth + 1) for t in targets]
            good = [v for v in verdicts if v.healthy]
            return good[0] if good else Health(False, f"alias target {dns}: {verdicts[0].why}")
        found = re.search(r"\.([a-z]{2}(?:-[a-z]+)+-\d)\.elb\.amazonaws\.com\.$", dns)
        if found and self.elbv2 is not None:
            return self._load_balancer(dns, found.group(1))
        return Health(True, f"alias target {dns}: health not evaluated by drtool (counted healthy)")

    def _load_balancer(self, dns: str, region: str) -> Health:
        assert self.elbv2 is not None
        elb = self.elbv2(region)
        lbs = [lb for lb in elb.describe_load_balancers()["LoadBalancers"] if _norm(lb["DNSName"]) == dns]
        if not lbs:
            return Health(False, f"alias target {dns}: no such load balancer")
        groups = elb.describe_target_groups(LoadBalancerArn=lbs[0]["LoadBalancerArn"])["TargetGroups"]
        for group in groups:
            states = [d["TargetHealth"]["State"] for d in
                      elb.describe_target_health(TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]]
            if "healthy" not in states:
                why = "has no registered targets" if not states else "has no healthy target"
                return Health(False, f"alias target {lbs[0]['LoadBalancerName']}: target group "
                                     f"{group['TargetGroupName']} {why}")
        return Health(True, f"alias target {lbs[0]['LoadBalancerName']} is healthy")


def values_of(rs: dict[str, Any]) -> list[str]:
    """The values a record set answers with (alias: its target's DNS name), normalised."""
    if rs.get("AliasTarget"):
        return [_norm(rs["AliasTarget"]["DNSName"])]
    return [r["Value"] if _looks_ip(r["Value"]) else _norm(r["Value"]) for r in rs.get("ResourceRecords") or []]


def _looks_ip(value: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def answer(reader: HealthReader, zone_id: str, name: str, sets: list[dict[str, Any]],
           sets_of: Callable[[str], list[dict[str, Any]]]) -> Answer:
    """The answer Route 53 gives for `name` from its record sets (see module docstring)."""
    pair = [rs for rs in sets if rs.get("Failover")]
    if not pair:
        simple = [rs for rs in sets if not rs.get("SetIdentifier")]
        if not simple:
            return Answer([], None, "no such record")
        first = simple[0]
        return Answer([v for rs in simple for v in values_of(rs)], first["Type"], "simple record", first,
                      first.get("TTL"))
    primary = next((rs for rs in pair if rs["Failover"] == "PRIMARY"), None)
    secondary = next((rs for rs in pair if rs["Failover"] == "SECONDARY"), None)
    if primary is None or secondary is None:
        only = primary or secondary
        assert only is not None
        return Answer(values_of(only), only["Type"], f"only a {only['Failover']} record exists", only, only.get("TTL"))
    p = reader.record(zone_id, primary, sets_of)
    if p.healthy:
        return Answer(values_of(primary), primary["Type"], f"PRIMARY answers ({p.why})", primary, primary.get("TTL"))
    s = reader.record(zone_id, secondary, sets_of)
    if not s.healthy:
        return Answer(values_of(primary), primary["Type"], f"both unhealthy, Route 53 answers the PRIMARY "
                      f"({p.why}; {s.why})", primary, primary.get("TTL"))
    return Answer(values_of(secondary), secondary["Type"], f"SECONDARY answers ({p.why})", secondary,
                  secondary.get("TTL"))


def clock_text(epoch: float) -> str:
    """HH:MM:SS (UTC) for probe sentences."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%H:%M:%S")


def wait_insync(clock: Any, client: Any, change_id: str, timeout: float) -> float | None:
    """Poll GetChange until INSYNC ("the changes have propagated to all Route 53 DNS servers",
    https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html); the instant, or None."""
    deadline = clock.monotonic() + timeout
    while True:
        status = client.get_change(Id=change_id)["ChangeInfo"]["Status"]
        if status == "INSYNC":
            return clock.now()
        if clock.monotonic() >= deadline:
            return None
        clock.sleep(min(2.0, max(0.05, timeout / 50)))
