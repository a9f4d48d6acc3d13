"""Route 53 as the sandbox's clients see it: health checks and the DNS answer over time.

Health checks watching a region's endpoint hostname (or a `/region/<r>/` path) observe
whether that region serves; RECOVERY_CONTROL checks follow their ARC routing control (the
fake in drtool.sandbox.fakes.arc_state). The global record's answer follows Route 53's rules
(failover: PRIMARY unless its health check is unhealthy -- `Inverted` flips a check's
verdict -- else SECONDARY unless that is unhealthy too; a simple record wins over a pair) and
is recorded over time; clients use the answer as of one TTL ago.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from drtool.sandbox.fakes import arc_state
from drtool.sandbox.moto_adapter import dns_alarm_state as mi
from drtool.sandbox.moto_adapter import patches


@dataclass(frozen=True)
class DnsHistory:
    """(since, region) answers of the global record, oldest first; region None = no answer."""

    entries: tuple[tuple[float, str | None], ...]
    ttl: float

    def region_at(self, when: float) -> str | None:
        region = None
        for since, answer in self.entries:
            if since > when:
                break
            region = answer
        return region

    def client_region(self, now: float) -> str | None:
        """Where a client resolving the global record now is sent (answer cached for TTL)."""
        return self.region_at(now - self.ttl)


class Routing:
    def __init__(self, account: str, record: str | None, hosts: dict[str, str], ttl: float) -> None:
        self.account = account
        self.record = record
        self.hosts = {h.rstrip(".").lower(): r for h, r in hosts.items()}   # hostname -> region
        self.ttl = ttl
        self._entries: list[tuple[float, str | None]] = []

    def add_hosts(self, hosts: dict[str, str]) -> None:
        self.hosts.update({h.rstrip(".").lower(): r for h, r in hosts.items()})

    def step(self, now: float, serving: dict[str, bool]) -> DnsHistory:
        checks = {c.check_id: c for c in mi.health_checks(self.account)}
        observed: dict[str, bool] = {}
        arc = arc_state.active()
        for check in checks.values():
            region = self._watched_region(check)
            if region is not None:
                observed[check.check_id] = serving.get(region, False)
            elif arc is not None and (on := arc.check_healthy(check.check_id)) is not None:
                # RECOVERY_CONTROL: healthy while the routing control is On (ARC developer guide,
                # "Routing control health checks")
                observed[check.check_id] = on
        patches.set_health_check_health(observed)
        region = self._answer_region(checks, observed) if self.record else None
        if not self._entries:
            self._entries.append((-math.inf, region))
        elif self._entries[-1][1] != region:
            self._entries.append((now, region))
            horizon = now - self.ttl - 60.0
            while len(self._entries) > 2 and self._entries[1][0] < horizon:
                self._entries.pop(0)
        return DnsHistory(tuple(self._entries), self.ttl)

    def _watched_region(self, check: mi.HealthCheck) -> str | None:
        path = check.path or ""
        if path.startswith("/region/"):
            return path.split("/")[2] or None
        return self.hosts.get((check.fqdn or "").rstrip(".").lower())

    def _answer_region(self, checks: dict[str, mi.HealthCheck], observed: dict[str, bool]) -> str | None:
        records = mi.record_sets(self.account, self.record or "")
        simple = [r for r in records if not r.failover and r.values]
        chosen = simple[0] if simple else None
        if chosen is None:
            pair = {r.failover: r for r in records if r.failover}
            primary, secondary = pair.get("PRIMARY"), pair.get("SECONDARY")
            chosen = primary
            if primary is not None and secondary is not None and not self._healthy(primary, checks, observed) \
                    and self._healthy(secondary, checks, observed):
                chosen = secondary      # both unhealthy: Route 53 answers the PRIMARY
            chosen = chosen or secondary
        if chosen is None or not chosen.values:
            return None
        return self.hosts.get(chosen.values[0].rstrip(".").lower())

    @staticmethod
    def _healthy(record: mi.Record, checks: dict[str, mi.HealthCheck], observed: dict[str, bool]) -> bool:
        """Route 53's verdict (drtool.aws.route53_health cites the rules): a disabled check counts
        healthy, an unobserved one healthy (no data yet), and `Inverted` flips the result --
        so an inverted failing check is healthy."""
        check = checks.get(record.health_check_id or "")
        if check is None:
            return True
        ok = check.disabled or observed.get(check.check_id, True)
        return ok != check.inverted
