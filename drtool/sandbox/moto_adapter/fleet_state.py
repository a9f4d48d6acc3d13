"""EC2, Auto Scaling and ELB state the fleet reads every tick, and the launch lifecycle.

Reads stay internal for the tick's sake: a step (every 50 ms) reads every group, target
group, subnet and network ACL of every region; through the API that is a dozen requests
per region per step (DescribeAutoScalingGroups, DescribeTargetGroups, DescribeTargetHealth,
DescribeInstances, DescribeSubnets, DescribeNetworkAcls), more than the tick itself.
Changes that have an API go through it (`drtool.sandbox.fleet`). What stays here has none:
AWS moves a member Pending -> InService by itself, and launches into the AZ it chooses.
"""

from __future__ import annotations

from dataclasses import dataclass

from drtool.sandbox.moto_adapter import backends, patches

PENDING = "Pending"
IN_SERVICE = "InService"


@dataclass(frozen=True)
class AclRule:
    number: int
    action: str       # allow | deny
    cidr: str
    protocol: str     # "-1" for all


@dataclass(frozen=True)
class Member:
    instance_id: str
    lifecycle: str
    health: str
    state: str                # EC2 state name
    subnet_id: str | None


@dataclass(frozen=True)
class Group:
    name: str
    desired: int
    min_size: int
    max_size: int
    subnet_ids: tuple[str, ...]
    health_check_type: str
    target_group_arns: tuple[str, ...]
    members: tuple[Member, ...]


def subnet_azs(account: str, region: str) -> dict[str, str]:
    """{subnet_id: availability zone} for every subnet in the region."""
    return {s.id: s.availability_zone for s in backends.ec2(account, region).describe_subnets()}


def subnet_ingress_rules(account: str, region: str) -> dict[str, list[AclRule]]:
    """{subnet_id: the inbound rules of its network ACL, by rule number}."""
    result: dict[str, list[AclRule]] = {}
    for acl in list(backends.ec2(account, region).network_acls.values()):
        rules = sorted((AclRule(int(e.rule_number), e.rule_action, e.cidr_block or "", str(e.protocol))
                        for e in acl.network_acl_entries if not backends.is_true(e.egress)),
                       key=lambda r: r.number)
        for association in acl.associations:
            result[association.subnet_id] = rules
    return result


def instance_states(account: str, region: str, instance_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """{instance_id: (EC2 state name, subnet_id)} for the ids that exist."""
    ec2 = backends.ec2(account, region)
    result = {}
    for instance_id in instance_ids:
        instance = ec2.get_instance_by_id(instance_id)
        if instance is not None:
            result[instance_id] = (instance._state.name, instance.subnet_id)
    return result


def auto_scaling_groups(account: str, region: str) -> list[Group]:
    groups = []
    for group in list(backends.autoscaling(account, region).autoscaling_groups.values()):
        members = tuple(Member(s.instance.id, s.lifecycle_state, s.health_status, s.instance._state.name,
                               s.instance.subnet_id) for s in group.instance_states)
        subnets = tuple(x for x in (group.vpc_zone_identifier or "").split(",") if x)
        groups.append(Group(group.name, int(group.desired_capacity or 0), int(group.min_size or 0),
                            int(group.max_size or 0), subnets, group.health_check_type or "EC2",
                            tuple(group.target_group_arns or ()), members))
    return groups


def launch_member(account: str, region: str, group_name: str, subnet_id: str) -> str:
    """Launch one instance for the group into `subnet_id` (moto's own launch code, so tags
    and launch template apply) and hold it in lifecycle Pending. Returns its id."""
    group = backends.autoscaling(account, region).autoscaling_groups[group_name]
    original = patches.original_launch()
    saved = (group.vpc_zone_identifier, group.availability_zones)
    before = len(group.instance_states)
    try:
        group.vpc_zone_identifier = subnet_id
        group.availability_zones = [backends.ec2(account, region).get_subnet(subnet_id).availability_zone]
        original(group, 1, group.get_propagated_tags())
    finally:
        group.vpc_zone_identifier, group.availability_zones = saved
    state = group.instance_states[before]
    state.lifecycle_state = PENDING
    return state.instance.id


def set_lifecycle(account: str, region: str, group_name: str, instance_id: str, lifecycle: str) -> None:
    """Move a member's lifecycle state (Pending -> InService), as Auto Scaling does by itself."""
    group = backends.autoscaling(account, region).autoscaling_groups[group_name]
    for state in group.instance_states:
        if state.instance.id == instance_id:
            state.lifecycle_state = lifecycle


def target_ids(account: str, region: str, arn: str) -> list[str]:
    """The ids registered in a target group ([] if it does not exist)."""
    found = backends.elbv2(account, region).target_groups.get(arn)
    return list(found.targets) if found is not None else []


def target_group_arns(account: str, region: str) -> dict[str, str]:
    """{target group name: arn} in the region."""
    return {tg.name: tg.arn for tg in list(backends.elbv2(account, region).target_groups.values())}


def forget_member(account: str, region: str, group_name: str, instance_id: str) -> None:
    """Drop a member from the group, as Auto Scaling does with a terminated one. moto's
    TerminateInstances does it for the instances it terminates; a member whose instance was
    terminated otherwise stays listed. (moto's TerminateInstanceInAutoScalingGroup would
    drop it too, but strips the `aws:autoscaling:groupName` tag, which AWS keeps.)"""
    group = backends.autoscaling(account, region).autoscaling_groups[group_name]
    group.instance_states = [s for s in group.instance_states if s.instance.id != instance_id]


def running_members(account: str, region: str, group_name: str) -> list[str]:
    """Ids of the group's members whose instance is running."""
    group = backends.autoscaling(account, region).autoscaling_groups[group_name]
    return [s.instance.id for s in group.instance_states if s.instance._state.name == "running"]
