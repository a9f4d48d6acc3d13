"""EC2: instance and subnet target types, stop/terminate, subnet black-holing and their undos."""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Any

from pydantic import Field

from drtool.aws.errors import error_code
from drtool.context import RUN_TAG, StepContext
from drtool.errors import ChangedSince, DrToolError, UsageError
from drtool.registry import Params, action, target_type, undo
from drtool.resources import Outcome, Resource, UndoSpec
from drtool.selectors import TargetSelector
from drtool.timing import PollTimeout, wait_until

ASG_TAG = "aws:autoscaling:groupName"
LIVE_STATES = ("pending", "running", "stopping", "stopped")
START_WAIT_S = 600.0
START_POLL_S = 5.0


def partition(region: str) -> str:
    """The ARN partition of a region (aws, aws-cn, aws-us-gov)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _arn(ctx: StepContext, region: str, kind: str, rid: str) -> str:
    return f"arn:{partition(region)}:ec2:{region}:{ctx.aws.account_id()}:{kind}/{rid}"


def _tags(item: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in item.get("Tags") or []}


def _tag_filters(tags: dict[str, str] | None) -> list[dict[str, Any]]:
    return [{"Name": f"tag:{k}", "Values": [v]} for k, v in (tags or {}).items()]


def _id_filter(name: str, values: list[str] | set[str] | None) -> list[dict[str, Any]]:
    return [{"Name": name, "Values": sorted(values)}] if values else []


def _by_region(targets: list[Resource]) -> dict[str, list[Resource]]:
    grouped: dict[str, list[Resource]] = defaultdict(list)
    for target in targets:
        grouped[target.region].append(target)
    return dict(grouped)


# --- target types ------------------------------------------------------------------


@target_type("ec2:instance", summary="EC2 instances (pending, running, stopping or stopped)",
             iam=["ec2:DescribeInstances"],
             filters=("ids", "tags", "az", "group", "vpc", "subnets"))
def instances(ctx: StepContext, selector: TargetSelector) -> list[Resource]:
    """One paginated, filtered describe_instances; AZ is matched client-side on Placement
    (moto's `availability-zone` filter silently matches nothing)."""
    region = selector.region or ctx.region
    filters = [{"Name": "instance-state-name", "Values": list(LIVE_STATES)},
               *_tag_filters(selector.tags), *_id_filter("instance-id", selector.ids),
               *_id_filter("subnet-id", selector.subnets)]
    if selector.group:
        filters.append({"Name": f"tag:{ASG_TAG}", "Values": [selector.group]})
    if selector.vpc:
        filters.append({"Name": "vpc-id", "Values": [selector.vpc]})
    azs = set(selector.azs)
    found: list[Resource] = []
    pages = ctx.client("ec2", region).get_paginator("describe_instances").paginate(Filters=filters)
    for page in pages:
        for reservation in page["Reservations"]:
            for inst in reservation["Instances"]:
                az = inst.get("Placement", {}).get("AvailabilityZone")
                if azs and az not in azs:
                    continue
                tags = _tags(inst)
                found.append(Resource(
                    id=inst["InstanceId"], type="ec2:instance", region=region,
                    arn=_arn(ctx, region, "instance", inst["InstanceId"]), tags=tags,
                    attrs={"az": az, "subnet": inst.get("SubnetId"), "vpc": inst.get("VpcId"),
                           "state": inst["State"]["Name"], "group": tags.get(ASG_TAG)},
                    selected_by=selector.describe()))
    return sorted(found, key=lambda r: r.id)


@target_type("ec2:subnet", summary="VPC subnets", iam=["ec2:DescribeSubnets"],
             filters=("ids", "tags", "az", "vpc", "subnets"))
def subnets(ctx: StepContext, selector: TargetSelector) -> list[Resource]:
    """One paginated, filtered describe_subnets (`ids` and `subnets` both name subnet ids)."""
    if selector.group:
        raise UsageError("target type ec2:subnet does not take `group`",
                         "select the group's subnets with `subnets`, `tags`, `az` or `vpc`")
    region = selector.region or ctx.region
    wanted = [set(g) for g in (selector.ids, selector.subnets) if g]
    ids = set.intersection(*wanted) if wanted else None
    if ids is not None and not ids:
        return []  # `ids` and `subnets` name disjoint sets
    filters = [*_tag_filters(selector.tags), *_id_filter("subnet-id", ids)]
    if selector.vpc:
        filters.append({"Name": "vpc-id", "Values": [selector.vpc]})
    if selector.azs:
        filters.append({"Name": "availability-zone", "Values": selector.azs})
    found: list[Resource] = []
    for page in ctx.client("ec2", region).get_paginator("describe_subnets").paginate(Filters=filters):
        for sub in page["Subnets"]:
            found.append(Resource(
                id=sub["SubnetId"], type="ec2:subnet", region=region,
                arn=sub.get("SubnetArn") or _arn(ctx, region, "subnet", sub["SubnetId"]), tags=_tags(sub),
                attrs={"az": sub.get("AvailabilityZone"), "subnet": sub["SubnetId"], "vpc": sub.get("VpcId"),
                       "state": sub.get("State")},
                selected_by=selector.describe()))
    return sorted(found, key=lambda r: r.id)


# --- instances -----------------------------------------------------------------------


@action("ec2.terminate-instances", summary="Terminate the selected instances (no undo; recovery is the system's job)",
        iam=["ec2:TerminateInstances"], target_type="ec2:instance")
def terminate_instances(ctx: StepContext, params: Params, targets: list[Resource]) -> Outcome:
    done: list[str] = []
    for region, group in _by_region(targets).items():
        ids = [t.id for t in group]
        client = ctx.client("ec2", region)
        ctx.change(f"terminate {len(ids)} instance(s) in {region}: {', '.join(ids)}",
                   partial(client.terminate_instances, InstanceIds=ids), resources=ids)
        done += ids
    if not done:
        return Outcome("No instances were selected; nothing was terminated.")
    return Outcome(f"Terminated {len(done)} instance(s): {', '.join(done)}.", {"instance_ids": done})


@action("ec2.stop-instances", summary="Stop the selected running instances (undo: start them)",
        iam=["ec2:StopInstances"], target_type="ec2:instance", undo="ec2.start-instances")
def stop_instances(ctx: StepContext, params: Params, targets: list[Resource]) -> Outcome:
    """Only pending/running targets are stopped, so the undo never starts one that was already down."""
    stopped: list[str] = []
    skipped = [t.id for t in targets if t.attrs.get("state") not in ("pending", "running")]
    for region, group in _by_region([t for t in targets if t.id not in skipped]).items():
        ids = [t.id for t in group]
        client = ctx.client("ec2", region)
        ctx.change(f"stop {len(ids)} instance(s) in {region}: {', '.join(ids)}",
                   partial(client.stop_instances, InstanceIds=ids),
                   undo=UndoSpec("ec2.start-instances", {"instance_ids": ids, "region": region}, region),
                   resources=ids)
        stopped += ids
    tail = f" Left alone {len(skipped)} already stopped/stopping: {', '.join(skipped)}." if skipped else ""
    head = f"Stopped {len(stopped)} instance(s): {', '.join(stopped)}." if stopped else "Stopped no instances."
    return Outcome(head + tail, {"instance_ids": stopped, "skipped": skipped})


class StartInstancesParams(Params):
    instance_ids: list[str] = Field(min_length=1)


def _states(client: Any, ids: list[str]) -> dict[str, str]:
    pages = client.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "instance-id", "Values": ids}])
    return {i["InstanceId"]: i["State"]["Name"]
            for page in pages for r in page["Reservations"] for i in r["Instances"]}


