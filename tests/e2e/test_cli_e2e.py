"""drtool as a subprocess against moto's ThreadedMotoServer (AWS_ENDPOINT_URL on loopback)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    HealthEndpoint,
    acl_associations,
    client,
    drtool,
    instance_states,
    spawn,
    write_drill,
)

pytestmark = pytest.mark.e2e

TERMINATION_DRILL = """\
kind: drill
name: web-termination
scenario: instance-termination
service: {{name: web, tier: critical, owner: sre}}
parameters:
  region: us-east-1
  group: web-asg
  target_group: web-tg
  health_url: "{url}"
  percent: 33
objectives: {{rto: 30s}}
poll: 0.2s
guardrails:
  accounts: ["{account}"]
  max_targets: {max_targets}
  require_tags: {{drill: {tag}}}
  time_limit: 2m
  allow_irreversible: true          # terminated instances cannot come back (SPEC 7.3)
"""

AZ_DRILL = """\
kind: drill
name: web-az-loss
scenario: az-loss
service: {{name: web, tier: critical, owner: sre}}
parameters:
  region: us-east-1
  az: us-east-1a
  app: web
  group: web-asg
  target_group: web-tg
  health_url: "{url}"
objectives: {{rto: 30s}}
poll: 0.2s
guardrails:
  accounts: ["123456789012"]
  require_tags: {{drill: allowed}}
  time_limit: 10m
