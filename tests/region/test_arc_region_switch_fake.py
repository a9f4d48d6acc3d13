"""The ARC Region switch fake served to in-process clients (FakeClock): plans, executions moving
through the documented states, both wire protocols (awsJson1_0, which boto3 picks, and
rpcv2Cbor), and `arc.start-region-switch` waiting for an execution and noting its steps."""

from __future__ import annotations

import boto3
import botocore.model
import pytest
from botocore.exceptions import ClientError

from drtool.aws import arc_region_switch
from drtool.context import StepContext
from drtool.errors import DrToolError
from drtool.journal import Journal
from drtool.sandbox.fakes.arc_switch_http import cbor_decode, cbor_encode, cbor_error, serving
from drtool.sandbox.fakes.arc_switch_state import FakeRegionSwitch
from drtool.timing import FakeClock
from tests.region.helpers import journal_events

ROLE = "arn:aws:iam::123456789012:role/region-switch"


def plan_request(name: str = "shop", approval: bool = False) -> dict:
    asgs = [{"arn": f"arn:aws:autoscaling:{region}:123456789012:autoScalingGroup:"
                    f"{n}1234567-89ab-cdef-0123-456789abcdef:autoScalingGroupName/web"}
            for n, region in ((0, "us-east-1"), (1, "us-west-2"))]
    steps = [{"name": "scale-usw2", "executionBlockType": "EC2AutoScaling", "executionBlockConfiguration": {
        "ec2AsgCapacityIncreaseConfig": {"asgs": asgs}}},
             {"name": "routing", "executionBlockType": "ARCRoutingControl", "executionBlockConfiguration": {
                 "arcRoutingControlConfig": {"regionAndRoutingControls": {}}}}]
    if approval:
        steps.insert(0, {"name": "approve", "executionBlockType": "ManualApproval", "executionBlockConfiguration": {
            "executionApprovalConfig": {"approvalRole": ROLE}}})
    return {"name": name, "regions": ["us-east-1", "us-west-2"], "recoveryApproach": "activePassive",
            "primaryRegion": "us-east-1", "executionRole": ROLE,
            "workflows": [{"workflowTargetAction": "activate", "workflowTargetRegion": "us-west-2", "steps": steps},
                          {"workflowTargetAction": "activate", "workflowTargetRegion": "us-east-1", "steps": []}]}


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def fake(session, clock):
    with serving(FakeRegionSwitch(clock, "123456789012", step_seconds=30)) as served:
        yield served


@pytest.fixture
def ctx(session, clock, tmp_path, fake):
    return StepContext(aws=session, clock=clock, region="us-east-1", run_id="run-rs", step="recover/switch",
                       journal=Journal(tmp_path / "journal.jsonl", clock), drill="t")


def test_an_execution_runs_its_steps_in_order_on_the_clock(session, fake, clock):
    client = session.client("arc-region-switch", "us-east-1")
    plan = client.create_plan(**plan_request())["plan"]
    assert plan["arn"].startswith("arn:aws:arc-region-switch::123456789012:plan/shop:") and plan["owner"]
    assert client.get_plan(arn=plan["arn"])["plan"]["name"] == "shop"
    started = client.start_plan_execution(planArn=plan["arn"], targetRegion="us-west-2", action="activate")
    assert (started["activateRegion"], started["deactivateRegion"]) == ("us-west-2", "us-east-1")
    ident = {"planArn": plan["arn"], "executionId": started["executionId"]}

    def states():
        got = client.get_plan_execution(**ident)
        return got["executionState"], [(s["name"], s["status"]) for s in got["stepStates"]]

    assert states() == ("inProgress", [("scale-usw2", "running"), ("routing", "notStarted")])
    with pytest.raises(ClientError, match="IllegalStateException"):
        client.start_plan_execution(planArn=plan["arn"], targetRegion="us-west-2", action="activate")
    clock.advance(30)
    assert states() == ("inProgress", [("scale-usw2", "completed"), ("routing", "running")])
    clock.advance(30)
    assert states() == ("completed", [("scale-usw2", "completed"), ("routing", "completed")])
    done = client.get_plan_execution(**ident)
    assert done["endTime"].timestamp() == done["startTime"].timestamp() + 60 and done["actualRecoveryTime"] == "PT60S"
    [item] = client.list_plan_executions(planArn=plan["arn"])["items"]
    assert item["executionState"] == "completed"


