"""The sandbox's delay table (drtool/sandbox/delays.py): the docs are generated from it, the
estate defaults come from it, and the behaviour it encodes shows in drill scorecards.

The drill tests run `drtool run --sandbox` as a subprocess against a copy of the webshop
estate whose web group uses EC2 or ELB health checks, with an az-loss scenario whose
steady state is only `autoscaling.capacity-healthy`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from drtool.runner import SANDBOX_TIME_SCALE
from drtool.sandbox import delays
from drtool.sandbox.estate import ESTATES_DIR, Behaviour

ROOT = Path(__file__).resolve().parents[2]


def test_docs_are_generated_from_the_table():
    assert (ROOT / "docs" / "sandbox-delays.md").read_text() == delays.render_markdown(), \
        "regenerate: python -m drtool.sandbox.delays > docs/sandbox-delays.md"


def test_every_row_cites_an_aws_page_and_assumptions_say_so():
    for row in delays.DELAYS:
        title, url = row.source
        assert title and url.startswith(("https://docs.aws.amazon.com/", "https://aws.amazon.com/",
                                         "https://repost.aws/")), row.key
        if not row.documented:
            assert row.note, f"{row.key}: an assumed figure must say what AWS does document"
    assert delays.SANDBOX_TIME_SCALE is SANDBOX_TIME_SCALE   # one constant for runner and sandbox


def test_estate_defaults_are_the_table_at_the_time_scale():
    b = Behaviour()
    s = SANDBOX_TIME_SCALE
    assert b.target_unhealthy_after == pytest.approx(30 * 2 * s)
    assert b.target_healthy_after == pytest.approx(30 * 5 * s)
    assert b.replacement_delay == pytest.approx((60 + 30 * 5) * s)
    assert b.health_check_grace_period == pytest.approx(300 * s)
    assert b.dns_failover_after == pytest.approx(30 * 3 * s)
    assert b.dns_ttl == pytest.approx(60 * s)
    assert b.promotion_delay == pytest.approx(180 * s) and b.failover_delay == pytest.approx(35 * s)
    assert b.s3_pause_leak == pytest.approx(3600 * s)
    with pytest.raises(TypeError):
        delays.sandbox_seconds("alb_healthy_threshold")   # a count is not scaled


SCENARIO = """\
kind: scenario
name: az-loss-capacity-only
description: Black-hole one zone; judge the service only by the group's own health.
parameters:
  region: {type: string}
  az: {type: string}
  app: {type: string}
  group: {type: string}
steady_state:
  - check: autoscaling.capacity-healthy
    name: group healthy
    with: {group: "${group}", region: "${region}"}
inject:
  - action: ec2.blackhole-subnets
    name: black-hole the zone
    targets: {region: "${region}", tags: {app: "${app}"}, az: "${az}"}
recover:
  - wait: autoscaling.capacity-healthy
    name: group healthy
    with: {group: "${group}", region: "${region}"}
    timeout: 10m
verify:
  - check: autoscaling.capacity-healthy
    name: group healthy
    with: {group: "${group}", region: "${region}"}
rollback: []
"""


def _drill(tmp: Path, health_check_type: str, impact: str) -> Path:
    estate = yaml.safe_load((ESTATES_DIR / "webshop.yaml").read_text())
    for group in estate["groups"]:
        if group["name"] == "shop-use1":
            group["health_check_type"] = health_check_type
    (tmp / "estate.yaml").write_text(yaml.safe_dump(estate))
    (tmp / "scenario.yaml").write_text(SCENARIO)
    drill = f"""\
kind: drill
name: capacity-only-{health_check_type.lower()}
scenario: scenario.yaml
service: {{name: shop-web, tier: critical, owner: web-sre}}
parameters: {{region: us-east-1, az: us-east-1a, app: shop, group: shop-use1}}
objectives: {{rto: 5m}}
{impact}
recovery: {{stable_for: 30s}}
poll: 0.5s
guardrails:
  accounts: ["123456789012"]
  max_targets: 3
  require_tags: {{drill: allowed}}
  time_limit: 15m
sandbox: {{estate: estate.yaml}}
"""
    path = tmp / "drill.yaml"
    path.write_text(drill)
    return path


def _run(tmp: Path, drill: Path) -> tuple[subprocess.CompletedProcess, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-m", "drtool", "run", str(drill), "--sandbox", "--yes"], cwd=tmp,
                            env=env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    [card] = list((tmp / "drill-results").glob("*/*/scorecard.json"))
    return result, json.loads(card.read_text())


@pytest.mark.moto  # `drtool run --sandbox` in a subprocess
def test_ec2_health_checks_never_notice_a_blackholed_zone(tmp_path):
    """As on AWS: the group's instances stay InService/Healthy, so a drill that does not
    demand impact sees none and claims an RTO of about one poll."""
    result, card = _run(tmp_path, _drill(tmp_path, "EC2", "# no impact.expect"))
    assert result.returncode == 0, result.stderr[-2000:]
    rto = card["objectives"]["rto"]
    assert rto["impact_observed"] is False and rto["impact_at"] is None


@pytest.mark.moto  # `drtool run --sandbox` in a subprocess
def test_elb_health_checks_notice_it_after_interval_x_threshold(tmp_path):
    """The control: with ELB checks the group marks the zone's member unhealthy once the load
    balancer has (30 s x 2 scaled), so the impact the drill expects is observed."""
    result, card = _run(tmp_path, _drill(tmp_path, "ELB", "impact: {expect: true, within: 3m}"))
    assert result.returncode == 0, result.stderr[-2000:]
    rto = card["objectives"]["rto"]
    assert rto["impact_observed"] is True
    assert rto["detection_s"] >= delays.derived()["target_unhealthy_after"] - 0.1
