"""elbv2.targets-healthy against moto (a stopped instance reads `unused`)."""

from __future__ import annotations

import boto3
import pytest

from drtool.context import StepContext
from drtool.registry import PROBES
from drtool.timing import FakeClock


@pytest.fixture
def ctx(session):
    return StepContext(aws=session, clock=FakeClock(), region="us-east-1", run_id="run-test", read_only=True)


@pytest.fixture
def tg(aws):
    """Target group `web-tg` with three running instances registered."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId="ami-12345678", MinCount=3, MaxCount=3,
                                                       SubnetId=subnet)["Instances"]]
    elb = boto3.client("elbv2", region_name="us-east-1")
    arn = elb.create_target_group(Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": i, "Port": 80} for i in ids])
    empty = elb.create_target_group(Name="empty-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    return {"ec2": ec2, "arn": arn, "ids": sorted(ids), "empty": empty["TargetGroupArn"]}


def probe(ctx, **with_):
    entry = PROBES.get("elbv2.targets-healthy")
    return entry.func(ctx, entry.params(**with_))


def test_all_healthy_by_name_and_arn(ctx, tg):
    by_name = probe(ctx, target_group="web-tg")
    assert by_name.ok and by_name.data["targets"] == tg["ids"]
    assert by_name.detail == "3 of 3 registered target(s) healthy in web-tg (need 3)."
    assert probe(ctx, target_group=tg["arn"]).ok


def test_stopped_target_fails_default_but_meets_min(ctx, tg):
    tg["ec2"].stop_instances(InstanceIds=[tg["ids"][0]])
    result = probe(ctx, target_group="web-tg")
    assert not result.ok and result.data["healthy"] == 2
    assert f"{tg['ids'][0]} is unused" in result.detail
    assert probe(ctx, target_group="web-tg", min=2).ok
    assert not probe(ctx, target_group="web-tg", min=3).ok


def test_needs_at_least_one_healthy_and_missing_group(ctx, tg):
    empty = probe(ctx, target_group=tg["empty"])
    assert not empty.ok and "need 1" in empty.detail
    missing = probe(ctx, target_group="nope-tg")
    assert not missing.ok and "not found" in missing.detail


def _count_describe_target_groups(ctx) -> list[str]:
    calls: list[str] = []
    ctx.client("elbv2", "us-east-1").meta.events.register(
        "before-call.elastic-load-balancing-v2.DescribeTargetGroups", lambda **kw: calls.append("DescribeTargetGroups"))
    return calls


def test_a_name_is_looked_up_once_over_several_polls(ctx, tg):
    calls = _count_describe_target_groups(ctx)
    for _ in range(5):
        assert probe(ctx, target_group="web-tg").ok
    assert len(calls) == 1
    assert probe(ctx, target_group=tg["arn"]).ok and len(calls) == 1     # an ARN needs no lookup


def test_a_recreated_group_is_found_again_under_its_new_arn(ctx, tg):
    calls = _count_describe_target_groups(ctx)
    assert probe(ctx, target_group="web-tg").ok
    elb = boto3.client("elbv2", region_name="us-east-1")
    vpc = elb.describe_target_groups(TargetGroupArns=[tg["arn"]])["TargetGroups"][0]["VpcId"]
    elb.delete_target_group(TargetGroupArn=tg["arn"])
    new = elb.create_target_group(Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=new["TargetGroupArn"], Targets=[{"Id": tg["ids"][0], "Port": 80}])
    result = probe(ctx, target_group="web-tg")
    assert result.ok and result.data["targets"] == [tg["ids"][0]] and len(calls) == 2
    assert probe(ctx, target_group="web-tg").ok and len(calls) == 2      # the new ARN is cached


def test_a_deleted_group_reads_not_found_and_is_not_cached(ctx, tg):
    calls = _count_describe_target_groups(ctx)
    assert probe(ctx, target_group="web-tg").ok
    boto3.client("elbv2", region_name="us-east-1").delete_target_group(TargetGroupArn=tg["arn"])
    for _ in range(2):
        missing = probe(ctx, target_group="web-tg")
        assert not missing.ok and "not found" in missing.detail
    assert len(calls) == 3                                                # each poll asks again
