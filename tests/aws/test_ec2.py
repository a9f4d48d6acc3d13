"""EC2 target types, actions and undos against moto in-process; state is read back with boto3."""

from __future__ import annotations

import boto3
import pytest

from drtool.context import StepContext
from drtool.errors import ChangedSince, UsageError
from drtool.journal import Journal, read_journal
from drtool.registry import ACTIONS, TARGETS, UNDOS, Params
from drtool.resources import Resource
from drtool.selectors import TargetSelector
from drtool.timing import FakeClock
from tests.aws.cas_helpers import left_as_found, rollback

AMI = "ami-12345678"


class Crash(BaseException):
    """Stands in for SIGKILL: nothing after it runs, not even `except Exception`."""


@pytest.fixture
def ctx(session, tmp_path):
    clock = FakeClock()
    return StepContext(aws=session, clock=clock, region="us-east-1", run_id="run-test",
                       journal=Journal(tmp_path / "journal.jsonl", clock), drill="t")


@pytest.fixture
def ec2(aws):
    return boto3.client("ec2", region_name="us-east-1")


@pytest.fixture
def estate(ec2):
    """A VPC with subnets in 1a and 1b (tagged tier=app) and instances: 2 web in a, 1 web in b, 1 db in b."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    def subnet(cidr, az):
        return ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az, TagSpecifications=[
            {"ResourceType": "subnet", "Tags": [{"Key": "tier", "Value": "app"}]}])["Subnet"]["SubnetId"]

    sa, sb = subnet("10.0.1.0/24", "us-east-1a"), subnet("10.0.2.0/24", "us-east-1b")

    def run(n, sub, app):
        r = ec2.run_instances(ImageId=AMI, MinCount=n, MaxCount=n, SubnetId=sub, TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "app", "Value": app}]}])
        return [i["InstanceId"] for i in r["Instances"]]

    return {"vpc": vpc, "a": sa, "b": sb, "web_a": run(2, sa, "web"), "web_b": run(1, sb, "web"),
            "db": run(1, sb, "db")}


def resolve(ctx, kind, **selector):
    return TARGETS.get(kind).func(ctx, TargetSelector(**selector))


def ids(resources):
    return sorted(r.id for r in resources)


def states(ec2, instance_ids):
    res = ec2.describe_instances(InstanceIds=instance_ids)["Reservations"]
    return {i["InstanceId"]: i["State"]["Name"] for r in res for i in r["Instances"]}


def run_undos(ctx, path):
    """Replay the journaled undos newest first, as rollback does."""
    out = []
    for event in reversed(read_journal(path)):
        if event["event"] == "change.intent" and event.get("undo"):
            entry = UNDOS.get(event["undo"]["name"])
            out.append(entry.func(ctx, entry.params.model_validate(event["undo"]["params"])))
    return out


def acl_of(ec2, subnet):
    acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"]
    return next(a for a in acls for s in a["Associations"] if s["SubnetId"] == subnet)


# --- target types ----------------------------------------------------------------------


def test_instances_by_tags_az_vpc_subnets(ctx, estate):
    web = estate["web_a"] + estate["web_b"]
    assert ids(resolve(ctx, "ec2:instance", tags={"app": "web"})) == sorted(web)
    assert ids(resolve(ctx, "ec2:instance", tags={"app": "web"}, az="us-east-1a")) == sorted(estate["web_a"])
    assert ids(resolve(ctx, "ec2:instance", az=["us-east-1b"])) == sorted(estate["web_b"] + estate["db"])
    assert ids(resolve(ctx, "ec2:instance", vpc=estate["vpc"])) == sorted(web + estate["db"])
    assert ids(resolve(ctx, "ec2:instance", subnets=[estate["b"]], tags={"app": "db"})) == estate["db"]
    assert ids(resolve(ctx, "ec2:instance", ids=[estate["db"][0], "i-0000000000000dead"])) == estate["db"]


def test_instance_resource_fields_and_live_states_only(ctx, ec2, estate):
    ec2.terminate_instances(InstanceIds=estate["web_b"])
    ec2.stop_instances(InstanceIds=[estate["web_a"][0]])
    found = {r.id: r for r in resolve(ctx, "ec2:instance", tags={"app": "web"})}
    assert set(found) == set(estate["web_a"])
    r = found[estate["web_a"][0]]
    assert r.arn == f"arn:aws:ec2:us-east-1:123456789012:instance/{r.id}"
    assert r.type == "ec2:instance" and r.region == "us-east-1" and r.tags == {"app": "web"}
    assert r.attrs == {"az": "us-east-1a", "subnet": estate["a"], "vpc": estate["vpc"], "state": "stopped",
                       "group": None}
    assert r.selected_by == "tags app=web"


def test_instances_by_auto_scaling_group(ctx, ec2, estate):
    lt = ec2.create_launch_template(LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": AMI})
    boto3.client("autoscaling", region_name="us-east-1").create_auto_scaling_group(
        AutoScalingGroupName="web-asg", MinSize=2, MaxSize=2, DesiredCapacity=2, VPCZoneIdentifier=estate["a"],
        LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplate"]["LaunchTemplateId"], "Version": "$Latest"})
    found = resolve(ctx, "ec2:instance", group="web-asg")
    assert len(found) == 2 and {r.attrs["group"] for r in found} == {"web-asg"}
    assert not set(ids(found)) & set(estate["web_a"])


def test_targets_live_in_the_selector_region(ctx, estate):
    assert resolve(ctx, "ec2:instance", tags={"app": "web"}, region="us-west-2") == []


def test_subnet_target_filters(ctx, estate):
    assert ids(resolve(ctx, "ec2:subnet", tags={"tier": "app"})) == sorted([estate["a"], estate["b"]])
    assert ids(resolve(ctx, "ec2:subnet", vpc=estate["vpc"], az="us-east-1b")) == [estate["b"]]
    assert ids(resolve(ctx, "ec2:subnet", subnets=[estate["a"], estate["b"]], ids=[estate["a"]])) == [estate["a"]]
    assert resolve(ctx, "ec2:subnet", ids=[estate["a"]], subnets=[estate["b"]]) == []
    (sub,) = resolve(ctx, "ec2:subnet", ids=[estate["a"]])
    assert sub.attrs["vpc"] == estate["vpc"] and sub.attrs["az"] == "us-east-1a" and sub.arn.endswith(estate["a"])


def test_subnet_target_refuses_group(ctx, estate):
    with pytest.raises(UsageError, match="group"):
        resolve(ctx, "ec2:subnet", group="web-asg")


# --- stop / start / terminate ----------------------------------------------------------


def test_terminate_instances_has_no_undo(ctx, ec2, estate):
    targets = resolve(ctx, "ec2:instance", tags={"app": "web"}, az="us-east-1a")
    out = ACTIONS.get("ec2.terminate-instances").func(ctx, Params(), targets)
    assert set(states(ec2, estate["web_a"]).values()) == {"terminated"}
    assert states(ec2, estate["web_b"]) == {estate["web_b"][0]: "running"}
    assert "Terminated 2 instance(s)" in out.detail
    (intent,) = [e for e in read_journal(ctx.journal.path) if e["event"] == "change.intent"]
    assert intent["undo"] is None and sorted(intent["resources"]) == sorted(estate["web_a"])


def test_stop_then_undo_starts_only_what_was_stopped(ctx, ec2, estate):
    ec2.stop_instances(InstanceIds=[estate["web_b"][0]])  # down before the drill: must stay down
    targets = resolve(ctx, "ec2:instance", tags={"app": "web"})
    out = ACTIONS.get("ec2.stop-instances").func(ctx, Params(), targets)
    assert set(states(ec2, estate["web_a"]).values()) == {"stopped"}
    assert out.data["skipped"] == estate["web_b"]

    first = run_undos(ctx, ctx.journal.path)
    assert set(states(ec2, estate["web_a"]).values()) == {"running"}
    assert states(ec2, estate["web_b"]) == {estate["web_b"][0]: "stopped"}
    assert first[0].startswith("Started")
    again = run_undos(ctx, ctx.journal.path)  # idempotent
    assert again == ["No instance needed starting."]
    assert set(states(ec2, estate["web_a"]).values()) == {"running"}


def test_start_undo_waits_for_stopping_and_reports_terminated(ctx, ec2, estate):
    """moto stops instantly, so the instance is held in `stopping` through moto's backend
    (the research notes' documented hook) until the fake clock has slept once."""
    from moto.ec2.models import ec2_backends

    stopping, gone = estate["web_a"]
    ec2.stop_instances(InstanceIds=[stopping])
    ec2.terminate_instances(InstanceIds=[gone])
    instance = ec2_backends["123456789012"]["us-east-1"].get_instance(stopping)
    instance._state.name = "stopping"
    ctx.clock.on_sleep.append(lambda _t: setattr(instance._state, "name", "stopped"))
    entry = UNDOS.get("ec2.start-instances")
    detail = entry.func(ctx, entry.params(instance_ids=[stopping, gone]))
    assert states(ec2, [stopping]) == {stopping: "running"}
    assert detail == f"Started {stopping}. Terminated or missing, cannot be started: {gone}."


def test_intent_is_journaled_before_the_call(ctx, session, estate, monkeypatch):
    raw = session.client("ec2").raw
    seen = []

    def failing_stop(**kwargs):
        seen.append(read_journal(ctx.journal.path)[-1])
        raise RuntimeError("boom")

    monkeypatch.setattr(raw, "stop_instances", failing_stop, raising=False)
    targets = resolve(ctx, "ec2:instance", ids=estate["db"])
    with pytest.raises(RuntimeError):
        ACTIONS.get("ec2.stop-instances").func(ctx, Params(), targets)
    assert seen[0]["event"] == "change.intent"
    assert seen[0]["undo"]["name"] == "ec2.start-instances"
    events = read_journal(ctx.journal.path)
    assert [e["event"] for e in events] == ["change.intent", "change.failed"]
    assert "boom" in events[1]["error"]


# --- blackhole-subnets -----------------------------------------------------------------


def test_blackhole_then_rollback_restores_and_deletes(ctx, ec2, estate):
    original = {s: acl_of(ec2, s)["NetworkAclId"] for s in (estate["a"], estate["b"])}
    targets = resolve(ctx, "ec2:subnet", tags={"tier": "app"})
    out = ACTIONS.get("ec2.blackhole-subnets").func(ctx, Params(), targets)

    deny = out.data["network_acls"][estate["vpc"]]
    for subnet in original:
        acl = acl_of(ec2, subnet)
        assert acl["NetworkAclId"] == deny
    acl = acl_of(ec2, estate["a"])
    assert {"Key": "drtool:run-id", "Value": "run-test"} in acl["Tags"]
    rules = {(e["RuleNumber"], e["Egress"], e["RuleAction"], e["Protocol"], e["CidrBlock"]) for e in acl["Entries"]}
    assert {(1, False, "deny", "-1", "0.0.0.0/0"), (1, True, "deny", "-1", "0.0.0.0/0")} <= rules
    undo_names = [e["undo"]["name"] for e in read_journal(ctx.journal.path) if e["event"] == "change.intent"]
    assert undo_names == ["ec2.delete-run-acls", "ec2.restore-acl-association", "ec2.restore-acl-association"]

    run_undos(ctx, ctx.journal.path)
    assert {s: acl_of(ec2, s)["NetworkAclId"] for s in original} == original
    assert deny not in [a["NetworkAclId"] for a in ec2.describe_network_acls()["NetworkAcls"]]
    again = run_undos(ctx, ctx.journal.path)  # harmless the second time
    assert again[-1] == f"No network ACL of run run-test is left in {estate['vpc']}."
    assert all("already associated" in line for line in again[:-1])
    assert {s: acl_of(ec2, s)["NetworkAclId"] for s in original} == original


def test_blackhole_crash_after_swap_before_done_still_undoes(ctx, session, ec2, estate, monkeypatch):
    """The first swap takes effect and the process dies before `change.done`: the journal
    holds only intents, yet replaying their undos restores everything."""
    original = {s: acl_of(ec2, s)["NetworkAclId"] for s in (estate["a"], estate["b"])}
    raw = session.client("ec2").raw
    real = raw.replace_network_acl_association

    def swap_then_die(**kwargs):
        real(**kwargs)
        raise Crash()

    monkeypatch.setattr(raw, "replace_network_acl_association", swap_then_die, raising=False)
    with pytest.raises(Crash):
        ACTIONS.get("ec2.blackhole-subnets").func(ctx, Params(), resolve(ctx, "ec2:subnet", tags={"tier": "app"}))
    monkeypatch.undo()
    lines = ctx.journal.path.read_text().splitlines()
    ctx.journal.path.write_text("\n".join(lines[:-1]) + "\n")  # SIGKILL writes no change.failed
    assert [e["event"] for e in read_journal(ctx.journal.path)] == ["change.intent", "change.done", "change.intent"]
    assert sum(acl_of(ec2, s)["NetworkAclId"] != acl for s, acl in original.items()) == 1  # one swap landed

    run_undos(ctx, ctx.journal.path)
    assert {s: acl_of(ec2, s)["NetworkAclId"] for s in original} == original
    tagged = ec2.describe_network_acls(Filters=[{"Name": "tag:drtool:run-id", "Values": ["run-test"]}])
    assert tagged["NetworkAcls"] == []


def test_blackhole_crash_before_call_still_undoes(ctx, session, ec2, estate, monkeypatch):
    """The intent of the first swap is journaled, the call is never made (crash)."""
    original = {s: acl_of(ec2, s)["NetworkAclId"] for s in (estate["a"], estate["b"])}

    def die(**kwargs):
        raise Crash()

    monkeypatch.setattr(session.client("ec2").raw, "replace_network_acl_association", die, raising=False)
    with pytest.raises(Crash):
        ACTIONS.get("ec2.blackhole-subnets").func(ctx, Params(), resolve(ctx, "ec2:subnet", tags={"tier": "app"}))
    monkeypatch.undo()
    run_undos(ctx, ctx.journal.path)
    assert {s: acl_of(ec2, s)["NetworkAclId"] for s in original} == original
    assert ec2.describe_network_acls(Filters=[{"Name": "tag:drtool:run-id", "Values": ["run-test"]}])["NetworkAcls"] == []


def test_delete_run_acls_refuses_while_a_subnet_is_still_blackholed(ctx, ec2, estate):
    """If a restore failed, the deny ACL is still associated: refuse (the rollback stays
    incomplete and says so) rather than move the subnet to a possibly more open ACL."""
    ACTIONS.get("ec2.blackhole-subnets").func(ctx, Params(), resolve(ctx, "ec2:subnet", ids=[estate["a"]]))
    deny = acl_of(ec2, estate["a"])["NetworkAclId"]
    entry = UNDOS.get("ec2.delete-run-acls")
    with pytest.raises(ChangedSince, match=f"subnet\\(s\\) {estate['a']} \\(on {deny}\\) still associated"):
        entry.func(ctx, entry.params(vpc_id=estate["vpc"], run_id="run-test"))
    assert acl_of(ec2, estate["a"])["NetworkAclId"] == deny
    run_undos(ctx, ctx.journal.path)
    assert ec2.describe_network_acls(Filters=[{"Name": "tag:drtool:run-id", "Values": ["run-test"]}])["NetworkAcls"] == []


def operator_acl(ec2, estate, subnet):
    """An operator creates their own ACL and moves `subnet` onto it (mid-drill)."""
    acl = ec2.create_network_acl(VpcId=estate["vpc"])["NetworkAcl"]["NetworkAclId"]
    assoc = next(a["NetworkAclAssociationId"] for a in acl_of(ec2, subnet)["Associations"] if a["SubnetId"] == subnet)
    ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=acl)
    return acl


