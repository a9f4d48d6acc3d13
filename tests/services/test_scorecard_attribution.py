"""Root cause to service in the scorecard (issue 15 item 5): a run whose drill names a
services file journals the file's ownership at run.started; the fold attributes the
impact, each failed check and each target to the services it impairs, and every report
prints a failed check as "checkout, shop-web impaired (<check>: <detail>)"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drtool.events import check_event
from drtool.outputs import render
from drtool.scorecard import build_scorecard
from drtool.scorecard_model import Scorecard
from drtool.services.attribution import ownership_of, run_services
from drtool.services.estate import load_services
from drtool.services.ownership import Ownership
from tests.services.conftest import SERVICES

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000.0
TG_DETAIL = "1 of 3 registered target(s) healthy in shop-use1-tg (need 3)."


def _events(ownership: dict | None) -> list[dict]:
    base = {"prev": "0" * 64, "sha256": "1" * 64}

    def ev(seq: int, name: str, t: float, **fields):
        return {"seq": seq, "event": name, "t": t, "at": f"2023-11-14T22:13:{seq:02d}.000Z", **fields, **base}

    started = dict(run_id="r1", drill="d", scenario="az-loss", mode="live",
                   service={"name": "shop-web", "tier": "important", "owner": "web-sre"}, tool_version="0",
                   objectives={"rto_s": 60.0, "rpo_s": None}, account_ids=["123456789012"], regions=["us-east-1"],
                   seed=None, schedule_every_s=None, drill_path="/d.yaml", parameters={}, sources={}, poll_s=0.5,
                   operator="me", time_scale=1.0, expires_at=None, time_limit_s=600.0, steady_state_checks=1, aws={})
    if ownership is not None:
        started["ownership"] = ownership
    return [
        ev(1, "run.started", T0, **started),
        ev(2, "targets.resolved", T0, step="black-hole", targets=[
            {"id": "subnet-1", "arn": None, "type": "ec2:subnet", "region": "us-east-1", "selected_by": "tags app=shop"},
            {"id": "vpc-9", "arn": None, "type": "ec2:vpc", "region": "us-east-1", "selected_by": ""}]),
        ev(3, "fault", T0 + 1),
        ev(4, "impact", T0 + 2, detail="enough healthy targets: " + TG_DETAIL),
        ev(5, "step.started", T0 + 3, phase="verify", step="targets healthy", kind="check", index=0),
        ev(6, "step.finished", T0 + 30, phase="verify", step="targets healthy", kind="check", index=0,
           status="timeout", detail=TG_DETAIL),
        ev(7, "step.started", T0 + 3, phase="verify", step="service answers", kind="check", index=1),
        ev(8, "step.finished", T0 + 30, phase="verify", step="service answers", kind="check", index=1,
           status="failed", detail="GET https://shop.example.com/health answered 503"),
        ev(9, "run.finished", T0 + 31, status="failed", reason="the checks did not all pass"),
    ]


def _ownership() -> dict:
    return ownership_of(load_services(SERVICES)).to_json()


def test_without_a_services_file_there_is_no_section():
    card = build_scorecard(_events(None))
    assert "attribution" not in card
    md = render(card, "md")
    assert "impaired" not in md and "| Resource | Type | Region | Selected by |" in md


def test_each_failed_check_and_target_names_its_services():
    card = build_scorecard(_events(_ownership()))
    typed = Scorecard.model_validate(card)
    assert typed.attribution is not None and typed.attribution.services_file == str(SERVICES)
    items = [(a.kind, a.step, a.timeline_index, a.owners, a.impaired) for a in typed.attribution.items]
    assert items == [
        ("check", None, None, ["shop-web"], ["checkout", "shop-web"]),                  # the impact
        ("check", "targets healthy", 0, ["shop-web"], ["checkout", "shop-web"]),      # names shop-use1-tg
        ("check", "service answers", 1, ["shop-web"], ["checkout", "shop-web"]),      # no resource: own service
        ("target", "black-hole", None, ["shop-web"], ["checkout", "shop-web"]),       # tags app=shop
        ("target", "black-hole", None, [], []),                                          # nobody's vpc
    ]
    assert typed.attribution.impaired == ["shop-web", "checkout"]     # the drill's own service first
    assert typed.attribution.items[1].what == f"targets healthy: {TG_DETAIL}"


def test_reports_print_failed_checks_by_service():
    card = build_scorecard(_events(_ownership()))
    line = f"checkout, shop-web impaired (targets healthy: {TG_DETAIL})"
    md, html, junit = (render(card, fmt) for fmt in ("md", "html", "junit"))
    assert f"- {line}" in md
    assert "| Services impaired | shop-web, checkout |" in md
    assert "| subnet-1 | ec2:subnet | us-east-1 | tags app=shop | checkout, shop-web |" in md
    assert "<h3>Failed checks by service</h3>" in html and f"<li>{line}</li>" in html
    assert f'message="check timeout: {line}"' in junit
    assert 'message="check failed: checkout, shop-web impaired (service answers: GET' in junit


def test_ownership_round_trips_through_the_journal():
    own = ownership_of(load_services(SERVICES))
    again = Ownership.from_json(json.loads(json.dumps(own.to_json())))
    assert again == own and again.impaired_by("shop-data") == ["checkout", "shop-data"]


def test_run_services_resolves_the_file_next_to_the_drill(tmp_path):
    class Doc:
        services = "services.yaml"

    class Drill:
        doc, path = Doc(), tmp_path / "drill.yaml"

    missing = run_services(Drill())
    assert missing.sources == {} and missing.started == {} and "cannot be read" in str(missing.problem)
    (tmp_path / "services.yaml").write_bytes(SERVICES.read_bytes())
    found = run_services(Drill())
    assert found.problem is None and found.sources["services"]["path"] == str(tmp_path / "services.yaml")
    assert len(found.sources["services"]["sha256"]) == 64 and found.started["ownership"]["services"]


@pytest.mark.e2e
def test_a_sandbox_run_names_the_service_of_its_failing_check(tmp_path):
    """az-loss with a verify check that cannot pass (4 healthy targets of 3): the run fails,
    and terminal, md, html and junit name shop-web's dependants for the target group."""
    (tmp_path / "services.yaml").write_bytes(SERVICES.read_bytes())
    scenario = (ROOT / "scenarios" / "az-loss.yaml").read_text()
    verify = scenario.index("verify:")
    strict = scenario[verify:].replace('min: "${min_healthy}"}', 'min: 4}\n    timeout: 5s', 1)
    (tmp_path / "az-loss-strict.yaml").write_text(scenario[:verify] + strict)
    drill = (ROOT / "drills" / "az-loss.yaml").read_text()
    (tmp_path / "drill.yaml").write_text(drill.replace("scenario: az-loss", "scenario: ./az-loss-strict.yaml\n"
                                                                            "services: services.yaml"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-m", "drtool", "run", "drill.yaml", "--sandbox", "--yes", "--format", "md",
                           "--format", "html", "--format", "junit"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 1, done.stderr[-3000:]
    line = "checkout, shop-web impaired (load balancer targets healthy: 3 of 3 registered target(s) healthy in " \
           "shop-use1-tg (need 4).)"
    assert f"impaired:  {line}" in done.stdout + done.stderr
    [run] = [p.parent for p in (tmp_path / "drill-results").glob("*/*/scorecard.json")]
    card = json.loads((run / "scorecard.json").read_text())
    assert card["run"]["sources"]["services"]["path"] == str(tmp_path / "services.yaml")
    assert Scorecard.model_validate(card).attribution is not None
    events = [json.loads(line) for line in (run / "journal.jsonl").read_text().splitlines()]
    assert [p for e in events for p in check_event(e)] == []          # run.started's `ownership` is typed
    assert line in (run / "scorecard.md").read_text().replace("\\", "")
    assert f"<li>{line}</li>" in (run / "scorecard.html").read_text()
    assert f'message="check timeout: {line}"' in (run / "junit.xml").read_text()


def test_dashboard_prefers_what_the_run_recorded_over_todays_services_file():
    """The engineers' page lists the services a run impaired as its scorecard recorded them
    (the services file as it was then), and falls back to today's file for older runs."""
    from drtool.outputs.card import read_scorecard
    from drtool.services.dashboard import build
    from drtool.services.pages import engineers
    from drtool.services.results import Result

    def result(card: dict, run_id: str) -> Result:
        sc = read_scorecard(card)
        return Result(drill="d", run_id=run_id, service="shop-web", disruption="az", mode="live", status="failed",
                      started_at="2023-11-14T22:13:01Z", rto_s=None, rpo_s=None, rto_target_s=60.0,
                      rpo_target_s=None, counts=True, card=sc)

    recorded = build_scorecard(_events(_ownership()))
    recorded["attribution"]["impaired"] = ["shop-web", "payments-then"]     # as the file said at the time
    older = build_scorecard(_events(None))
    board = build([result(recorded, "r1"), result(older, "r2")], load_services(SERVICES), now=T0 + 100)
    page = engineers(board)
    assert "<td>shop-web, payments-then</td>" in page                       # the run's own record
    assert "<td>shop-web, checkout</td>" in page                            # older run: today's file