@undo("ec2.start-instances", summary="Start instances a drill stopped (waits for any still stopping)",
      params=StartInstancesParams, iam=["ec2:DescribeInstances", "ec2:StartInstances"])
def start_instances(ctx: StepContext, params: StartInstancesParams) -> str:
    client = ctx.client("ec2", params.region)
    ids = params.instance_ids

    def settled() -> tuple[bool, dict[str, str]]:
        states = _states(client, ids)
        return "stopping" not in states.values(), states

    done, states = settled()
    if not done:  # a crash can land mid-stop; StartInstances refuses a stopping instance
        try:
            _, last = wait_until(settled, clock=ctx.clock, interval=START_POLL_S, timeout=START_WAIT_S)
            states = last if isinstance(last, dict) else states
        except PollTimeout as exc:
            states = exc.last if isinstance(exc.last, dict) else states
    to_start = sorted(i for i, s in states.items() if s == "stopped")
    if to_start:
        client.start_instances(InstanceIds=to_start)
    stuck = sorted(i for i, s in states.items() if s == "stopping")
    if stuck:
        raise DrToolError(f"instances still stopping after {START_WAIT_S:.0f}s, not started: {', '.join(stuck)}")
    gone = sorted((set(ids) - set(states)) | {i for i, s in states.items() if s in ("shutting-down", "terminated")})
    sentence = f"Started {', '.join(to_start)}." if to_start else "No instance needed starting."
    if gone:
        sentence += f" Terminated or missing, cannot be started: {', '.join(gone)}."
    return sentence