def test_blackhole_undo_leaves_a_subnet_an_operator_moved_as_found(ctx, ec2, estate):
    """Subnet a is moved to another ACL mid-drill: its restore leaves it there (listed as left
    as found); subnet b is restored all the same, and the deny ACL, no longer used, is deleted."""
    original = {s: acl_of(ec2, s)["NetworkAclId"] for s in (estate["a"], estate["b"])}
    out = ACTIONS.get("ec2.blackhole-subnets").func(ctx, Params(), resolve(ctx, "ec2:subnet", tags={"tier": "app"}))
    deny = out.data["network_acls"][estate["vpc"]]
    intents = [e["undo"]["params"] for e in read_journal(ctx.journal.path) if e["event"] == "change.intent"][1:]
    assert {p["subnet_id"]: p["deny_acl_id"] for p in intents} == {estate["a"]: deny, estate["b"]: deny}
    theirs = operator_acl(ec2, estate, estate["a"])

    remaining = rollback(ctx)
    assert acl_of(ec2, estate["a"])["NetworkAclId"] == theirs
    assert acl_of(ec2, estate["b"])["NetworkAclId"] == original[estate["b"]]
    assert ec2.describe_network_acls(Filters=[{"Name": "tag:drtool:run-id", "Values": ["run-test"]}])["NetworkAcls"] == []
    (item,) = remaining
    assert left_as_found(remaining) == [item]
    assert f"subnet {estate['a']} is on network ACL {theirs}, not the drill's deny-all ACL {deny}" in item
    assert rollback(ctx) == [item]  # a second rollback: the same item, nothing moved
    assert acl_of(ec2, estate["a"])["NetworkAclId"] == theirs


