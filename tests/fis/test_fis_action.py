"""fis.experiment against the FIS fake (in-process moto): starts, waits until running,
stops on rollback only while live, deletes its temporary template; the fake's clock ends
the fault by itself."""

from __future__ import annotations

import pytest

from drtool.aws import fis
from drtool.errors import DrToolError
from drtool.journal import read_journal
from tests.aws.cas_helpers import rollback

ROLE = "arn:aws:iam::123456789012:role/fis"
PAUSE = {"pause": {"actionId": "aws:s3:bucket-pause-replication",
                   "parameters": {"duration": "PT5M", "region": "us-west-2"}, "targets": {"Buckets": "orders"}}}
ORDERS = {"orders": {"resourceType": "aws:s3:bucket", "resourceArns": ["arn:aws:s3:::shop-orders-use1"],
                     "selectionMode": "ALL"}}


def _inline(**extra):
    return fis.ExperimentParams(actions=PAUSE, targets=ORDERS, role_arn=ROLE, **extra)


def _status(session, experiment_id):
    return session.client("fis", "us-east-1").get_experiment(id=experiment_id)["experiment"]


def _templates(session):
    return session.client("fis", "us-east-1").list_experiment_templates()["experimentTemplates"]


def test_inline_pause_runs_then_ends_by_itself_and_rollback_only_deletes_the_template(session, ctx, clock,
                                                                                      replicator):
    out = fis.start_experiment(ctx, _inline(), [])
    exp = _status(session, out.data["experiment_id"])
    assert exp["state"]["status"] == "running" and out.data["actions"] == {"pause": "running"}
    assert list(replicator.paused) == ["shop-orders-use1"]
    [template] = _templates(session)
    assert template["tags"]["drtool:run-id"] == "run-fis"

    clock.advance(301)   # FIS's own clock: the pause ends after its duration, drtool or not
    exp = _status(session, out.data["experiment_id"])
    assert exp["state"]["status"] == "completed"
    assert exp["actions"]["pause"]["state"]["status"] == "completed"
    assert replicator.resumed == ["shop-orders-use1"] and not replicator.paused

    assert rollback(ctx) == []
    done = [e for e in read_journal(ctx.journal.path) if e["event"] == "undo.done"]
    assert "completed" in done[0]["detail"]            # stop: compare-and-swap saw it ended
    assert _status(session, out.data["experiment_id"])["state"]["status"] == "completed"
    assert _templates(session) == []                    # the temporary template is gone


def test_rollback_stops_a_live_experiment_and_the_fault_ends(session, ctx, replicator):
    out = fis.start_experiment(ctx, _inline(), [])
    assert rollback(ctx) == []
    assert _status(session, out.data["experiment_id"])["state"]["status"] == "stopped"
    assert replicator.resumed == ["shop-orders-use1"] and not replicator.paused
    assert _templates(session) == []
    assert rollback(ctx) == []   # idempotent


def test_existing_template_is_used_and_left_in_place(session, ctx):
    client = session.client("fis", "us-east-1")
    template = client.create_experiment_template(
        clientToken="mine", description="team template", roleArn=ROLE, stopConditions=[{"source": "none"}],
        targets=ORDERS, actions=PAUSE)["experimentTemplate"]["id"]
    out = fis.start_experiment(ctx, fis.ExperimentParams(template_id=template), [])
    assert out.data["template_id"] == template
    assert rollback(ctx) == []
    assert [t["id"] for t in _templates(session)] == [template]
    assert _status(session, out.data["experiment_id"])["state"]["status"] == "stopped"


def test_unknown_template_fails_before_anything_starts(session, ctx):
    with pytest.raises(Exception, match="not found"):
        fis.start_experiment(ctx, fis.ExperimentParams(template_id="EXTNOSUCH"), [])
    assert session.client("fis", "us-east-1").list_experiments()["experiments"] == []


def test_a_failed_experiment_is_an_error_and_rollback_removes_the_template(session, ctx):
    targets = {"web": {"resourceType": "aws:ec2:instance", "resourceTags": {"app": "nothing-has-this"},
                       "selectionMode": "ALL"}}
    actions = {"stop": {"actionId": "aws:ec2:stop-instances", "targets": {"Instances": "web"}}}
    with pytest.raises(DrToolError, match="failed: Action stop failed.*resolved to no resource"):
        fis.start_experiment(ctx, fis.ExperimentParams(actions=actions, targets=targets, role_arn=ROLE), [])
    assert rollback(ctx) == []
    assert _templates(session) == []


def test_params_need_exactly_one_source():
    with pytest.raises(ValueError, match="either template_id or inline"):
        fis.ExperimentParams(template_id="EXT1", actions=PAUSE, role_arn=ROLE)
    with pytest.raises(ValueError, match="needs role_arn"):
        fis.ExperimentParams(actions=PAUSE, targets=ORDERS)


def test_probe_reports_the_runs_experiments(session, ctx, clock):
    assert not fis.experiment_state(ctx, fis.StateParams()).ok
    fis.start_experiment(ctx, _inline(), [])
    assert not fis.experiment_state(ctx, fis.StateParams()).ok
    assert fis.experiment_state(ctx, fis.StateParams(states=["running"])).ok
    clock.advance(301)
    assert fis.experiment_state(ctx, fis.StateParams()).ok
