"""Issue 15 done-when: a workaround drill in the sandbox records a workaround instant
before recovery. The AZ-loss scenario gains a workaround track: the on-call switches the
shop to its degraded mode (a manual acknowledgement) and waits until at least one target
serves again; the runbook waits for full capacity in the other zones."""

from __future__ import annotations

import json

import yaml

from tests.e2e.test_sandbox_drills import ROOT, drtool, only_run

WORKAROUND = """\
workaround:
  - manual: Switch the shop to degraded mode (catalogue read-only, orders queued).
  - wait: elbv2.targets-healthy
    name: degraded shop serving
    with: {target_group: "${target_group}", region: "${region}", min: 1}
    timeout: 5m
"""


def test_a_workaround_is_in_place_before_full_recovery(tmp_path):
    scenario = (ROOT / "scenarios" / "az-loss.yaml").read_text().replace("\nverify:", "\n" + WORKAROUND + "verify:")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "az-loss-workaround.yaml").write_text(
        scenario.replace("name: az-loss", "name: az-loss-workaround", 1))
    drill = yaml.safe_load((ROOT / "drills" / "az-loss.yaml").read_text())
    drill.update(name="shop-az-loss-workaround", scenario="../scenarios/az-loss-workaround.yaml")
    (tmp_path / "drills").mkdir()
    path = tmp_path / "drills" / "az-loss-workaround.yaml"
    path.write_text(yaml.safe_dump(drill, sort_keys=False))

    result = drtool(["run", str(path), "--sandbox", "--yes", "--assume-manual"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    card = json.loads((only_run(tmp_path, "shop-az-loss-workaround") / "scorecard.json").read_text())
    rto = card["objectives"]["rto"]
    assert rto["first"] == "workaround" and rto["workaround_at"] < rto["recovered_at"]
    assert 0 <= rto["workaround_s"] < rto["measured_s"]
    assert [t["status"] for t in card["timeline"] if t["phase"] == "workaround"] == ["ok", "ok"]
    assert card["rollback"]["status"] == "complete"
