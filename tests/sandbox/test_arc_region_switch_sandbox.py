"""ARC Region switch in the sandbox: the server serves the fake to boto3 like any AWS service,
the webshop estate comes with a plan (`${sandbox.region_switch_plan}`), and
`arc.start-region-switch` starts an execution there, waits for it, notes every step, and its
routing control step moves DNS to the activated Region."""

from __future__ import annotations

import pytest

from drtool.aws import arc_region_switch
from drtool.context import StepContext
from drtool.journal import Journal
from drtool.timing import SystemClock
from tests.region.helpers import journal_events, run_undo
from tests.sandbox.helpers import elapsed_until, get


@pytest.fixture(scope="module")
def webshop():
    from drtool.sandbox import Sandbox

    sb = Sandbox.load("webshop").start()
    yield sb
    sb.stop()


def _switch(ctx, plan: str, region: str) -> dict:
    return arc_region_switch.start_region_switch(
        ctx, arc_region_switch.StartParams(plan_arn=plan, target_region=region, poll=0.2), []).data


def _ctx(sb, tmp_path, step: str) -> StepContext:
    clock = SystemClock()
    return StepContext(aws=sb.session(), clock=clock, region="us-east-1", run_id="run-sb", step=step,
                       journal=Journal(tmp_path / "journal.jsonl", clock), drill="t")


def test_the_provisioned_plan_switches_regions_through_routing_controls(webshop, tmp_path):
    sb = webshop
    plan = sb.values()["region_switch_plan"]
    client = sb.client("arc-region-switch", "us-east-1")
    got = client.get_plan(arn=plan)["plan"]
    assert got["name"] == "webshop-switch" and got["regions"] == ["us-east-1", "us-west-2"]
    ctx = _ctx(sb, tmp_path, "recover/switch")
    url = sb.values()["endpoint"] + "/health"
    assert get(url)[1]["region"] == "us-east-1"
    try:
        out = _switch(ctx, plan, "us-west-2")
        assert out["state"] == "completed" and out["steps"] == [{"name": "routing-controls", "status": "completed"}]
        assert out["mode"] == "graceful" and out["execution_id"].startswith("us-east-1/")
        notes = [e["message"] for e in journal_events(ctx, "note")]
        assert notes == [f"Region switch execution {out['execution_id']} started",
                         "Region switch step routing-controls: running", "Region switch step routing-controls: completed"]
        cluster = sb.client("route53-recovery-cluster", "us-west-2")
        states = {c["RoutingControlName"]: c["RoutingControlState"]
                  for c in cluster.list_routing_controls()["RoutingControls"]}
        assert states == {"use1": "Off", "usw2": "On"}
        elapsed_until(lambda: get(url)[1]["region"] == "us-west-2", timeout=10)
        execution = client.get_plan_execution(planArn=plan, executionId=out["execution_id"])
        assert execution["comment"] == "drtool run run-sb step recover/switch"
        assert execution["executionRegion"] == "us-west-2" and execution["stepStates"][0]["stepMode"] == "graceful"
        undo = journal_events(ctx, "change.intent")[0]["undo"]
        assert run_undo(ctx, undo).endswith(f"{out['execution_id']} completed.")      # finished: left as it is
    finally:
        assert _switch(_ctx(sb, tmp_path, "rollback/switch-back"), plan, "us-east-1")["state"] == "completed"
    elapsed_until(lambda: get(url)[1]["region"] == "us-east-1", timeout=10)


def test_reprovision_starts_over_with_one_fresh_plan(webshop):
    webshop.reprovision()
    plans = webshop.client("arc-region-switch", "us-east-1").list_plans()["plans"]
    assert [p["arn"] for p in plans] == [webshop.values()["region_switch_plan"]]
    assert webshop._server.region_switch.executions == {}