"""


def termination_drill(tmp_path: Path, url: str, account: str = "123456789012", max_targets: int = 5,
                      tag: str = "allowed") -> Path:
    return write_drill(tmp_path / "drills" / "web-termination.yaml",
                       TERMINATION_DRILL.format(url=url, account=account, max_targets=max_targets, tag=tag))


def fault_journaled(tmp_path: Path):
    """True once the run under test has journaled its fault: the service is healthy
    before (the steady state holds, SPEC 7.1) and fails from the fault on."""
    def seen() -> bool:
        return any('"event": "fault"' in j.read_text() for j in (tmp_path / "drill-results").glob("*/*/journal.jsonl"))
    return seen


def scorecard_of(tmp_path: Path, drill: str) -> dict:
    cards = sorted((tmp_path / "drill-results" / drill).glob("*/scorecard.json"))
    assert len(cards) == 1, cards
    return json.loads(cards[0].read_text())


def any_terminated(moto_url: str):
    ec2 = client("ec2", moto_url)

    def seen() -> bool:
        return any(i["State"]["Name"] == "terminated"
                   for r in ec2.describe_instances()["Reservations"] for i in r["Instances"])
    return seen


def test_measured_rto_matches_a_controlled_recovery_delay(moto_url, web_estate, tmp_path):
    """The health endpoint turns healthy 2.0 s after it first sees the fault: RTO ≈ 2.0 s."""
    delay = 2.0
    with HealthEndpoint(any_terminated(moto_url), delay) as health:
        drill = termination_drill(tmp_path, health.url)
        started = time.monotonic()
        result = drtool(["run", str(drill), "--yes"], moto_url, tmp_path)
        elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    card = scorecard_of(tmp_path, "web-termination")
    rto = card["objectives"]["rto"]
    assert abs(rto["measured_s"] - delay) <= 0.5, rto
    assert elapsed >= delay                       # real time really passed
    assert card["run"]["status"] == "passed" and rto["met"] is True
    states = instance_states(moto_url)
    assert list(states.values()).count("terminated") == 1
    assert card["targets"][0]["id"] in states and states[card["targets"][0]["id"]] == "terminated"
    assert "PASSED" in result.stdout and "scorecard:" in result.stdout
    assert "Traceback" not in result.stderr


def wait_for_event(run_root: Path, event: str, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for journal in run_root.glob("*/*/journal.jsonl"):
            if f'"event": "{event}"' in journal.read_text():
                return journal
        time.sleep(0.05)
    raise AssertionError(f"no {event} event within {timeout}s")


def test_sigkill_mid_drill_then_drtool_rollback_restores_everything(moto_url, web_estate, tmp_path):
    original = acl_associations(moto_url, web_estate["vpc"])
    with HealthEndpoint(fault_journaled(tmp_path), delay=10_000) as health:     # never recovers
        drill = write_drill(tmp_path / "drills" / "az.yaml", AZ_DRILL.format(url=health.url))
        proc = spawn(["run", str(drill), "--yes"], moto_url, tmp_path)
        journal = wait_for_event(tmp_path / "drill-results", "fault")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    changed = acl_associations(moto_url, web_estate["vpc"])
    assert changed[web_estate["subnets"]["us-east-1a"]] != original[web_estate["subnets"]["us-east-1a"]]
    assert not (journal.parent / "scorecard.json").exists()

    result = drtool(["rollback", journal.parent.name, "--yes"], moto_url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert acl_associations(moto_url, web_estate["vpc"]) == original
    leftovers = client("ec2", moto_url).describe_network_acls(
        Filters=[{"Name": "tag-key", "Values": ["drtool:run-id"]}])["NetworkAcls"]
    assert leftovers == []
    card = json.loads((journal.parent / "scorecard.json").read_text())
    assert card["run"]["status"] == "aborted" and card["rollback"]["status"] == "complete"

    again = drtool(["rollback", str(journal), "--yes"], moto_url, tmp_path)
    assert again.returncode == 0 and "nothing to undo" in again.stdout


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_during_run_rolls_back_and_exits_3(moto_url, web_estate, tmp_path, sig):
    original = acl_associations(moto_url, web_estate["vpc"])
    with HealthEndpoint(fault_journaled(tmp_path), delay=10_000) as health:
        drill = write_drill(tmp_path / "drills" / "az.yaml", AZ_DRILL.format(url=health.url))
        proc = spawn(["run", str(drill), "--yes"], moto_url, tmp_path)
        wait_for_event(tmp_path / "drill-results", "fault")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert acl_associations(moto_url, web_estate["vpc"]) == original
    card = scorecard_of(tmp_path, "web-az-loss")
    assert card["run"]["status"] == "aborted" and "interrupted" in card["run"]["reason"]
    assert card["rollback"]["status"] == "complete"
    assert "Traceback" not in err


REFUSALS = [
    ("wrong account", {"account": "111111111111"}, [], "not in guardrails.accounts"),
    ("max targets", {"max_targets": 0}, [], "exceed max_targets"),
    ("required tags", {"tag": "forbidden"}, [], "lacks required tags drill=forbidden"),
    ("no --yes off a terminal", {}, ["--no-yes"], "stdin is not a terminal"),
]


@pytest.mark.parametrize("name,fmt,flags,message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_guardrail_refusals_change_nothing(moto_url, web_estate, tmp_path, name, fmt, flags, message):
    before = instance_states(moto_url)
    acls_before = acl_associations(moto_url, web_estate["vpc"])
    drill = termination_drill(tmp_path, "http://127.0.0.1:9/health", **fmt)
    args = ["run", str(drill)] + ([] if "--no-yes" in flags else ["--yes"])
    result = drtool(args, moto_url, tmp_path)
    assert result.returncode == 4, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert instance_states(moto_url) == before
    assert acl_associations(moto_url, web_estate["vpc"]) == acls_before
    assert not (tmp_path / "drill-results").exists()


def test_plan_is_read_only_and_names_targets_and_iam(moto_url, web_estate, tmp_path):
    before = instance_states(moto_url)
    drill = termination_drill(tmp_path, "http://127.0.0.1:9/health")
    result = drtool(["plan", str(drill), "--seed", "3"], moto_url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ec2:TerminateInstances" in result.stdout
    assert "random 1 of 3" in result.stdout
    assert instance_states(moto_url) == before
    dry = drtool(["run", str(drill), "--dry-run", "--seed", "3"], moto_url, tmp_path)
    assert dry.returncode == 0 and dry.stdout == result.stdout
    assert instance_states(moto_url) == before


def test_unreachable_endpoint_is_one_line_error(tmp_path):
    drill = termination_drill(tmp_path, "http://127.0.0.1:9/health")
    result = drtool(["plan", str(drill)], "http://127.0.0.1:9", tmp_path)
    assert result.returncode == 3
    assert "EndpointUnreachable" in result.stderr and "Traceback" not in result.stderr


def test_malformed_drill_is_exit_2_with_file_and_line(moto_url, tmp_path):
    drill = write_drill(tmp_path / "drills" / "bad.yaml",
                        TERMINATION_DRILL.format(url="x", account="123456789012", max_targets=1, tag="a")
                        .replace("poll: 0.2s", "poll: sometimes"))
    result = drtool(["run", str(drill), "--yes"], moto_url, tmp_path)
    assert result.returncode == 2
    assert f"{drill}:12:" in result.stderr and "duration" in result.stderr
    assert "Traceback" not in result.stderr