def test_restore_acl_does_not_touch_a_subnet_never_moved(ctx, ec2, estate):
    """Crash between the intent and the swap: the subnet is still on its original ACL."""
    original = acl_of(ec2, estate["a"])["NetworkAclId"]
    entry = UNDOS.get("ec2.restore-acl-association")
    params = entry.params(subnet_id=estate["a"], network_acl_id=original, deny_acl_id="acl-0123456789abcdef0")
    assert entry.func(ctx, params) == f"Subnet {estate['a']} is already associated with {original}."
    assert acl_of(ec2, estate["a"])["NetworkAclId"] == original


def test_delete_run_acls_never_deletes_an_acl_of_another_run(ctx, ec2, estate):
    other = ec2.create_network_acl(VpcId=estate["vpc"], TagSpecifications=[
        {"ResourceType": "network-acl", "Tags": [{"Key": "drtool:run-id", "Value": "run-other"}]}])
    other_id = other["NetworkAcl"]["NetworkAclId"]
    entry = UNDOS.get("ec2.delete-run-acls")
    assert entry.func(ctx, entry.params(vpc_id=estate["vpc"], run_id="run-test")) == \
        f"No network ACL of run run-test is left in {estate['vpc']}."
    assert other_id in [a["NetworkAclId"] for a in ec2.describe_network_acls()["NetworkAcls"]]


def test_blackhole_skips_subnets_this_run_already_blackholed(ctx, ec2, estate):
    blackhole = ACTIONS.get("ec2.blackhole-subnets").func
    blackhole(ctx, Params(), resolve(ctx, "ec2:subnet", ids=[estate["a"]]))
    out = blackhole(ctx, Params(), [Resource(id=estate["a"], type="ec2:subnet", region="us-east-1",
                                             attrs={"vpc": estate["vpc"]})])
    assert out.data["skipped"] == [estate["a"]] and out.data["subnets"] == []
    assert len(ec2.describe_network_acls(Filters=[{"Name": "tag:drtool:run-id", "Values": ["run-test"]}])
               ["NetworkAcls"]) == 1
