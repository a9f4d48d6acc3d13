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
FLAKY = "http://127.0.0.1:4"       # never reaches the fake: answered by `cluster_errors` hooks only


@pytest.fixture
def estate(session):
    """A cluster with two routing controls (use1 On, usw2 Off) behind the fake."""
    fake = ArcFake("123456789012", LIVE)
    handler = in_process(fake)

    def answer(request, **kw):
        return None if request.url.startswith((DEAD, FLAKY)) else handler(request, **kw)

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


def test_region_switch_sends_graceful_with_a_step_token_and_reads_every_page(ctx):
    """The request drtool sends (graceful by default, the step's clientToken, the run's comment)
    and GetPlanExecution read page by page (nextToken) before the execution is judged."""
    client = ctx.client("arc-region-switch", "us-east-1")
    raw = client._client
    plan = "arn:aws:arc-region-switch::123456789012:plan/shop:abcdef"
    ident = {"planArn": plan, "executionId": "us-west-2/0123456789abcdef"}
    token = arc_region_switch.client_token(ctx.run_id, ctx.step)
    with Stubber(raw) as stub:
        stub.add_response("start_plan_execution", {"executionId": ident["executionId"], "deactivateRegion": "us-east-1"},
                          {"planArn": plan, "targetRegion": "us-west-2", "action": "activate", "mode": "graceful",
                           "comment": f"drtool run {ctx.run_id} step {ctx.step}", "clientToken": token})
        base = {**ident, "executionState": "inProgress", "mode": "graceful", "startTime": 1767225600,
                "executionRegion": "us-west-2", "executionAction": "activate"}
        stub.add_response("get_plan_execution", {**base, "stepStates": [{"name": "scale", "status": "running"}],
                                                 "nextToken": "t1"}, ident)
        stub.add_response("get_plan_execution", {**base, "stepStates": [{"name": "route", "status": "notStarted"}]},
                          {**ident, "nextToken": "t1"})
        done = {**base, "executionState": "completed"}
        stub.add_response("get_plan_execution", {**done, "stepStates": [{"name": "scale", "status": "completed"}],
                                                 "nextToken": "t2"}, ident)
        stub.add_response("get_plan_execution", {**done, "stepStates": [{"name": "route", "status": "completed"}]},
                          {**ident, "nextToken": "t2"})
        out = arc_region_switch.start_region_switch(
            ctx, arc_region_switch.StartParams(plan_arn=plan, target_region="us-west-2", poll=1), [])
        stub.assert_no_pending_responses()
    assert out.data["state"] == "completed" and out.data["steps"] == [{"name": "scale", "status": "completed"},
                                                                       {"name": "route", "status": "completed"}]
    notes = [e["message"] for e in journal_events(ctx, "note")]
    assert notes == ["Region switch execution us-west-2/0123456789abcdef started", "Region switch step scale: running",
                     "Region switch step route: notStarted", "Region switch step scale: completed",
                     "Region switch step route: completed"]
    assert "--target-region us-east-1 --action activate" in ctx.follow_ups[0]["how"]
    [intent] = journal_events(ctx, "change.intent")
    assert intent["undo"]["name"] == "arc.cancel-region-switch" and intent["undo"]["params"] == {
        "plan_arn": plan, "marker": f"drtool run {ctx.run_id} step {ctx.step}"}


def test_region_switch_params_say_what_goes_with_what():
    plan = "arn:aws:arc-region-switch::123456789012:plan/shop:abcdef"
    with pytest.raises(ValueError, match="postRecovery only"):
        arc_region_switch.StartParams(plan_arn=plan, target_region="us-east-1",
                                      recovery_execution_id="us-west-2/0123456789abcdef")
    with pytest.raises(ValueError, match="not an execution id"):
        arc_region_switch.StartParams(plan_arn=plan, target_region="us-east-1", action="postRecovery",
                                      recovery_execution_id="e1")
    with pytest.raises(ValueError):
        arc_region_switch.StateParams(plan_arn=plan, execution_id="x", state="done")
    token = arc_region_switch.client_token("run-1", "recover/switch")
    assert token == arc_region_switch.client_token("run-1", "recover/switch")
    assert token != arc_region_switch.client_token("run-2", "recover/switch")
    assert len(token) <= 128 and all(0x21 <= ord(c) <= 0x7E for c in token)


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

    arc.forget_cluster_clients(ctx.aws)                 # clients copy the events at creation
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



def _answer_with(errors: dict[str, int]):
    """A before-send hook answering requests to FLAKY with the next error of `errors` (code ->
    how many times left), with the HTTP status AWS sends it with."""
    from botocore.awsrequest import AWSResponse

    status = {"ConflictException": 409, "EndpointTemporarilyUnavailableException": 503,
              "InternalServerException": 500, "ServiceLimitExceededException": 402}

    class Raw:
        def __init__(self, code: str) -> None:
            self.code = code

        def stream(self, **_kw):
            yield f'{{"__type": "{self.code}", "message": "try again"}}'.encode()

    def answer(request, **_kw):
        if not request.url.startswith(FLAKY):
            return None
        code = next(c for c, left in errors.items() if left > 0)
        errors[code] -= 1
        return AWSResponse(request.url, status[code], {"x-amzn-ErrorType": code}, Raw(code))

    return answer