def test_errors_carry_the_documented_codes(session, fake):
    client = session.client("arc-region-switch", "us-east-1")
    plan = client.create_plan(**plan_request())["plan"]["arn"]
    missing = plan[:-6] + "zzzzzz"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_plan(arn=missing)
    with pytest.raises(client.exceptions.IllegalArgumentException, match="not one of the plan's regions"):
        client.start_plan_execution(planArn=plan, targetRegion="eu-west-1", action="activate")
    with pytest.raises(client.exceptions.IllegalArgumentException, match="no workflow to deactivate"):
        client.start_plan_execution(planArn=plan, targetRegion="us-west-2", action="deactivate")
    with pytest.raises(client.exceptions.ConflictException):
        client.create_plan(**plan_request())


def test_manual_approval_waits_and_cancel_ends_it(session, fake, clock):
    client = session.client("arc-region-switch", "us-east-1")
    plan = client.create_plan(**plan_request(approval=True))["plan"]["arn"]
    run = client.start_plan_execution(planArn=plan, targetRegion="us-west-2", action="activate")["executionId"]
    clock.advance(300)
    got = client.get_plan_execution(planArn=plan, executionId=run)
    assert got["executionState"] == "pendingManualApproval" and got["stepStates"][0]["status"] == "pendingApproval"
    client.approve_plan_execution_step(planArn=plan, executionId=run, stepName="approve", approval="approve")
    got = client.get_plan_execution(planArn=plan, executionId=run)
    assert got["executionState"] == "inProgress" and got["stepStates"][1]["status"] == "running"
    client.cancel_plan_execution(planArn=plan, executionId=run)
    got = client.get_plan_execution(planArn=plan, executionId=run)
    assert got["executionState"] == "canceled" and got["stepStates"][1]["status"] == "canceled"


def test_the_action_waits_for_the_execution_and_notes_each_step(ctx, fake):
    plan = ctx.client("arc-region-switch", "us-east-1").create_plan(**plan_request())["plan"]["arn"]
    out = arc_region_switch.start_region_switch(
        ctx, arc_region_switch.StartParams(plan_arn=plan, target_region="us-west-2", poll=10), [])
    assert out.data["state"] == "completed"
    assert out.data["steps"] == [{"name": "scale-usw2", "status": "completed"},
                                 {"name": "routing", "status": "completed"}]
    [execution] = fake.executions.values()
    notes = [e["message"] for e in journal_events(ctx, "note")]
    assert notes == [f"Region switch execution {execution.id} started",
                     "Region switch step scale-usw2: running", "Region switch step routing: notStarted",
                     "Region switch step scale-usw2: completed", "Region switch step routing: running",
                     "Region switch step routing: completed"]
    assert execution.mode == "graceful" and execution.comment == "drtool run run-rs step recover/switch"
    assert execution.id.startswith("us-east-1/") and len(execution.id.split("/")[1]) == 16


def test_a_failed_step_fails_the_action(ctx, fake):
    fake.fail_steps.add("routing")
    plan = ctx.client("arc-region-switch", "us-east-1").create_plan(**plan_request())["plan"]["arn"]
    with pytest.raises(DrToolError, match="is pausedByFailedStep"):
        arc_region_switch.start_region_switch(
            ctx, arc_region_switch.StartParams(plan_arn=plan, target_region="us-west-2", poll=10), [])
    assert "Region switch step routing: failed" in [e["message"] for e in journal_events(ctx, "note")]


# --- rpcv2Cbor -------------------------------------------------------------------------------


