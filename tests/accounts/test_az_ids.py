"""AZ IDs (use1-az1) resolved per account and region: once per (account, region), journaled
with both ID and name, in target selectors and autoscaling.exclude-az.

moto 5 maps AZ IDs to names with one static table for every account (us-east-1b is use1-az1
everywhere), so the per-account difference is faked with botocore's Stubber."""

from __future__ import annotations

import random
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from drtool.aws import az_capacity
from drtool.aws.az_ids import resolve_az, zone_names
from drtool.aws.session import AccountRole
from drtool.context import StepContext
from drtool.errors import DrToolError
from drtool.journal import Journal, read_journal
from drtool.selectors import TargetSelector
from drtool.targets import resolve
from drtool.timing import FakeClock
from tests.aws.cas_helpers import rollback

NETWORKING = "111111111111"


@pytest.fixture
def ctx(session, tmp_path):
    clock = FakeClock()
    return StepContext(aws=session, clock=clock, region="us-east-1", run_id="run-az", step="inject/az",
                       journal=Journal(tmp_path / "journal.jsonl", clock), drill="t")


def _subnets(ec2: Any) -> dict[str, str]:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return {az: ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
            for i, az in enumerate(("us-east-1a", "us-east-1b"))}


def _notes(ctx: StepContext) -> list[dict[str, Any]]:
    return [e for e in read_journal(ctx.journal.path) if e["event"] == "note" and e.get("az_id")]


def test_moto_maps_az_ids_the_same_in_every_account(session):
    """What the sandbox can show: one mapping for all accounts (so the Stubber tests below
    stand in for real AWS, where older regions map names per account)."""
    session.configure_accounts({"networking": AccountRole(f"arn:aws:iam::{NETWORKING}:role/drtool")})
    own, other = zone_names(session, "us-east-1"), zone_names(session.for_account("networking"), "us-east-1")
    assert own["use1-az1"] == "us-east-1b" and own == other


def test_one_describe_per_account_and_region_for_the_run(session, ctx):
    for _ in range(3):
        assert resolve_az(ctx, "use1-az1").name == "us-east-1b"
    assert resolve_az(ctx, "usw2-az1", "us-west-2").name.startswith("us-west-2")
    assert session.calls["ec2:DescribeAvailabilityZones"] == 2
    assert resolve_az(ctx, "us-east-1c").name == "us-east-1c" and resolve_az(ctx, "d").name == "us-east-1d"
    assert session.calls["ec2:DescribeAvailabilityZones"] == 2     # names and letters need no call
    assert {(n["az_id"], n["az"]) for n in _notes(ctx)} >= {("use1-az1", "us-east-1b")}


def test_an_az_id_the_region_lacks_is_a_clear_error(ctx):
    with pytest.raises(DrToolError, match=r"AZ ID usw2-az1 is not an Availability Zone of us-east-1 .*use1-az1"):
        resolve_az(ctx, "usw2-az1")


def test_a_selector_by_az_id_finds_that_zones_subnets_and_says_both(session, ctx):
    subnets = _subnets(session.client("ec2", "us-east-1"))
    selector = TargetSelector(az="use1-az1", vpc=None, subnets=list(subnets.values()))
    [found] = resolve(ctx, "ec2:subnet", selector, random.Random(1))
    assert found.id == subnets["us-east-1b"] and found.attrs["az"] == "us-east-1b"
    assert "az=use1-az1 (us-east-1b)" in found.selected_by
    assert selector.az == "use1-az1"                                # the document's selector is untouched


