"""The bundled region-loss drill fails over with ARC routing controls in the sandbox and rolls
them back (compare-and-swap undo), checked on the fake's own state."""

from __future__ import annotations

import json
from pathlib import Path

from drtool.api import drill_target
from drtool.runner import RunOptions, run_drill

ROOT = Path(__file__).resolve().parents[2]


def test_region_loss_drill_fails_over_with_arc_and_rolls_back(tmp_path):
    with drill_target(ROOT / "drills" / "checkout-region-loss.yaml", sandbox=True) as (drill, session, mode):
        result = run_drill(drill, session, RunOptions(results=tmp_path, yes=True, mode=mode))
        card = result.scorecard
        assert result.exit_code == 0, card["run"]["reason"]
        journal = [json.loads(line) for line in (result.run_dir / "journal.jsonl").read_text().splitlines()]
        [arc] = [e for e in journal if e["event"] == "change.intent"
                 and (e.get("undo") or {}).get("name") == "arc.restore-routing-control"]
        assert list(arc["undo"]["params"]["applied"].values()) == ["Off"]
        text = json.dumps(card)
        assert "is Off" in text and "answers usw2.shop.example.com." in text

        panel = arc["resources"][0].split("/routingcontrol/")[0]
        controls = session.client("route53-recovery-control-config", "us-west-2").list_routing_controls(
            ControlPanelArn=panel)["RoutingControls"]
        endpoints = arc["undo"]["params"]["endpoints"]
        cluster = session.client("route53-recovery-cluster", endpoints[0]["Region"])
        states = {c["Name"]: cluster.get_routing_control_state(RoutingControlArn=c["RoutingControlArn"])[
            "RoutingControlState"] for c in controls}
        assert states == {"use1": "On", "usw2": "On"}
        assert card["rollback"]["status"] == "complete"
