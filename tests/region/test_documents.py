"""The bundled region-loss and rds-failover scenarios and drills load and bind (no AWS)."""

from __future__ import annotations

from pathlib import Path

from drtool.documents import check_scenario, load_drill

ROOT = Path(__file__).resolve().parents[2]


def test_scenarios_validate():
    assert check_scenario(ROOT / "scenarios/region-loss.yaml").parameters["dr_capacity"].default == 3
    check_scenario(ROOT / "scenarios/rds-failover.yaml")


def test_region_loss_drill_binds_every_step_to_a_region():
    drill = load_drill(ROOT / "drills/checkout-region-loss.yaml",
                       overrides={"health_url": "http://127.0.0.1:1/health"})
    assert drill.name == "checkout-region-loss" and drill.doc.sandbox.estate == "webshop"
    steps = {(s.phase, s.ref): s for s in drill.all_steps()}
    assert steps[("inject", "ec2.blackhole-subnets")].targets.tags == {"app": "shop"}
    assert steps[("recover", "autoscaling.set-capacity")].params.desired == 3
    assert steps[("recover", "rds.promote-read-replica")].region(None) == "us-west-2"
    assert all(s.region(drill.doc.aws.region) for s in drill.all_steps() if s.form != "manual")
    assert drill.doc.rpo.canary.interval == 0.25
    assert drill.doc.guardrails.stop_conditions == []   # both 5xx alarms fire during a region loss


def test_rds_failover_drill_binds():
    drill = load_drill(ROOT / "drills/rds-failover.yaml")
    [inject] = drill.steps["inject"]
    assert inject.ref == "rds.failover-cluster" and inject.params.target_instance == "shop-aurora-2"
