"""autoscaling.exclude-az: a lost zone gets no launches; the undo is compare-and-swap."""

from __future__ import annotations

import pytest

from drtool.aws import az_capacity
from drtool.errors import DrToolError
from tests.aws.cas_helpers import left_as_found, rollback


def _estate(session):
    ec2, asg = session.client("ec2", "us-east-1"), session.client("autoscaling", "us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId="ami-12345678", InstanceType="t3.micro")
    asg.create_auto_scaling_group(AutoScalingGroupName="web", LaunchConfigurationName="lc", MinSize=0, MaxSize=4,
                                  DesiredCapacity=0, VPCZoneIdentifier=f"{a},{b}")
    return asg, a, b


def _subnets(asg):
    return asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]["VPCZoneIdentifier"]


def test_exclude_removes_the_zone_and_rollback_puts_it_back(session, ctx):
    asg, a, b = _estate(session)
    out = az_capacity.exclude_az(ctx, az_capacity.ExcludeParams(group="web", az="us-east-1a"), [])
    assert out.data["excluded"] == [a] and _subnets(asg) == b
    assert rollback(ctx) == [] and set(_subnets(asg).split(",")) == {a, b}
    assert rollback(ctx) == []


def test_restore_leaves_an_operator_change_as_found(session, ctx):
    asg, a, b = _estate(session)
    az_capacity.exclude_az(ctx, az_capacity.ExcludeParams(group="web", az="us-east-1a"), [])
    asg.update_auto_scaling_group(AutoScalingGroupName="web", VPCZoneIdentifier=a)   # someone moved it
    [item] = left_as_found(rollback(ctx))
    assert "neither the drill's" in item and _subnets(asg) == a


def test_a_group_only_in_the_lost_zone_is_refused(session, ctx):
    asg, a, b = _estate(session)
    asg.update_auto_scaling_group(AutoScalingGroupName="web", VPCZoneIdentifier=a)
    with pytest.raises(DrToolError, match="nowhere to launch"):
        az_capacity.exclude_az(ctx, az_capacity.ExcludeParams(group="web", az="us-east-1a"), [])
    assert _subnets(asg) == a