@pytest.fixture
def cluster_errors(ctx, monkeypatch):
    """Serve `_answer_with(errors)` on fresh cluster clients; sleeps are recorded, not slept."""
    emitter = ctx.aws._boto_session()._session.get_component("event_emitter")
    slept: list[float] = []
    monkeypatch.setattr(ctx.clock, "sleep", slept.append)

    def install(errors: dict[str, int]) -> list[float]:
        arc.forget_cluster_clients(ctx.aws)             # clients copy the events at creation
        emitter.register_first("before-send.route53-recovery-cluster", _answer_with(errors))
        return slept

    return install


def test_a_conflict_is_tried_again(ctx, estate, cluster_errors):
    """ConflictException: "There was a conflict with this request. Try again." (API reference);
    setting an absolute state twice changes nothing more, so the write is sent again."""
    errors = {"ConflictException": 2}
    slept = cluster_errors(errors)
    endpoints = [{"Endpoint": FLAKY, "Region": "us-east-1"}, {"Endpoint": FLAKY, "Region": "eu-west-1"},
                 {"Endpoint": LIVE, "Region": "us-west-2"}]
    out = arc.set_routing_control(ctx, arc.SetParams(turn_on=[estate["usw2"]], endpoints=endpoints), [])
    assert _state(estate, "usw2") == "On" and out.data["states"][estate["usw2"]] == "On"
    assert errors == {"ConflictException": 0} and slept == []

    errors["ConflictException"] = 99                   # every endpoint keeps conflicting: rounds, then no
    with pytest.raises(DrToolError, match="no ARC cluster endpoint answered.*ConflictException"):
        arc.cluster_call(ctx, endpoints[:1], "update_routing_control_states", UpdateRoutingControlStateEntries=[
            {"RoutingControlArn": estate["usw2"], "RoutingControlState": "Off"}])
    assert errors["ConflictException"] == 99 - arc.CLUSTER_ROUNDS and len(slept) == arc.CLUSTER_ROUNDS - 1


def test_an_unavailable_endpoint_or_internal_error_rotates_to_the_next(ctx, estate, cluster_errors):
    errors = {"EndpointTemporarilyUnavailableException": 1, "InternalServerException": 1}
    slept = cluster_errors(errors)
    endpoints = [{"Endpoint": FLAKY, "Region": "us-east-1"}, {"Endpoint": FLAKY, "Region": "eu-west-1"},
                 {"Endpoint": LIVE, "Region": "us-west-2"}]
    assert arc.read_state(ctx, endpoints, estate["use1"]) == "On"       # the third endpoint answers
    assert errors == {"EndpointTemporarilyUnavailableException": 0, "InternalServerException": 0} and slept == []
    assert arc._transient(_client_error("EndpointTemporarilyUnavailableException", 400))   # whatever the status
    assert not arc._transient(_client_error("ValidationException", 400))


def _client_error(code: str, status: int):
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "UpdateRoutingControlStates")


def test_too_many_states_at_once_is_not_sent_again(ctx, estate, cluster_errors):
    errors = {"ServiceLimitExceededException": 5}
    slept = cluster_errors(errors)
    endpoints = [{"Endpoint": FLAKY, "Region": "us-east-1"}, {"Endpoint": LIVE, "Region": "us-west-2"}]
    with pytest.raises(Exception, match="ServiceLimitExceededException"):
        arc.cluster_call(ctx, endpoints, "update_routing_control_states", UpdateRoutingControlStateEntries=[
            {"RoutingControlArn": estate["usw2"], "RoutingControlState": "On"}])
    assert errors == {"ServiceLimitExceededException": 4} and slept == [] and _state(estate, "usw2") == "Off"


def test_cluster_clients_live_and_die_with_their_session(ctx, estate):
    """Cached on the session object itself, never under id(session), which a new session can reuse."""
    import gc
    import weakref

    from drtool.aws.session import AwsSession

    endpoint = {"Endpoint": LIVE, "Region": "us-west-2"}
    first = arc._cluster_client(ctx, endpoint)
    assert arc._cluster_client(ctx, endpoint) is first
    other = AwsSession(region="us-east-1")
    other_ctx = type(ctx)(aws=other, clock=ctx.clock, region=ctx.region, run_id=ctx.run_id)
    second = arc._cluster_client(other_ctx, endpoint)
    assert second is not first and arc._cluster_client(other_ctx, endpoint) is second
    gone = weakref.ref(other)
    del other, other_ctx, second
    gc.collect()
    assert gone() is None                               # the cache kept neither the session nor its clients
