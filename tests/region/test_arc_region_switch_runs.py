"""`arc.start-region-switch` as AWS documents the calls, against the in-process fake (FakeClock):
the clientToken (a resent or replayed start gets the same execution; other parameters a
ConflictException), postRecovery's recoveryExecutionId, graceful vs ungraceful mode, pause and
resume, paged stepStates, and the undo that cancels an execution left running or paused."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from drtool.aws import arc_region_switch
from drtool.aws.session import AwsSession
from drtool.context import StepContext
from drtool.errors import DrToolError
from drtool.journal import Journal
from drtool.sandbox.fakes.arc_switch_http import serving
from drtool.sandbox.fakes.arc_switch_state import FakeRegionSwitch
from drtool.timing import FakeClock
from tests.region.helpers import journal_events, run_undo
from tests.region.test_arc_region_switch_fake import plan_request
from tests.safety.faults import FaultInjector

LAMBDA = "arn:aws:lambda:us-west-2:123456789012:function:warm-up"
AURORA = "arn:aws:rds:us-west-2:123456789012:cluster:shop"


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def fake(session, clock):
    with serving(FakeRegionSwitch(clock, "123456789012", step_seconds=30)) as served:
        yield served


def make_ctx(session, clock, tmp_path, step="recover/switch", run_id="run-rs"):
    return StepContext(aws=session, clock=clock, region="us-east-1", run_id=run_id, step=step,
                       journal=Journal(tmp_path / "journal.jsonl", clock), drill="t")


@pytest.fixture
def ctx(session, clock, tmp_path, fake):
    return make_ctx(session, clock, tmp_path)


def start(ctx, plan, region="us-west-2", **kw):
    return arc_region_switch.start_region_switch(
        ctx, arc_region_switch.StartParams(plan_arn=plan, target_region=region, poll=10, **kw), [])


def undo_of(ctx) -> dict:
    [intent] = [e for e in journal_events(ctx, "change.intent") if e["step"] == ctx.step]
    return intent["undo"]


def test_a_reused_token_returns_the_same_execution_and_other_params_conflict(session, fake):
    client = session.client("arc-region-switch", "us-east-1")
    plan = client.create_plan(**plan_request())["plan"]["arn"]
    request = {"planArn": plan, "targetRegion": "us-west-2", "action": "activate", "clientToken": "tok-1"}
    first = client.start_plan_execution(**request)["executionId"]
    assert client.start_plan_execution(**request)["executionId"] == first   # in progress: no IllegalState
    with pytest.raises(client.exceptions.ConflictException, match="different request parameters"):
        client.start_plan_execution(**{**request, "mode": "ungraceful"})
    assert list(fake.executions) == [first]


def test_a_lost_answer_is_resent_with_the_token_and_starts_one_execution(clock, tmp_path, fake, aws):
    injector = FaultInjector(kind="read-timeout", at=1, operation="arc-region-switch:StartPlanExecution")
    lossy = AwsSession(region="us-east-1", on_client=injector.attach, base_delay=0.0)
    ctx = make_ctx(lossy, clock, tmp_path)
    plan = ctx.client("arc-region-switch").create_plan(**plan_request())["plan"]["arn"]
    out = start(ctx, plan)
    assert [i.operation for i in injector.injected] == ["arc-region-switch:StartPlanExecution"]
    assert injector.calls.count("arc-region-switch:StartPlanExecution") == 2
    assert list(fake.executions) == [out.data["execution_id"]] and out.data["state"] == "completed"
    again = start(ctx, plan)                                 # a replayed step: same run, same step, same token
    assert again.data["execution_id"] == out.data["execution_id"] and len(fake.executions) == 1


def test_post_recovery_follows_the_recovery_execution_this_run_journaled(session, clock, tmp_path, fake):
    request = plan_request()
    request["workflows"].append({"workflowTargetAction": "postRecovery", "steps": [
        {"name": "re-replicate", "executionBlockType": "CustomActionLambda", "executionBlockConfiguration": {
            "customActionLambdaConfig": {"lambdas": [{"arn": LAMBDA}], "retryIntervalMinutes": 1,
                                         "regionToRun": "inactiveRegion"}}}]})
    client = session.client("arc-region-switch", "us-east-1")
    plan = client.create_plan(**request)["plan"]["arn"]
    recover = make_ctx(session, clock, tmp_path)
    with pytest.raises(DrToolError, match="this run started none"):
        start(make_ctx(session, clock, tmp_path, step="failback/post"), plan, "us-east-1", action="postRecovery")
    recovery = start(recover, plan).data["execution_id"]
    post = start(make_ctx(session, clock, tmp_path, step="failback/post"), plan, "us-east-1", action="postRecovery")
    got = client.get_plan_execution(planArn=plan, executionId=post.data["execution_id"])
    assert got["executionAction"] == "postRecovery" and got["recoveryExecutionId"] == recovery
    assert post.data["state"] == "completed"
    with pytest.raises(client.exceptions.IllegalArgumentException, match="recoveryExecutionId is required"):
        client.start_plan_execution(planArn=plan, targetRegion="us-east-1", action="postRecovery")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.start_plan_execution(planArn=plan, targetRegion="us-east-1", action="postRecovery",
                                    recoveryExecutionId="us-east-1/00000000000000aa")
    with pytest.raises(client.exceptions.IllegalArgumentException, match="opposite"):
        client.start_plan_execution(planArn=plan, targetRegion="us-west-2", action="postRecovery",
                                    recoveryExecutionId=recovery)


def mode_plan() -> dict:
    """Steps whose block has an ungraceful setting: a Lambda skipped, Aurora failing over."""
    request = plan_request()
    request["workflows"][0]["steps"] = [
        {"name": "warm-up", "executionBlockType": "CustomActionLambda", "executionBlockConfiguration": {
            "customActionLambdaConfig": {"lambdas": [{"arn": LAMBDA}], "retryIntervalMinutes": 1,
                                         "regionToRun": "activatingRegion", "ungraceful": {"behavior": "skip"}}}},
        {"name": "database", "executionBlockType": "AuroraGlobalDatabase", "executionBlockConfiguration": {
            "globalAuroraConfig": {"behavior": "switchoverOnly", "ungraceful": {"ungraceful": "failover"},
                                   "globalClusterIdentifier": "shop", "databaseClusterArns": [AURORA]}}},
        *request["workflows"][0]["steps"]]
    return request


@pytest.mark.parametrize("mode, warm_up, database", [("graceful", "completed", "switchoverOnly"),
                                                     ("ungraceful", "skipped", "failover")])
def test_the_mode_decides_what_each_block_does(ctx, fake, mode, warm_up, database):
    plan = ctx.client("arc-region-switch").create_plan(**mode_plan())["plan"]["arn"]
    out = start(ctx, plan, mode=mode)
    assert out.data["mode"] == mode and out.data["state"] == "completed"
    assert out.data["steps"][:2] == [{"name": "warm-up", "status": warm_up}, {"name": "database", "status": "completed"}]
    [execution] = fake.executions.values()
    assert [s.behavior for s in execution.steps][:2] == [None, database]
    got = ctx.client("arc-region-switch").get_plan_execution(planArn=plan, executionId=execution.id)
    assert got["mode"] == mode and {s["stepMode"] for s in got["stepStates"]} == {mode}


def test_switch_to_ungraceful_applies_to_the_steps_still_to_come(session, fake, clock):
    client = session.client("arc-region-switch", "us-east-1")
    request = mode_plan()
    steps = request["workflows"][0]["steps"]
    steps[0], steps[1] = steps[1], steps[0]                    # the database first, then the Lambda
    plan = client.create_plan(**request)["plan"]["arn"]
    run = client.start_plan_execution(planArn=plan, targetRegion="us-west-2", action="activate")["executionId"]
    client.update_plan_execution(planArn=plan, executionId=run, action="switchToUngraceful")
    clock.advance(120)
    got = client.get_plan_execution(planArn=plan, executionId=run)
    assert got["mode"] == "ungraceful" and got["executionState"] == "completed"
    assert [(s["name"], s["status"], s["stepMode"]) for s in got["stepStates"][:2]] == [
        ("database", "completed", "graceful"), ("warm-up", "skipped", "ungraceful")]


def test_pause_freezes_the_running_step_until_resume(session, fake, clock):
    client = session.client("arc-region-switch", "us-east-1")
    plan = client.create_plan(**plan_request())["plan"]["arn"]
    ident = {"planArn": plan, "executionId": client.start_plan_execution(
        planArn=plan, targetRegion="us-west-2", action="activate")["executionId"]}
    clock.advance(20)
    client.update_plan_execution(**ident, action="pause")
    clock.advance(300)
    got = client.get_plan_execution(**ident)
    assert got["executionState"] == "pausedByOperator" and got["stepStates"][0]["status"] == "running"
    with pytest.raises(client.exceptions.IllegalStateException):
        client.update_plan_execution(**ident, action="pause")
    client.update_plan_execution(**ident, action="resume")
    clock.advance(10)                                           # the 10 s the step had left
    assert [s["status"] for s in client.get_plan_execution(**ident)["stepStates"]] == ["completed", "running"]
    clock.advance(30)
    assert client.get_plan_execution(**ident)["executionState"] == "completed"
    with pytest.raises(client.exceptions.IllegalStateException):
        client.update_plan_execution(**ident, action="resume")


def test_every_page_of_step_states_is_read(ctx, fake):
    fake.page_size = 1
    plan = ctx.client("arc-region-switch").create_plan(**mode_plan())["plan"]["arn"]
    out = start(ctx, plan)
    assert [s["name"] for s in out.data["steps"]] == ["warm-up", "database", "scale-usw2", "routing"]
    assert [s["status"] for s in out.data["steps"]] == ["completed"] * 4
    page = ctx.client("arc-region-switch").get_plan_execution(planArn=plan, executionId=out.data["execution_id"])
    assert len(page["stepStates"]) == 1 and page["nextToken"]


def test_an_execution_waiting_for_approval_at_the_timeout_is_cancelled_by_the_undo(ctx, fake, clock):
    plan = ctx.client("arc-region-switch").create_plan(**plan_request(approval=True))["plan"]["arn"]
    with pytest.raises(DrToolError, match="still pendingManualApproval after 120s") as caught:
        start(ctx, plan, timeout=120)
    assert "rollback cancels" in (caught.value.hint or "")
    [execution] = fake.executions.values()
    assert execution.state == "pendingManualApproval"
    message = run_undo(ctx, undo_of(ctx))
    assert message == f"Region switch execution(s) of this step: {execution.id} canceled."
    assert execution.state == "canceled" and execution.steps[0].status == "canceled"
    assert run_undo(ctx, undo_of(ctx)) == message                    # idempotent: nothing left to cancel


def test_a_paused_execution_stops_the_action_and_the_undo_cancels_it(ctx, fake):
    fake.fail_steps.add("scale-usw2")
    plan = ctx.client("arc-region-switch").create_plan(**plan_request())["plan"]["arn"]
    with pytest.raises(DrToolError, match="is pausedByFailedStep"):
        start(ctx, plan)
    [execution] = fake.executions.values()
    assert execution.state == "pausedByFailedStep" and execution.steps[1].status == "notStarted"
    run_undo(ctx, undo_of(ctx))
    assert execution.state == "canceled"


def test_the_undo_leaves_finished_and_foreign_executions_alone(session, clock, tmp_path, fake):
    fake.page_size = 1                                            # ListPlanExecutions is read page by page
    client = session.client("arc-region-switch", "us-east-1")
    plan = client.create_plan(**plan_request())["plan"]["arn"]
    ctx = make_ctx(session, clock, tmp_path)
    done = start(ctx, plan).data["execution_id"]
    other = client.start_plan_execution(planArn=plan, targetRegion="us-west-2", action="activate",
                                        comment="someone else")["executionId"]
    assert run_undo(ctx, undo_of(ctx)) == f"Region switch execution(s) of this step: {done} completed."
    assert fake.executions[other].state == "inProgress"
    nobody = {"name": "arc.cancel-region-switch", "params": {"plan_arn": plan, "marker": "drtool run gone step x"}}
    assert "nothing to cancel" in run_undo(ctx, nobody)


def test_cancel_and_approve_answer_within_their_modeled_errors(session, fake, clock):
    client = session.client("arc-region-switch", "us-east-1")
    plan = client.create_plan(**plan_request(approval=True))["plan"]["arn"]
    ident = {"planArn": plan, "executionId": client.start_plan_execution(
        planArn=plan, targetRegion="us-west-2", action="activate")["executionId"]}
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.approve_plan_execution_step(**ident, stepName="routing", approval="approve")
    client.cancel_plan_execution(**ident)
    client.cancel_plan_execution(**ident)                         # finished: answered, nothing changes
    assert client.get_plan_execution(**ident)["executionState"] == "canceled"
    with pytest.raises(ClientError) as caught:
        client.update_plan_execution(**ident, action="resume")
    assert caught.value.response["Error"]["Code"] == "IllegalStateException"


def test_a_cbor_client_pages_updates_and_post_recovers(aws, fake, clock, monkeypatch):
    """The new members and operations over rpcv2Cbor too (botocore's serializer walks the model)."""
    import boto3
    import botocore.model

    monkeypatch.setattr(botocore.model, "PRIORITY_ORDERED_SUPPORTED_PROTOCOLS",
                        ("smithy-rpc-v2-cbor", "json", "rest-json", "rest-xml", "query", "ec2"))
    client = boto3.Session(region_name="us-west-2").client("arc-region-switch")
    assert client.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"
    request = mode_plan()
    request["workflows"].append({"workflowTargetAction": "postRecovery", "steps": []})
    plan = client.create_plan(**request)["plan"]["arn"]
    run = client.start_plan_execution(planArn=plan, targetRegion="us-west-2", action="activate", mode="ungraceful",
                                      clientToken="cbor-1")["executionId"]
    assert run.startswith("us-west-2/")
    client.update_plan_execution(planArn=plan, executionId=run, action="pause")
    client.update_plan_execution(planArn=plan, executionId=run, action="resume")
    clock.advance(300)
    pages = list(client.get_paginator("get_plan_execution").paginate(
        planArn=plan, executionId=run, PaginationConfig={"PageSize": 2}))
    assert [len(p["stepStates"]) for p in pages] == [2, 2] and pages[0]["executionState"] == "completed"
    assert pages[0]["stepStates"][0]["status"] == "skipped"
    post = client.start_plan_execution(planArn=plan, targetRegion="us-east-1", action="postRecovery",
                                       recoveryExecutionId=run)["executionId"]
    [item] = client.list_plan_executions(planArn=plan, state="completed", maxResults=1, nextToken="page:1")["items"]
    assert item["executionId"] == post and item["recoveryExecutionId"] == run
