"""ARC Region switch in the sandbox: the server serves the fake to boto3 like any AWS service;
`arc.start-region-switch` starts a plan execution there, waits for it and notes every step."""

from __future__ import annotations

from drtool.aws import arc_region_switch
from drtool.context import StepContext
from drtool.journal import Journal
from drtool.timing import SystemClock
from tests.region.helpers import journal_events
from tests.region.test_arc_region_switch_fake import plan_request


def test_the_action_runs_a_plan_execution_on_the_sandbox_server(truth_sandbox, tmp_path):
    sb = truth_sandbox
    client = sb.client("arc-region-switch", "us-east-1")
    plan = client.create_plan(**plan_request("drill-switch"))["plan"]["arn"]
    assert [p["arn"] for p in client.list_plans()["plans"]] == [plan]
    clock = SystemClock()
    ctx = StepContext(aws=sb.session(), clock=clock, region="us-east-1", run_id="run-sb", step="recover/switch",
                      journal=Journal(tmp_path / "journal.jsonl", clock), drill="t")
    out = arc_region_switch.start_region_switch(
        ctx, arc_region_switch.StartParams(plan_arn=plan, target_region="us-west-2", poll=0.2), [])
    assert out.data["state"] == "completed" and [s["status"] for s in out.data["steps"]] == ["completed"] * 2
    notes = [e["message"] for e in journal_events(ctx, "note")]
    assert notes[-1] == "Region switch step routing: completed"
    assert "Region switch step scale-usw2: completed" in notes
    got = client.get_plan_execution(planArn=plan, executionId=out.data["execution_id"])
    assert got["executionState"] == "completed" and got["comment"] == "drtool run run-sb"
    client.delete_plan(arn=plan)