def test_cbor_round_trips_through_botocores_parser():
    from botocore.parsers import RpcV2CBORParser
    from botocore.session import get_session

    shape = get_session().get_service_model("arc-region-switch").operation_model("GetPlanExecution").output_shape
    from datetime import UTC, datetime

    value = {"planArn": "arn:aws:arc-region-switch::123456789012:plan/p:abcdef", "executionId": "e" * 40,
             "startTime": datetime(2026, 1, 1, tzinfo=UTC), "mode": "graceful", "executionState": "inProgress",
             "executionAction": "activate", "executionRegion": "us-west-2",
             "stepStates": [{"name": "s" * 300, "status": "running"}]}
    body = cbor_encode(value, shape)
    parsed = RpcV2CBORParser().parse({"body": body, "headers": {}, "status_code": 200}, shape)
    parsed.pop("ResponseMetadata", None)
    assert parsed == value
    assert cbor_decode(body)["stepStates"][0]["name"] == "s" * 300
    error = RpcV2CBORParser().parse({"body": cbor_error("ResourceNotFoundException", "gone"), "headers": {},
                                     "status_code": 404}, None)
    assert error["Error"] == {"Code": "ResourceNotFoundException", "Message": "gone"}


@pytest.fixture
def cbor_first(monkeypatch):
    """A client that speaks rpcv2Cbor, as SDKs that rank it above awsJson1_0 do."""
    monkeypatch.setattr(botocore.model, "PRIORITY_ORDERED_SUPPORTED_PROTOCOLS",
                        ("smithy-rpc-v2-cbor", "json", "rest-json", "rest-xml", "query", "ec2"))


def test_a_cbor_client_sees_the_same_service(aws, fake, clock, cbor_first):
    client = boto3.Session(region_name="us-east-1").client("arc-region-switch")
    assert client.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"
    seen: list[str] = []
    client.meta.events.register("before-send", lambda request, **_: seen.append(request.url) and None)
    plan = client.create_plan(**plan_request())["plan"]["arn"]
    run = client.start_plan_execution(planArn=plan, targetRegion="us-west-2", action="activate")["executionId"]
    clock.advance(60)
    got = client.get_plan_execution(planArn=plan, executionId=run)
    assert got["executionState"] == "completed" and got["startTime"].timestamp() == clock.now() - 60
    assert seen[0].endswith("/service/ArcRegionSwitch/operation/CreatePlan")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_plan(arn=plan[:-6] + "zzzzzz")


def test_a_routing_control_step_sets_the_controls_listed_for_the_region(session, fake, clock):
    applied: list[list[dict]] = []
    fake.routing = applied.append
    use1 = "arn:aws:route53-recovery-control::123456789012:controlpanel/p/routingcontrol/use1"
    usw2 = "arn:aws:route53-recovery-control::123456789012:controlpanel/p/routingcontrol/usw2"
    request = plan_request()
    request["workflows"][0]["steps"][1]["executionBlockConfiguration"]["arcRoutingControlConfig"] = {
        "regionAndRoutingControls": {"us-west-2": [{"routingControlArn": usw2, "state": "On"},
                                                   {"routingControlArn": use1, "state": "Off"}],
                                     "us-east-1": [{"routingControlArn": use1, "state": "On"}]}}
    request["workflows"].append({"workflowTargetAction": "deactivate", "steps": request["workflows"][0]["steps"]})
    client = session.client("arc-region-switch", "us-east-1")
    plan = client.create_plan(**request)["plan"]["arn"]
    client.start_plan_execution(planArn=plan, targetRegion="us-west-2", action="activate")
    clock.advance(30)
    assert applied == []                                   # the routing step is still running
    clock.advance(30)
    client.list_plans()
    assert applied == [[{"RoutingControlArn": usw2, "RoutingControlState": "On"},
                        {"RoutingControlArn": use1, "RoutingControlState": "Off"}]]
    run = client.start_plan_execution(planArn=plan, targetRegion="us-west-2", action="deactivate")["executionId"]
    clock.advance(60)
    client.list_plans()
    assert applied[-1] == [{"RoutingControlArn": usw2, "RoutingControlState": "Off"},
                           {"RoutingControlArn": use1, "RoutingControlState": "On"}]

    def refuse(entries):
        raise RuntimeError("control panel not DEPLOYED")

    fake.routing = refuse
    run = client.start_plan_execution(planArn=plan, targetRegion="us-west-2", action="activate")["executionId"]
    clock.advance(60)
    got = client.get_plan_execution(planArn=plan, executionId=run)
    assert got["executionState"] == "pausedByFailedStep" and got["stepStates"][1]["status"] == "failed"
