"""arc.set-routing-control, its compare-and-swap undo and the ARC probes, against the ARC fake
(moto has no ARC) served to in-process clients through botocore's before-send event; the
Region switch action against botocore's Stubber (the fake: test_arc_region_switch_fake.py)."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from drtool.aws import arc, arc_region_switch
from drtool.errors import DrToolError
from drtool.sandbox.fakes.arc_http import CLUSTER, CONFIG, in_process
from drtool.sandbox.fakes.arc_state import ArcFake
from tests.region.helpers import journal_events, run_undo

DEAD = "http://127.0.0.1:1"        # a closed loopback port: the first endpoint is down
LIVE = "http://127.0.0.1:2"


@pytest.fixture
def estate(session):
    """A cluster with two routing controls (use1 On, usw2 Off) behind the fake."""
    fake = ArcFake("123456789012", LIVE)
    handler = in_process(fake)

    def answer(request, **kw):
        return None if request.url.startswith(DEAD) else handler(request, **kw)

    boto = session._boto_session()._session
    for service in (CONFIG, CLUSTER):
        boto.register(f"before-send.{service}", answer)
    with handler:
        cluster = fake.create_cluster("c", {"drill": "allowed"})["Cluster"]["ClusterArn"]
        panel = fake.create_control_panel(cluster, "p", {"drill": "allowed"})["ControlPanel"]["ControlPanelArn"]
        use1 = fake.create_routing_control(cluster, "use1", panel)["RoutingControl"]["RoutingControlArn"]
        usw2 = fake.create_routing_control(cluster, "usw2", panel)["RoutingControl"]["RoutingControlArn"]
        fake.update_states([{"RoutingControlArn": use1, "RoutingControlState": "On"}])
        yield {"fake": fake, "use1": use1, "usw2": usw2, "panel": panel}


def _state(estate, name):
    return estate["fake"].get_state(estate[name])["RoutingControlState"]


def test_set_routing_controls_through_the_second_endpoint_and_undo(ctx, estate):
    endpoints = [{"Endpoint": DEAD, "Region": "us-east-1"}, {"Endpoint": LIVE, "Region": "us-west-2"}]
    params = arc.SetParams(turn_off=[estate["use1"]], turn_on=[estate["usw2"]], endpoints=endpoints)
    assert [t.tags for t in arc._touches(ctx, params)] == [{"drill": "allowed"}]
    out = arc.set_routing_control(ctx, params, [])
    assert (_state(estate, "use1"), _state(estate, "usw2")) == ("Off", "On")
    assert out.data["previous"] == {estate["use1"]: "On", estate["usw2"]: "Off"}
    probe = arc.routing_control_state(ctx, arc.StateParams(routing_control_arn=estate["use1"], state="Off"))
    assert probe.ok, probe.detail       # found through the control-config API (no endpoints given)

    [intent] = journal_events(ctx, "change.intent")
    assert intent["undo"]["params"]["previous"] == {estate["use1"]: "On", estate["usw2"]: "Off"}
    assert "back" in run_undo(ctx, intent["undo"])
    assert (_state(estate, "use1"), _state(estate, "usw2")) == ("On", "Off")
    assert "already as it was" in run_undo(ctx, intent["undo"])
    assert (_state(estate, "use1"), _state(estate, "usw2")) == ("On", "Off")


def test_undo_restores_only_what_still_holds_the_drills_state(ctx, estate):
    arc.set_routing_control(ctx, arc.SetParams(turn_off=[estate["use1"]], turn_on=[estate["usw2"]]), [])
    estate["fake"].update_states([{"RoutingControlArn": estate["use1"], "RoutingControlState": "On"}])  # operator
    [intent] = journal_events(ctx, "change.intent")
    run_undo(ctx, intent["undo"])
    assert (_state(estate, "use1"), _state(estate, "usw2")) == ("On", "Off")


def test_nothing_to_change_journals_nothing(ctx, estate):
    out = arc.set_routing_control(ctx, arc.SetParams(turn_on=[estate["use1"]]), [])
    assert "nothing changed" in out.detail and journal_events(ctx, "change.intent") == []


def test_fake_errors_follow_aws(ctx, estate):
    endpoints = [{"Endpoint": LIVE, "Region": "us-west-2"}]
    with pytest.raises(Exception, match="ValidationException"):
        arc.read_state(ctx, endpoints, "not-an-arn")
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        arc.read_state(ctx, endpoints, estate["use1"][:-4] + "0000")
    dead = [{"Endpoint": DEAD, "Region": r} for r in ("us-east-1", "us-west-2")]
    with pytest.raises(DrToolError, match="no ARC cluster endpoint answered"):
        arc.read_state(ctx, dead, estate["use1"])


def test_region_switch_waits_and_notes_its_steps(ctx):
    client = ctx.client("arc-region-switch", "us-east-1")
    raw = client._client
    plan = "arn:aws:arc-region-switch::123456789012:plan/shop:abc"
    with Stubber(raw) as stub:
        stub.add_response("start_plan_execution", {"executionId": "e1"},
                          {"planArn": plan, "targetRegion": "us-west-2", "action": "activate", "mode": "ungraceful",
                           "comment": f"drtool run {ctx.run_id}"})
        running = {"planArn": plan, "executionId": "e1", "executionState": "inProgress", "mode": "ungraceful",
                   "startTime": 1767225600, "executionRegion": "us-west-2", "executionAction": "activate",
                   "stepStates": [{"name": "scale", "status": "running"}]}
        done = {**running, "executionState": "completed", "stepStates": [{"name": "scale", "status": "completed"}]}
        stub.add_response("get_plan_execution", running, {"planArn": plan, "executionId": "e1"})
        stub.add_response("get_plan_execution", done, {"planArn": plan, "executionId": "e1"})
        out = arc_region_switch.start_region_switch(
            ctx, arc_region_switch.StartParams(plan_arn=plan, target_region="us-west-2", poll=1), [])
    assert out.data["state"] == "completed" and out.data["steps"] == [{"name": "scale", "status": "completed"}]
    notes = [e["message"] for e in journal_events(ctx, "note")]
    assert notes == ["Region switch step scale: running", "Region switch step scale: completed"]
    assert ctx.follow_ups and "switch back" in ctx.follow_ups[0]["how"]


def test_every_endpoint_throttled_goes_round_again_then_gives_up(ctx, estate, monkeypatch):
    """AWS: retry across the cluster's endpoints. When each one was throttled, drtool waits
    (the step clock) and tries the rotation again, at most CLUSTER_ROUNDS times."""
    from botocore.awsrequest import AWSResponse

    class Raw:
        def stream(self, **_kw):
            yield b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'

    throttled = {"left": 2}

    def throttle(request, **_kw):
        if throttled["left"] > 0 and request.url.startswith(LIVE):
            throttled["left"] -= 1
            return AWSResponse(request.url, 429, {"x-amzn-ErrorType": "ThrottlingException"}, Raw())
        return None

    monkeypatch.setattr(arc, "_CLIENTS", {})            # clients copy the events at creation
    emitter = ctx.aws._boto_session()._session.get_component("event_emitter")
    emitter.register_first("before-send.route53-recovery-cluster", throttle)
    slept: list[float] = []
    monkeypatch.setattr(ctx.clock, "sleep", slept.append)
    endpoints = [{"Endpoint": LIVE, "Region": "us-west-2"}]
    assert arc.read_state(ctx, endpoints, estate["use1"]) == "On"      # third round answers
    assert len(slept) == 2 and throttled["left"] == 0

    throttled["left"] = 99
    with pytest.raises(DrToolError, match="no ARC cluster endpoint answered"):
        arc.read_state(ctx, endpoints, estate["use1"])
    assert throttled["left"] == 99 - arc.CLUSTER_ROUNDS