def test_exclude_az_by_id_removes_that_zone_and_records_both(session, ctx):
    ec2, asg = session.client("ec2", "us-east-1"), session.client("autoscaling", "us-east-1")
    subnets = _subnets(ec2)
    asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId="ami-12345678", InstanceType="t3.micro")
    asg.create_auto_scaling_group(AutoScalingGroupName="web", LaunchConfigurationName="lc", MinSize=0, MaxSize=2,
                                  DesiredCapacity=0, VPCZoneIdentifier=",".join(subnets.values()))
    out = az_capacity.exclude_az(ctx, az_capacity.ExcludeParams(group="web", az="use1-az6"), [])
    assert out.data["excluded"] == [subnets["us-east-1a"]]
    assert (out.data["az"], out.data["az_id"]) == ("us-east-1a", "use1-az6")
    assert "use1-az6 (us-east-1a)" in out.detail
    intent = next(e for e in read_journal(ctx.journal.path) if e["event"] == "change.intent")
    assert "use1-az6 (us-east-1a)" in intent["summary"]
    assert rollback(ctx) == []
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    assert set(group["VPCZoneIdentifier"].split(",")) == set(subnets.values())


class _StubbedAccount:
    """An account whose ec2 client answers DescribeAvailabilityZones with its own mapping."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.ec2 = boto3.client("ec2", region_name="us-east-1")
        self.stub = Stubber(self.ec2)
        self.stub.add_response("describe_availability_zones", {"AvailabilityZones": [
            {"ZoneName": name, "ZoneId": zone_id, "RegionName": "us-east-1", "State": "available"}
            for zone_id, name in mapping.items()]}, {})
        self.stub.activate()

    def client(self, service: str, region: str | None = None) -> Any:
        assert service == "ec2" and region == "us-east-1"
        return self.ec2


def test_the_same_az_id_resolves_to_each_accounts_own_name(tmp_path):
    """Real AWS (older regions): use1-az1 may be us-east-1b in one account and us-east-1d in
    another; each account's session asks once and keeps its own answer."""
    workload = _StubbedAccount({"use1-az1": "us-east-1b", "use1-az2": "us-east-1a"})
    networking = _StubbedAccount({"use1-az1": "us-east-1d", "use1-az2": "us-east-1c"})
    clock = FakeClock()
    journal = Journal(tmp_path / "journal.jsonl", clock)
    ctxs = [StepContext(aws=a, clock=clock, region="us-east-1", run_id="r", journal=journal)
            for a in (workload, networking)]
    for _ in range(2):   # the second round is served from each account's cache (no response left)
        assert [resolve_az(c, "use1-az1").name for c in ctxs] == ["us-east-1b", "us-east-1d"]
        assert [resolve_az(c, "use1-az2").name for c in ctxs] == ["us-east-1a", "us-east-1c"]
    workload.stub.assert_no_pending_responses()
    networking.stub.assert_no_pending_responses()


def test_permissions_name_describe_availability_zones_for_az_ids(tmp_path):
    from drtool.documents import load_drill
    from drtool.permissions import iam_actions_for

    for folder in ("scenarios", "drills"):
        (tmp_path / folder).mkdir()
    (tmp_path / "scenarios" / "stop-zone.yaml").write_text(_SCENARIO)
    needs = {}
    for az in ("use1-az1", "us-east-1a"):
        (tmp_path / "drills" / "d.yaml").write_text(_DRILL.format(az=az))
        needs[az] = "ec2:DescribeAvailabilityZones" in iam_actions_for(load_drill(tmp_path / "drills" / "d.yaml"))
    assert needs == {"use1-az1": True, "us-east-1a": False}


_SCENARIO = """\
kind: scenario
name: stop-zone
parameters: {az: {type: string}}
inject:
  - action: ec2.stop-instances
    targets: {region: us-east-1, az: "${az}", tags: {app: web}}
"""

_DRILL = """\
kind: drill
name: stop-zone
scenario: stop-zone
service: {{name: web}}
parameters: {{az: {az}}}
objectives: {{rto: 1m}}
"""


def test_restore_volume_into_an_az_id_lands_in_that_accounts_zone(session, ctx):
    from drtool.registry import ACTIONS

    ec2 = session.client("ec2", "us-east-1")
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    ec2.create_snapshot(VolumeId=vol)
    entry = ACTIONS.get("ec2.restore-volume")
    out = entry.func(ctx, entry.params.model_validate({"volume": vol, "az": "use1-az1"}), [])
    [made] = ec2.describe_volumes(VolumeIds=[out.data["volume_id"]])["Volumes"]
    assert made["AvailabilityZone"] == out.data["az"] == "us-east-1b"
