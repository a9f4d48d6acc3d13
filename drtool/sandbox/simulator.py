"""The dynamics loop: one background thread that advances the estate every tick.

It acts only through time and state, as AWS would: it reads moto's state (through
`moto_adapter`, every tick), and changes it when time says so (through the AWS API where
one exists, `drtool.sandbox.loopback`): replacing instances, finishing
promotions, replicating writes, moving DNS, evaluating alarms. It never hears about what
a drill does except by what that did to the state. Each step holds the sandbox lock
(the moto server holds it per request too) and publishes an immutable `Snapshot` that
the HTTP endpoints answer from.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from drtool.sandbox.alarms import Alarms
from drtool.sandbox.estate import Estate
from drtool.sandbox.fleet import Fleet
from drtool.sandbox.loopback import ClientFactory
from drtool.sandbox.moto_adapter import data_state, patches
from drtool.sandbox.moto_adapter import fleet_state as network
from drtool.sandbox.replication import S3Replicator, TableReplicator
from drtool.sandbox.routing import DnsHistory, Routing

log = logging.getLogger("drtool.sandbox")

DENY_ALL_PROTOCOLS = frozenset({"-1", "all"})


def subnet_reachable(rules: list[network.AclRule] | None) -> bool:
    """A subnet is down when its network ACL denies all inbound traffic: walking the inbound
    rules in order, a deny of 0.0.0.0/0 for all protocols (or the implicit final deny of an
    ACL with no rules) comes before any allow."""
    if rules is None:
        return True
    for rule in rules:
        if rule.action == "allow":
            return True
        if rule.cidr == "0.0.0.0/0" and rule.protocol in DENY_ALL_PROTOCOLS:
            return False
    return False


@dataclass(frozen=True)
class RegionState:
    serves: bool
    reason: str


@dataclass(frozen=True)
class Snapshot:
    """What the HTTP endpoints answer from (replaced wholesale each tick)."""

    regions: dict[str, RegionState] = field(default_factory=dict)
    dns: DnsHistory = DnsHistory((), 0.0)

    def global_target(self, now: float) -> tuple[str | None, RegionState]:
        region = self.dns.client_region(now)
        if region is None:
            return None, RegionState(False, "the global record has no answer")
        return region, self.regions.get(region, RegionState(False, f"unknown region {region}"))


class Simulator:
    def __init__(self, estate: Estate, lock: threading.RLock, clients: ClientFactory,
                 hosts: dict[str, str] | None = None, subnets: dict[str, set[str]] | None = None) -> None:
        self.estate = estate
        self.subnets = subnets or {}    # region -> the estate's subnets (a region is cut off when all are down)
        self.truth = estate.truth()
        self.lock = lock
        self.account = estate.account
        self.regions = list(estate.regions)
        self.fleet = Fleet(self.account, self.regions, self.truth, clients)
        self.routing = Routing(self.account, estate.dns.global_record if estate.dns else None,
                               {**estate.endpoint_regions(), **(hosts or {})}, self.truth.dns_ttl)
        self.s3 = S3Replicator(self.account, self.truth, clients)
        self.tables = TableReplicator(estate, self.truth, clients)
        self.alarms = Alarms(estate, clients)
        self._checked: dict[str, tuple[bool, float | None]] = {}   # region -> (checker verdict, changing since)
        self.snapshot = Snapshot()
        self.errors: list[str] = []
        self.steps = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Fill the groups (healthy at once), take a first step, then run in the background."""
        with self.lock:
            self.step(warm=True)
        self._thread = threading.Thread(target=self._run, name="drtool-sandbox-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        tick = self.truth.tick
        while not self._stop.wait(tick):
            try:
                with self.lock:
                    self.step()
            except Exception as exc:  # noqa: BLE001 - the loop must survive a bad tick
                message = f"{type(exc).__name__}: {exc}"
                if message not in self.errors and len(self.errors) < 100:  # log each distinct failure once
                    self.errors.append(message)
                    log.warning("sandbox simulator step failed: %s", message, exc_info=True)

    def step(self, warm: bool = False) -> Snapshot:
        """One tick (caller holds the lock)."""
        now, wall = time.monotonic(), time.time()
        reachable = {r: self._reachability(r) for r in self.regions}
        cut_off = {r for r in self.regions if self._cut_off(r, reachable[r])}
        healthy = self.fleet.step(now, reachable, warm=warm)
        databases = self._databases(now)
        regions = {r: self._region_state(r, healthy, databases, cut_off) for r in self.regions}
        serving = {r: s.serves for r, s in regions.items()}
        dns = self.routing.step(now, self._checker_verdicts(now, serving, warm))
        self.s3.step(wall, cut_off)
        self.tables.step(wall, cut_off)
        live_replicas = {d.identifier for by_id in databases.values() for d in by_id.values() if d.source}
        self.alarms.step(wall, dns.client_region(now), serving, live_replicas)
        self.snapshot = Snapshot(regions, dns)
        self.steps += 1
        return self.snapshot

    def _checker_verdicts(self, now: float, serving: dict[str, bool], warm: bool) -> dict[str, bool]:
        """What Route 53's health checkers report per region: a change of the region's health
        shows only after request interval x failure threshold (30 s x 3 by default), the
        consecutive checks Route 53 needs ("How Amazon Route 53 determines whether a health
        check is healthy", https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html)."""
        verdicts = {}
        for region, now_serving in serving.items():
            verdict, since = self._checked.get(region, (now_serving, None))
            if warm or verdict == now_serving:
                since = None
                verdict = now_serving if warm else verdict
            elif since is None:
                since = now
            if since is not None and now - since >= self.truth.dns_failover_after:
                verdict, since = now_serving, None
            self._checked[region] = (verdict, since)
            verdicts[region] = verdict
        return verdicts

    def _cut_off(self, region: str, reachable: dict[str, bool]) -> bool:
        own = [reachable.get(s, True) for s in self.subnets.get(region, ())] or list(reachable.values())
        return bool(own) and not any(own)

    def _reachability(self, region: str) -> dict[str, bool]:
        rules = network.subnet_ingress_rules(self.account, region)
        return {subnet: subnet_reachable(rules.get(subnet)) for subnet in network.subnet_azs(self.account, region)}

    def _databases(self, now: float) -> dict[str, dict[str, data_state.Database]]:
        for key, since in patches.busy_since().items():
            delay = {"promote": self.truth.promotion_delay,
                     "failover": self.truth.failover_delay}.get(key[0], self.truth.restore_duration)
            if now - since >= delay:
                patches.finish_busy(key)
        return {r: data_state.db_instances(self.account, r) for r in self.regions}

    def _region_state(self, region: str, healthy: dict[tuple[str, str], int],
                      databases: dict[str, dict[str, data_state.Database]], cut_off: set[str]) -> RegionState:
        needs = self.estate.regions[region].serves_with
        if region in cut_off:
            return RegionState(False, f"{region} is unreachable (every subnet is black-holed)")
        if needs is None:
            return RegionState(True, "reachable")
        if needs.target_group and healthy.get((region, needs.target_group), 0) == 0:
            return RegionState(False, f"no healthy target in {needs.target_group}")
        if needs.database:
            db = databases.get(region, {}).get(needs.database)
            if db is None:
                return RegionState(False, f"database {needs.database} does not exist")
            if db.status != "available" or db.is_replica or db.source:
                state = db.status if db.status != "available" else "a read replica"
                return RegionState(False, f"database {needs.database} is not writable ({state})")
        return RegionState(True, "serving")