# --- subnet black-hole ---------------------------------------------------------------


def _associations(client: Any, subnet_ids: list[str]) -> dict[str, dict[str, Any]]:
    """subnet id -> its NACL association (one batched describe)."""
    acls = client.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": subnet_ids}])["NetworkAcls"]
    found: dict[str, dict[str, Any]] = {}
    for acl in acls:
        for assoc in acl.get("Associations", []):
            if assoc.get("SubnetId") in subnet_ids:
                found[assoc["SubnetId"]] = {**assoc, "run_id": _tags(acl).get(RUN_TAG)}
    return found


def _create_deny_acl(ctx: StepContext, client: Any, vpc: str) -> str:
    tags = ctx.tag_specifications("network-acl")
    tags[0]["Tags"].append({"Key": "Name", "Value": f"drtool-blackhole-{ctx.run_id}"})
    acl_id = client.create_network_acl(VpcId=vpc, TagSpecifications=tags)["NetworkAcl"]["NetworkAclId"]
    for egress in (False, True):
        client.create_network_acl_entry(NetworkAclId=acl_id, RuleNumber=1, Protocol="-1", RuleAction="deny",
                                        Egress=egress, CidrBlock="0.0.0.0/0")
    return acl_id


@action("ec2.blackhole-subnets",
        summary="Swap the subnets' network ACL for a deny-all ACL (undo: restore the associations, delete the ACL)",
        iam=["ec2:CreateNetworkAcl", "ec2:CreateNetworkAclEntry", "ec2:CreateTags",
             "ec2:DescribeNetworkAcls", "ec2:ReplaceNetworkAclAssociation"],
        target_type="ec2:subnet", undo="ec2.restore-acl-association", undos=("ec2.delete-run-acls",))
def blackhole_subnets(ctx: StepContext, params: Params, targets: list[Resource]) -> Outcome:
    """Per VPC: create one deny-all ACL (undo: delete-run-acls), then swap each subnet onto it
    (undo: restore-acl-association, one per subnet, recording both the original and the deny
    ACL so the undo can tell "still ours" from "an operator moved it"). Rollback runs undos in
    reverse, so the associations come back before the ACL is deleted."""
    by_vpc: dict[tuple[str, str], list[str]] = defaultdict(list)
    for t in targets:
        by_vpc[(t.region, t.attrs["vpc"])].append(t.id)
    acls: dict[str, str] = {}
    moved: list[str] = []
    skipped: list[str] = []
    for (region, vpc), subnet_ids in sorted(by_vpc.items()):
        client = ctx.client("ec2", region)
        current = _associations(client, subnet_ids)
        todo = [s for s in subnet_ids if s in current and current[s]["run_id"] != ctx.run_id]
        skipped += [s for s in subnet_ids if s not in todo]
        if not todo:
            continue
        deny = ctx.change(f"create a deny-all network ACL in {vpc} ({region})",
                          partial(_create_deny_acl, ctx, client, vpc),
                          undo=UndoSpec("ec2.delete-run-acls",
                                        {"vpc_id": vpc, "run_id": ctx.run_id, "region": region}, region),
                          resources=[vpc])
        acls[vpc] = deny
        for subnet in todo:
            assoc = current[subnet]
            ctx.change(f"associate {subnet} with deny-all ACL {deny} (was {assoc['NetworkAclId']})",
                       partial(client.replace_network_acl_association,
                               AssociationId=assoc["NetworkAclAssociationId"], NetworkAclId=deny),
                       undo=UndoSpec("ec2.restore-acl-association",
                                     {"subnet_id": subnet, "network_acl_id": assoc["NetworkAclId"],
                                      "deny_acl_id": deny, "region": region}, region),
                       resources=[subnet])
            moved.append(subnet)
    detail = (f"Black-holed {len(moved)} subnet(s) ({', '.join(moved)}) behind deny-all ACL(s) "
              f"{', '.join(acls.values())}." if moved else "No subnet was black-holed.")
    if skipped:
        detail += f" Skipped {', '.join(skipped)} (already black-holed by this run or not found)."
    return Outcome(detail, {"network_acls": acls, "subnets": moved, "skipped": skipped})


