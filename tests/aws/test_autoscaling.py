"""autoscaling.set-capacity, its undo and the capacity-healthy probe against moto."""

from __future__ import annotations

import boto3
import pytest
from pydantic import ValidationError

from drtool.context import StepContext
from drtool.errors import DrToolError
from drtool.journal import Journal, read_journal
from drtool.registry import ACTIONS, PROBES, UNDOS
from drtool.timing import FakeClock
from tests.aws.cas_helpers import left_as_found, rollback


@pytest.fixture
def ctx(session, tmp_path):
    clock = FakeClock()
    return StepContext(aws=session, clock=clock, region="us-east-1", run_id="run-test",
                       journal=Journal(tmp_path / "journal.jsonl", clock), drill="t")


@pytest.fixture
def asg(aws):
    """Group `web` with min 1 / desired 2 / max 4."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]
    lt = ec2.create_launch_template(LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": "ami-12345678"})
    client = boto3.client("autoscaling", region_name="us-east-1")
    client.create_auto_scaling_group(
        AutoScalingGroupName="web", MinSize=1, DesiredCapacity=2, MaxSize=4, VPCZoneIdentifier=subnet["SubnetId"],
        LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplate"]["LaunchTemplateId"], "Version": "$Latest"})
    return client


def capacity(client):
    g = client.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    return g["MinSize"], g["DesiredCapacity"], g["MaxSize"]


def set_capacity(ctx, **with_):
    entry = ACTIONS.get("autoscaling.set-capacity")
    return entry.func(ctx, entry.params(**with_), [])


def run_undos(ctx):
    out = []
    for event in reversed(read_journal(ctx.journal.path)):
        if event["event"] == "change.intent" and event.get("undo"):
            entry = UNDOS.get(event["undo"]["name"])
            out.append(entry.func(ctx, entry.params.model_validate(event["undo"]["params"])))
    return out


def probe(ctx, **with_):
    entry = PROBES.get("autoscaling.capacity-healthy")
    return entry.func(ctx, entry.params(**with_))


def test_set_capacity_then_undo_restores(ctx, asg):
    out = set_capacity(ctx, group="web", desired=0, min=0)
    assert capacity(asg) == (0, 0, 4)
    assert out.data["before"] == {"min": 1, "desired": 2, "max": 4}
    (intent,) = [e for e in read_journal(ctx.journal.path) if e["event"] == "change.intent"]
    assert intent["undo"]["name"] == "autoscaling.restore-capacity"
    assert intent["undo"]["params"] == {"group": "web", "region": "us-east-1", "min": 1, "desired": 2, "max": 4,
                                        "applied": {"min": 0, "desired": 0, "max": 4}}

    assert run_undos(ctx) == ["Restored group web to min 1/desired 2/max 4 (was min 0/desired 0/max 4)."]
    assert capacity(asg) == (1, 2, 4)
    assert run_undos(ctx) == ["Group web is already at min 1/desired 2/max 4."]
    assert capacity(asg) == (1, 2, 4)


def test_set_capacity_validates_merged_values_before_any_change(ctx, asg):
    with pytest.raises(DrToolError, match="min <= desired <= max"):
        set_capacity(ctx, group="web", desired=9)  # max is 4; moto would accept it
    assert capacity(asg) == (1, 2, 4)
    assert read_journal(ctx.journal.path) == []


def test_set_capacity_params(aws):
    params = ACTIONS.get("autoscaling.set-capacity").params
    with pytest.raises(ValidationError, match="at least one"):
        params(group="web")
    with pytest.raises(ValidationError, match="min <= desired <= max"):
        params(group="web", min=3, max=2)
    with pytest.raises(ValidationError):
        params(group="web", desired=1, size=3)


def test_set_capacity_unchanged_or_missing_group(ctx, asg):
    assert "already at" in set_capacity(ctx, group="web", desired=2).detail
    assert read_journal(ctx.journal.path) == []
    with pytest.raises(DrToolError, match="not found"):
        set_capacity(ctx, group="nope", desired=1)


def test_restore_capacity_leaves_an_operator_change_as_found(ctx, asg):
    """An operator scales the group mid-drill: the undo does not overwrite their values."""
    set_capacity(ctx, group="web", desired=0, min=0)
    asg.update_auto_scaling_group(AutoScalingGroupName="web", MinSize=2, DesiredCapacity=3)  # the operator
    remaining = rollback(ctx)
    assert capacity(asg) == (2, 3, 4)
    (item,) = left_as_found(remaining)
    assert "group web is at min 2/desired 3/max 4, not the drill's min 0/desired 0/max 4" in item
    events = read_journal(ctx.journal.path)
    assert [e["event"] for e in events][-2:] == ["undo.started", "undo.failed"] and events[-1]["left_as_found"]
    assert left_as_found(rollback(ctx)) and capacity(asg) == (2, 3, 4)  # a second rollback: still left alone


def test_restore_capacity_after_a_crash_before_the_call(ctx, asg):
    """The intent is journaled but the update never happened: the group is at its original
    values, which counts as restored (not as changed)."""
    entry = UNDOS.get("autoscaling.restore-capacity")
    params = entry.params(group="web", min=1, desired=2, max=4, applied={"min": 0, "desired": 0, "max": 4})
    assert entry.func(ctx, params) == "Group web is already at min 1/desired 2/max 4."
    assert capacity(asg) == (1, 2, 4)


def test_restore_capacity_old_journal_without_applied_still_restores(ctx, asg):
    asg.update_auto_scaling_group(AutoScalingGroupName="web", MinSize=0, DesiredCapacity=1)
    entry = UNDOS.get("autoscaling.restore-capacity")
    assert entry.func(ctx, entry.params(group="web", min=1, desired=2, max=4)).startswith("Restored group web")
    assert capacity(asg) == (1, 2, 4)


def test_restore_capacity_when_group_is_gone(ctx, asg):
    asg.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)
    entry = UNDOS.get("autoscaling.restore-capacity")
    assert "no longer exists" in entry.func(ctx, entry.params(group="web", min=1, desired=2, max=4))


def test_capacity_healthy_ok_and_unhealthy(ctx, asg):
    result = probe(ctx, group="web")
    assert result.ok and result.data["desired"] == 2 and len(result.data["instances"]) == 2
    assert result.detail == "Group web has 2 of 2 desired instance(s) InService and Healthy."

    victim = result.data["instances"][0]
    asg.set_instance_health(InstanceId=victim, HealthStatus="Unhealthy")
    result = probe(ctx, group="web")
    assert not result.ok and result.data["healthy"] == 1
    assert f"{victim} is InService/Unhealthy" in result.detail


def test_capacity_healthy_missing_group(ctx, aws):
    result = probe(ctx, group="nope")
    assert not result.ok and "not found" in result.detail
