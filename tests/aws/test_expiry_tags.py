"""Run and expiry tags on changed resources (moto), and the S3 journal mirror's pacing."""

from __future__ import annotations

import boto3

from drtool.context import RUN_TAG, StepContext
from drtool.expiry import EXPIRES_TAG, classify, expires_at, tag_changed, untag
from drtool.journal import Journal, read_journal
from drtool.outputs.mirror import JournalMirror
from drtool.timing import FakeClock

WHEN = 1_767_229_200.0          # 2026-01-01T01:00:00Z


def context(session, tmp_path):
    return StepContext(aws=session, clock=FakeClock(), region="us-east-1", run_id="run-1", drill="d",
                       journal=Journal(tmp_path / "journal.jsonl", FakeClock()))


def test_expiry_is_start_plus_limit_plus_margin():
    assert expires_at(1000.0, 600.0, margin=60.0) == 1660.0
    assert expires_at(1000.0, None, margin=0.0) == 1000.0 + 6 * 3600


def test_classify_reads_ids_arns_and_undo_hints():
    assert classify("i-0123456789abcdef0") == ("ec2", "i-0123456789abcdef0")
    assert classify("arn:aws:s3:::orders") == ("s3", "orders")
    assert classify("web-asg", "autoscaling.restore-capacity") == ("autoscaling", "web-asg")
    assert classify("Z123/app.example.com.") is None               # a Route 53 record cannot be tagged
    assert classify("web-asg") is None                             # a bare name without a hint is not guessed
    # canaries carry the run id in their keys: their bucket or table is not the drill's to tag
    assert classify("dynamodb:sessions (us-west-2)", "dynamodb.delete-canaries") is None
    assert classify("arn:aws:s3:::orders", "s3.delete-canaries") is None


def test_tags_are_set_merged_and_removed(aws, session, tmp_path):
    ctx = context(session, tmp_path)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="orders")
    s3.put_bucket_tagging(Bucket="orders", Tagging={"TagSet": [{"Key": "team", "Value": "shop"}]})
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    table = ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                             BillingMode="PAY_PER_REQUEST")["TableDescription"]["TableArn"]
    r53 = boto3.client("route53", region_name="us-east-1")
    check = r53.create_health_check(CallerReference="c", HealthCheckConfig={
        "Type": "HTTP", "FullyQualifiedDomainName": "example.com", "Port": 80})["HealthCheck"]["Id"]

    tagged = tag_changed(ctx, ["arn:aws:s3:::orders", vpc, table], WHEN)
    tagged += tag_changed(ctx, [check], WHEN, "route53.restore-health-check")
    assert tagged == ["arn:aws:s3:::orders", vpc, table, check]
    want = {RUN_TAG: "run-1", EXPIRES_TAG: "2026-01-01T01:00:00Z"}
    s3_tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket="orders")["TagSet"]}
    assert s3_tags == {"team": "shop", **want}                      # merged, not replaced
    vpc_tags = {t["Key"]: t["Value"] for t in ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Tags"]}
    assert vpc_tags == want
    assert {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=table)["Tags"]} == want
    r53_tags = r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=check)["ResourceTagSet"]["Tags"]
    assert {t["Key"]: t["Value"] for t in r53_tags} == want

    untag(ctx, ["arn:aws:s3:::orders", vpc, table])
    untag(ctx, [check], "route53.restore-health-check")
    assert s3.get_bucket_tagging(Bucket="orders")["TagSet"] == [{"Key": "team", "Value": "shop"}]
    assert not ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0].get("Tags")
    assert ddb.list_tags_of_resource(ResourceArn=table)["Tags"] == []
    assert r53.list_tags_for_resource(ResourceType="healthcheck",
                                      ResourceId=check)["ResourceTagSet"].get("Tags", []) == []


def test_asg_and_rds_by_name(aws, session, tmp_path):
    ctx = context(session, tmp_path)
    ec2 = boto3.client("ec2", region_name="us-east-1")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    lt = ec2.create_launch_template(LaunchTemplateName="lt", LaunchTemplateData={"ImageId": "ami-12345678"})
    asg = boto3.client("autoscaling", region_name="us-east-1")
    asg.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=0, MaxSize=1, DesiredCapacity=0,
                                  VPCZoneIdentifier=subnet,
                                  LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplate"]["LaunchTemplateId"]})
    rds = boto3.client("rds", region_name="us-east-1")
    arn = rds.create_db_instance(DBInstanceIdentifier="db1", DBInstanceClass="db.t3.micro", Engine="postgres",
                                 MasterUsername="u", MasterUserPassword="password1",
                                 AllocatedStorage=20)["DBInstance"]["DBInstanceArn"]
    assert tag_changed(ctx, ["web"], WHEN, "autoscaling.restore-capacity") == ["web"]
    assert tag_changed(ctx, ["db1"], WHEN, "rds.delete-restored-instance") == ["db1"]
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    assert {t["Key"]: t["Value"] for t in group["Tags"]}[RUN_TAG] == "run-1"
    assert {t["Key"] for t in rds.list_tags_for_resource(ResourceName=arn)["TagList"]} == {RUN_TAG, EXPIRES_TAG}
    untag(ctx, ["db1"], "rds.delete-restored-instance")
    assert rds.list_tags_for_resource(ResourceName=arn)["TagList"] == []


def test_a_tagging_failure_is_a_note_never_an_error(aws, session, tmp_path):
    ctx = context(session, tmp_path)
    assert tag_changed(ctx, ["arn:aws:s3:::no-such-bucket"], WHEN) == []
    [note] = [e for e in read_journal(ctx.journal.path) if e["event"] == "note"]
    assert note["message"].startswith("could not tag arn:aws:s3:::no-such-bucket: ")


def test_the_mirror_puts_changes_at_once_and_routine_events_at_most_every_n_seconds():
    puts: list[bytes] = []
    now = [0.0]
    mirror = JournalMirror(puts.append, every_s=5.0, clock=lambda: now[0])
    mirror('{"event": "run.started", "seq": 1}')
    mirror('{"event": "step.started", "seq": 2}')              # within 5 s: held back
    assert len(puts) == 1
    mirror('{"event": "change.intent", "seq": 3}')             # a change: at once
    assert len(puts) == 2 and puts[-1].count(b"\n") == 3
    now[0] = 6.0
    mirror('{"event": "step.finished", "seq": 4}')             # 5 s passed: put
    mirror('{"event": "note", "seq": 5}')
    assert len(puts) == 3
    mirror.flush()                                             # the end: everything
    assert len(puts) == 4 and puts[-1].count(b"\n") == 5


def test_a_failing_mirror_never_stops_the_journal(tmp_path):
    def broken(_data: bytes) -> None:
        raise OSError("bucket gone")

    mirror = JournalMirror(broken)
    journal = Journal(tmp_path / "j.jsonl", FakeClock(), mirror=mirror)
    journal.write("change.intent", summary="x")
    assert mirror.problems == ["journal mirror: bucket gone"] and len(read_journal(tmp_path / "j.jsonl")) == 1
