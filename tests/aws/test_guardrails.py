"""Guardrails on resources named in `with:` (not selected by `targets:`), against moto state."""

from __future__ import annotations

import boto3
import pytest

from drtool.documents import load_drill
from drtool.errors import GuardrailRefusal
from drtool.guardrails import enforce, prepare
from drtool.timing import FakeClock

SCENARIO = """\
kind: scenario
name: scale
parameters:
  group: {type: string}
  bucket: {type: string}
recover:
  - action: autoscaling.set-capacity
    with: {group: "${group}", desired: 2, min: 0, max: 4}
  - action: s3.pause-replication
    with: {bucket: "${bucket}"}
"""

DRILL = """\
kind: drill
name: scale-drill
scenario: scale
service: {name: web}
parameters: {group: GROUP, bucket: BUCKET}
objectives: {rto: 1m}
guardrails:
  accounts: ["123456789012"]
  require_tags: {drill: allowed}
"""


def drill(tmp_path, group="web-asg", bucket="orders"):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "drills").mkdir()
    (tmp_path / "scenarios" / "scale.yaml").write_text(SCENARIO)
    path = tmp_path / "drills" / "d.yaml"
    path.write_text(DRILL.replace("GROUP", group).replace("BUCKET", bucket))
    return load_drill(path)


@pytest.fixture
def estate(aws):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    lt = ec2.create_launch_template(LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": "ami-12345678"})
    asg = boto3.client("autoscaling", region_name="us-east-1")
    for name, tags in (("web-asg", [{"Key": "drill", "Value": "allowed"}]), ("untagged-asg", [])):
        asg.create_auto_scaling_group(
            AutoScalingGroupName=name, MinSize=0, MaxSize=4, DesiredCapacity=0, VPCZoneIdentifier=subnet,
            LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplate"]["LaunchTemplateId"]},
            Tags=[{**t, "PropagateAtLaunch": True} for t in tags])
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="orders")
    s3.put_bucket_tagging(Bucket="orders", Tagging={"TagSet": [{"Key": "drill", "Value": "allowed"}]})
    s3.create_bucket(Bucket="untagged")


def test_tagged_resources_pass(estate, session, tmp_path):
    plan = prepare(drill(tmp_path), session, FakeClock(), seed=1)
    assert plan.refusals == []
    assert [r.id for rs in plan.touched.values() for r in rs] == ["web-asg", "orders"]


def test_untagged_group_and_bucket_are_refused(estate, session, tmp_path):
    plan = prepare(drill(tmp_path, group="untagged-asg", bucket="untagged"), session, FakeClock(), seed=1)
    assert any("autoscaling:group untagged-asg lacks required tags drill=allowed" in r for r in plan.refusals)
    assert any("s3:bucket untagged lacks required tags drill=allowed" in r for r in plan.refusals)
    with pytest.raises(GuardrailRefusal):
        enforce(plan)
    group = boto3.client("autoscaling", region_name="us-east-1").describe_auto_scaling_groups(
        AutoScalingGroupNames=["untagged-asg"])["AutoScalingGroups"][0]
    assert group["DesiredCapacity"] == 0      # nothing changed


def test_missing_group_is_refused_at_plan_time(estate, session, tmp_path):
    plan = prepare(drill(tmp_path, group="no-such-asg"), session, FakeClock(), seed=1)
    assert any("autoscaling:group no-such-asg not found" in r for r in plan.refusals)


def test_rds_touches_report_tags_and_missing(aws, session):
    from drtool.context import StepContext
    from drtool.registry import ACTIONS, load_builtins

    load_builtins()
    rds = boto3.client("rds", region_name="us-east-1")
    rds.create_db_instance(DBInstanceIdentifier="db1", DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="u", MasterUserPassword="password1", AllocatedStorage=20,
                           Tags=[{"Key": "drill", "Value": "allowed"}])
    ctx = StepContext(aws=session, clock=FakeClock(), region="us-east-1", run_id="plan", read_only=True)
    entry = ACTIONS.get("rds.promote-read-replica")
    [found] = entry.extra["touches"](ctx, entry.params(db_instance="db1"))
    assert found.tags == {"drill": "allowed"} and not found.attrs["missing"] and found.arn.endswith(":db:db1")
    [gone] = entry.extra["touches"](ctx, entry.params(db_instance="nope"))
    assert gone.attrs["missing"] is True
    cluster = ACTIONS.get("rds.failover-cluster")
    [no_cluster] = cluster.extra["touches"](ctx, cluster.params(cluster="nope"))
    assert no_cluster.attrs["missing"] is True and no_cluster.type == "rds:cluster"


def test_route53_zone_tags_feed_require_tags(aws, session):
    from drtool.context import StepContext
    from drtool.registry import ACTIONS, load_builtins

    load_builtins()
    r53 = boto3.client("route53", region_name="us-east-1")
    zone = r53.create_hosted_zone(Name="shop.example.com.", CallerReference="x")["HostedZone"]["Id"].rsplit("/", 1)[-1]
    r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone,
                                 AddTags=[{"Key": "drill", "Value": "allowed"}])
    ctx = StepContext(aws=session, clock=FakeClock(), region="us-east-1", run_id="plan", read_only=True)
    entry = ACTIONS.get("route53.failover")
    [found] = entry.extra["touches"](ctx, entry.params(zone="shop.example.com", record="app"))
    assert found.id == zone and found.tags == {"drill": "allowed"} and not found.attrs.get("missing")
    [gone] = entry.extra["touches"](ctx, entry.params(zone="nope.example.com", record="app"))
    assert gone.attrs["missing"] is True
