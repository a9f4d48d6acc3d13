"""Issue 12.4 in the sandbox: the bundled region-loss drill fails back in order (network,
wait for the primary, routing controls, wait out the TTL, DR scale-down) and the service's
health URL never fails for longer than the record's TTL meanwhile. The same drill undone in
plain reverse order (its failback removed) is the control: the rollback is an outage."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drtool.api import drill_target
from drtool.errors import GuardrailRefusal
from drtool.guardrails import prepare
from drtool.journal import read_journal
from drtool.runner import RunOptions, run_drill
from drtool.timing import SystemClock

pytestmark = pytest.mark.moto  # runs the sandbox (moto's server)

DRILL = Path(__file__).resolve().parents[2] / "drills" / "checkout-region-loss.yaml"
SAMPLE_EVERY = 0.05


class HealthSampler:
    """GETs the service's health URL every SAMPLE_EVERY seconds: (clock.now(), ok) samples."""

    def __init__(self, url: str, clock: SystemClock) -> None:
        self.url, self.clock = url, clock
        self.samples: list[tuple[float, bool]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _ok(self) -> bool:
        try:
            with urllib.request.urlopen(self.url, timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _run(self) -> None:
        while not self._stop.is_set():
            ok = self._ok()
            self.samples.append((self.clock.now(), ok))
            self._stop.wait(SAMPLE_EVERY)

    def __enter__(self) -> HealthSampler:
        self._thread.start()
        return self

    def settle(self, ok_for: float, timeout: float = 60.0) -> None:
        """Keep sampling after the run until the service has answered for `ok_for` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            recent = [s for s in self.samples if s[0] >= self.clock.now() - ok_for]
            if recent and all(ok for _t, ok in recent) and self.samples[0][0] <= self.clock.now() - ok_for:
                return
            time.sleep(SAMPLE_EVERY)

    def __exit__(self, *_exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def longest_outage(self, since: float) -> float:
        """The longest stretch from `since` on during which every sample failed (from the
        first failing sample to the next passing one, or the last sample)."""
        longest, down_since = 0.0, None
        for t, ok in (s for s in self.samples if s[0] >= since):
            if not ok and down_since is None:
                down_since = t
            elif ok and down_since is not None:
                longest, down_since = max(longest, t - down_since), None
        if down_since is not None:
            longest = max(longest, self.samples[-1][0] - down_since)
        return longest


def record_ttl(session: Any, drill: Any) -> float:
    """The failover record's TTL as Route 53 holds it (the sandbox provisions it scaled)."""
    route53 = session.client("route53", "us-east-1")
    zone = route53.list_hosted_zones_by_name(DNSName=drill.parameters["zone"])["HostedZones"][0]["Id"]
    sets = route53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=drill.parameters["record"])
    ttls = {rs["TTL"] for rs in sets["ResourceRecordSets"] if rs["Name"] == drill.parameters["record"]}
    assert len(ttls) == 1, ttls
    return float(ttls.pop())


@dataclass
class SampledRun:
    result: Any
    events: list[dict[str, Any]]
    outage: float           # longest outage of the health URL from the first undo on
    ttl: float              # the record's TTL
    session: Any
    clock: SystemClock


@contextmanager
def sampled_run(tmp_path: Path, adjust: Callable[[Any], None] | None = None) -> Iterator[SampledRun]:
    """Run the bundled drill in the sandbox while sampling its health URL (the sandbox stays
    up inside the block)."""
    clock = SystemClock()
    with drill_target(DRILL, sandbox=True) as (drill, session, mode):
        if adjust is not None:
            adjust(drill)
        ttl = record_ttl(session, drill)
        with HealthSampler(drill.parameters["health_url"], clock) as health:
            result = run_drill(drill, session, RunOptions(results=tmp_path, yes=True, mode=mode, clock=clock))
            health.settle(ok_for=4 * ttl)
        events = read_journal(result.run_dir / "journal.jsonl")
        first_undo = next(e["t"] for e in events if e["event"] == "undo.started")
        yield SampledRun(result, events, health.longest_outage(first_undo), ttl, session, clock)


def drill_with_health(tmp_path: Path, ordered: bool) -> tuple[dict[str, Any], list[dict[str, Any]], float, float]:
    """(scorecard, journal, longest outage from the first undo on, record TTL) of the
    bundled drill, failing back in order or (the control) in plain reverse order."""
    with sampled_run(tmp_path, None if ordered else lambda drill: drill.steps.__setitem__("failback", [])) as run:
        return run.result.scorecard, run.events, run.outage, run.ttl


def test_failback_in_order_keeps_the_service_up_and_journals_the_order(tmp_path):
    card, events, outage, ttl = drill_with_health(tmp_path, ordered=True)
    assert card["run"]["status"] == "passed", card["run"]["reason"]
    assert card["rollback"]["status"] == "complete"
    print(f"ordered failback: longest outage {outage:.2f}s, TTL {ttl:g}s")
    assert outage <= ttl, f"the health URL failed for {outage:.2f}s during the failback (TTL {ttl:g}s)"

    steps = [e for e in events if e["event"] == "failback.step"]
    assert [(e["kind"], e["status"]) for e in steps] == [
        ("undo", "ok"), ("undo", "ok"), ("wait", "ok"), ("undo", "ok"), ("wait", "ok"), ("undo", "ok")]
    assert [e["event"] for e in events if e["event"].startswith("failback.")][-1] == "failback.finished"
    undone = {e["undo"]["name"]: e["seq"] for e in events if e["event"] == "undo.started"}
    primary_serves, dns_settled = (e["seq"] for e in steps if e["kind"] == "wait")
    network = min(seq for name, seq in undone.items() if name.startswith("ec2."))
    routing = undone["arc.restore-routing-control"]
    scale_down = min(seq for name, seq in undone.items() if name.startswith("autoscaling."))
    assert network < primary_serves < routing < dns_settled < scale_down


def test_plain_reverse_undo_is_the_outage_the_failback_avoids(tmp_path):
    card, events, outage, ttl = drill_with_health(tmp_path, ordered=False)
    assert card["rollback"]["status"] == "complete"
    assert not any(e["event"].startswith("failback.") for e in events if e["event"] != "failback.plan")
    undone = [e["undo"]["name"] for e in events if e["event"] == "undo.started"]
    assert undone.index("arc.restore-routing-control") < min(
        i for i, name in enumerate(undone) if name.startswith("ec2."))
    print(f"reverse-order undo: longest outage {outage:.2f}s, TTL {ttl:g}s")
    assert outage > ttl, f"reverse-order undo: expected an outage longer than the TTL ({ttl:g}s), saw {outage:.2f}s"


def test_live_run_of_the_bundled_drill_needs_allow_irreversible(tmp_path):
    """SPEC 7.3: the drill promotes a replica, so a live run needs the flag; the bundled
    drill sets it. Without it the run is refused (exit 4) before any change."""
    with drill_target(DRILL, sandbox=True) as (drill, session, _mode):
        assert drill.doc.guardrails.allow_irreversible is True
        assert "irreversible" not in prepare(drill, session, SystemClock(), seed=1, mode="live").refused_by
        drill.doc.guardrails.allow_irreversible = False
        with pytest.raises(GuardrailRefusal) as refused:
            run_drill(drill, session, RunOptions(results=tmp_path, yes=True, mode="live"))
        assert refused.value.exit_code == 4 and "irreversible" in refused.value.guardrail
        assert "promote the DR database cannot be undone" in str(refused.value)
        assert not list(tmp_path.rglob("journal.jsonl"))
        db = session.client("rds", "us-west-2").describe_db_instances(DBInstanceIdentifier="shop-db-dr")
        assert db["DBInstances"][0].get("ReadReplicaSourceDBInstanceIdentifier")   # still a replica


def test_a_primary_that_never_serves_stops_the_failback_and_keeps_the_service_on_dr(tmp_path):
    """The failback's wait for the primary times out (its health URL points nowhere): the
    failback stops there, DNS stays on the DR region and the DR fleet stays scaled out, so
    the service keeps answering; exit 5 lists both, and `drtool rollback` finishes later."""
    from drtool.runner import rollback_run

    def primary_never_serves(drill: Any) -> None:
        wait = next(s for s in drill.steps["failback"] if s.form == "wait")
        assert wait.params is not None
        wait.params = wait.params.model_copy(update={"url": "http://127.0.0.1:9/health", "timeout": 0.5})
        wait.timeout = 3.0

    with sampled_run(tmp_path, primary_never_serves) as run:
        result, events, outage, ttl, session, clock = (run.result, run.events, run.outage, run.ttl, run.session,
                                                       run.clock)
        card = result.scorecard
        assert result.exit_code == 5 and card["run"]["status"] == "rollback-incomplete", card["run"]["reason"]
        assert "failback step 'the primary region serves' failed" in card["run"]["reason"]
        assert f"run `drtool rollback {card['run']['id']}` once the primary serves again" in card["run"]["reason"]
        left = {r["undo"] for r in card["rollback"]["remaining"]}
        assert "arc.restore-routing-control" in left and any(u.startswith("autoscaling.") for u in left)
        undone = [e["undo"]["name"] for e in events if e["event"] == "undo.started"]
        assert undone and all(not u.startswith(("arc.", "autoscaling.")) for u in undone)   # network, S3 only
        print(f"stopped failback: longest outage {outage:.2f}s, TTL {ttl:g}s")
        assert outage <= ttl, f"the service failed for {outage:.2f}s although the failback stopped on DR"

        # `drtool rollback RUN` asks the journaled wait again: the primary still does not
        # serve, so it stops there too and moves nothing (no outage made by the rollback)
        last = events[-1]["seq"]
        remaining, card = rollback_run(result.run_dir / "journal.jsonl", session, clock)
        assert len(remaining) == len(left) and card["rollback"]["failback"]["status"] == "stopped"
        events = read_journal(result.run_dir / "journal.jsonl")
        assert not [e for e in events if e["event"] == "undo.started" and e["seq"] > last]
        undo_by_hand(result.run_dir / "journal.jsonl", session, clock)   # test cleanup: the sandbox as it was


def undo_by_hand(path: Path, session: Any, clock: Any) -> None:
    """Undo what a run left in plain reverse order, without its failback (test cleanup)."""
    from drtool.context import StepContext
    from drtool.journal import Journal
    from drtool.rollback import undo_all

    events = read_journal(path)
    started = events[0]
    journal = Journal(path, clock)
    try:
        def context(region: str | None) -> StepContext:
            return StepContext(aws=session, clock=clock, region=region or started["aws"]["default_region"],
                               run_id=started["run_id"], journal=journal, drill=started["drill"])

        assert undo_all(events, context, journal) == []
    finally:
        journal.close()