class RestoreAclParams(Params):
    subnet_id: str
    network_acl_id: str = Field(description="the subnet's ACL before the drill")
    deny_acl_id: str | None = Field(default=None, description="the deny-all ACL the drill put it on "
                                    "(absent in journals written before the check existed)")


@undo("ec2.restore-acl-association",
      summary="Associate a subnet with its original network ACL again (only if it is still on the drill's ACL)",
      params=RestoreAclParams, iam=["ec2:DescribeNetworkAcls", "ec2:ReplaceNetworkAclAssociation"])
def restore_acl_association(ctx: StepContext, params: RestoreAclParams) -> str:
    """Compare and swap: on the original ACL -> done (restored, or the swap never happened);
    on the drill's deny ACL -> swap back; on any other ACL -> someone moved it: left as found."""
    client = ctx.client("ec2", params.region)
    assoc = _associations(client, [params.subnet_id]).get(params.subnet_id)
    if assoc is None:
        return f"Subnet {params.subnet_id} no longer exists; nothing to restore."
    now = assoc["NetworkAclId"]
    if now == params.network_acl_id:
        return f"Subnet {params.subnet_id} is already associated with {params.network_acl_id}."
    if params.deny_acl_id is not None and now != params.deny_acl_id:
        raise ChangedSince(f"subnet {params.subnet_id} is on network ACL {now}, not the drill's deny-all ACL "
                           f"{params.deny_acl_id} nor its original {params.network_acl_id}")
    # The association id is read fresh: ReplaceNetworkAclAssociation gives the subnet a new
    # association id every time (EC2 API Reference, ReplaceNetworkAclAssociation: NewAssociationId).
    client.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"],
                                           NetworkAclId=params.network_acl_id)
    return f"Subnet {params.subnet_id} is associated with {params.network_acl_id} again (was {now})."


class DeleteRunAclsParams(Params):
    vpc_id: str
    run_id: str


@undo("ec2.delete-run-acls", summary="Delete the network ACLs a run created in a VPC (found by its drtool:run-id tag)",
      params=DeleteRunAclsParams, iam=["ec2:DescribeNetworkAcls", "ec2:DeleteNetworkAcl"])
def delete_run_acls(ctx: StepContext, params: DeleteRunAclsParams) -> str:
    """Found by the run tag, so it works even if the create's response never reached the journal,
    and never touches an ACL that does not carry this run's tag. Leaves the ACLs as found while
    a subnet is still on one (its restore was left as found or failed): EC2 refuses to delete an
    associated ACL (DeleteNetworkAcl: "You can't delete the ACL if it's associated with any
    subnets"), and moving the subnet elsewhere (e.g. the VPC default, maybe more open than its
    original) would hide the problem."""
    client = ctx.client("ec2", params.region)
    acls = client.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [params.vpc_id]},
                                                 {"Name": f"tag:{RUN_TAG}", "Values": [params.run_id]}])["NetworkAcls"]
    acls = [a for a in acls if _tags(a).get(RUN_TAG) == params.run_id]
    if not acls:
        return f"No network ACL of run {params.run_id} is left in {params.vpc_id}."
    stranded = sorted(f"{a['SubnetId']} (on {acl['NetworkAclId']})"
                      for acl in acls for a in acl.get("Associations") or [])
    if stranded:
        raise ChangedSince(f"subnet(s) {', '.join(stranded)} still associated with the run's deny-all ACL: "
                           f"restore their original ACL first (see their restore), then rerun `drtool rollback`")
    for acl in acls:
        try:
            client.delete_network_acl(NetworkAclId=acl["NetworkAclId"])
        except Exception as exc:
            if error_code(exc) != "InvalidNetworkAclID.NotFound":
                raise
    ids = ", ".join(a["NetworkAclId"] for a in acls)
    return f"Deleted network ACL(s) {ids} of run {params.run_id} in {params.vpc_id}."
