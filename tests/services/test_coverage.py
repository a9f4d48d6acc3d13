"""drtool coverage on the bundled estate: gaps worst-first, sandbox never counts, exit 1
until checkout's region-loss cell is drilled live; attribution of checks and targets."""

from __future__ import annotations

import json

from drtool.cli import invoke
from drtool.outputs.card import read_scorecard
from drtool.services.attribution import attribute
from drtool.services.estate import load_services
from tests.services.conftest import SERVICES, store_run

NOW = "2026-03-10T00:00:00Z"


def coverage(results, capsys, *extra):
    code = invoke(["coverage", "--services", str(SERVICES), "--results", str(results), "--now", NOW, *extra])
    return code, capsys.readouterr().out


def cover_checkout_except_region(results):
    store_run(results, "checkout-instance", "r1", service="checkout", scenario="rds-failover", rto=30)
    store_run(results, "checkout-az", "r1", service="checkout", scenario="az-loss", rto=60, rpo=10)
    store_run(results, "checkout-restore", "r1", service="checkout", scenario="backup-restore", rto=600, rpo=60)


def test_exits_1_until_the_critical_region_cell_is_drilled_live(results, capsys):
    cover_checkout_except_region(results)
    store_run(results, "checkout-region-loss", "sbx", service="checkout", scenario="region-loss", mode="sandbox", rpo=2)
    code, out = coverage(results, capsys)
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith("GATE") and "checkout (critical" in first and "region loss" in first
    assert "sandbox only: checkout-region-loss" in first           # a rehearsal is not coverage
    store_run(results, "checkout-region-loss", "live1", service="checkout", scenario="region-loss", rpo=2,
              started_at="2026-03-02T10:00:00.000Z")
    code, out = coverage(results, capsys)
    assert code == 0, out
    assert not [line for line in out.splitlines() if line.startswith("GATE")]
    assert "region           met: RTO 1m00s/30m00s RPO 2.00s/5m00s (2026-03-02, live)" in out


def test_nothing_stored_means_every_critical_cell_is_a_gate_region_first(results, capsys):
    code, out = coverage(results, capsys, "--json")
    doc = json.loads(out)
    assert code == 1 and doc["exit_code"] == 1
    assert doc["gating"][0].startswith("checkout (critical") and doc["gating"][0].endswith("for region loss")
    assert len(doc["gating"]) == 4                                 # only the gating tier's cells
    assert any(g.startswith("shop-web") for g in doc["gaps"]) and not any(g.startswith("shop-web") for g in doc["gating"])
    shop_data = next(s for s in doc["services"] if s["name"] == "shop-data")
    assert [c["state"] for c in shop_data["cells"]] == ["not-required"] * 3 + ["untested"]


def test_an_old_live_drill_is_overdue(results, capsys):
    cover_checkout_except_region(results)
    store_run(results, "checkout-region-loss", "old", service="checkout", scenario="region-loss", rpo=2,
              started_at="2025-10-01T00:00:00.000Z")
    code, out = coverage(results, capsys)
    assert code == 1
    assert "drill overdue since 2025-12-30" in out.splitlines()[0]


def test_a_missed_objective_is_shown_against_the_service_objective(results, capsys):
    cover_checkout_except_region(results)
    store_run(results, "checkout-region-loss", "slow", service="checkout", scenario="region-loss", rto=3600,
              rto_target=7200, rpo=2)
    code, out = coverage(results, capsys, "--json")
    region = next(c for s in json.loads(out)["services"] if s["name"] == "checkout" for c in s["cells"]
                  if c["disruption"] == "region")
    assert code == 0 and region["state"] == "missed" and region["rto_met"] is False   # 1h > checkout's 30m


def test_attested_actions_with_due_dates_and_overdue(results, capsys, tmp_path):
    from drtool.outputs.attest import build, filename
    from drtool.outputs.store import LocalStore
    from drtool.services.results import read_results

    folder = store_run(results, "checkout-region-loss", "r1", service="checkout", scenario="region-loss", rpo=2)
    card = json.loads((folder / "scorecard.json").read_text())
    att = build(card, subject="scorecard.json", reviewer="ann", findings=["slow DNS"],
                actions=[{"text": "lower TTL", "owner": "net", "due": "2026-03-01", "status": "open"}],
                risk_acceptance=None, sign_off=False, now=1.77e9, tool_version="t")
    (folder / filename(1.77e9)).write_text(json.dumps(att))
    code, out = coverage(results, capsys)
    assert "review           lower TTL (net) due 2026-03-01 OVERDUE" in out
    att["corrective_actions"][0]["text"] = "tampered"
    (folder / filename(1.77e9)).write_text(json.dumps(att))
    warnings: list[str] = []
    [result] = read_results(LocalStore(results).list_runs(), warnings)
    assert result.actions == [] and "digest" in warnings[0]


def test_missing_results_folder_and_bad_services_file_exit_2(tmp_path, capsys):
    assert invoke(["coverage", "--services", str(SERVICES), "--results", str(tmp_path / "none")]) == 2
    bad = tmp_path / "s.yaml"
    bad.write_text("kind: drill\n")
    assert invoke(["coverage", "--services", str(bad), "--results", str(tmp_path)]) == 2


def test_failed_check_and_targets_name_the_impaired_services():
    estate = load_services(SERVICES)
    card = {"service": {"name": "shop-web"},
            "timeline": [{"phase": "verify", "step": "targets healthy", "status": "failed",
                          "detail": "1 of 3 registered target(s) healthy in shop-use1-tg (need 3)."},
                         {"phase": "verify", "step": "service answers", "status": "ok", "detail": "200"}],
            "targets": [{"id": "subnet-1", "type": "ec2:subnet", "selected_by": "tags app=shop", "step": "black-hole"},
                        {"id": "shop-sessions", "type": "dynamodb:table", "step": "restore"},
                        {"id": "vpc-9", "type": "ec2:vpc", "step": "x"}]}
    found = attribute(read_scorecard(card), estate)     # a partial scorecard, read leniently
    assert [a.kind for a in found] == ["check", "target", "target", "target"]
    assert found[0].reads.startswith("checkout, shop-web impaired (targets healthy: 1 of 3")
    assert found[1].owners == ("shop-web",) and found[1].impaired == ("checkout", "shop-web")
    assert found[2].owners == ("shop-data",) and found[2].impaired == ("checkout", "shop-data")
    assert found[3].impaired == () and found[3].reads.startswith("no known service impaired")
