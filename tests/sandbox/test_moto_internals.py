"""Guard for drtool/sandbox/moto_internals.py: every moto internal the sandbox relies on
exists and behaves as the sandbox assumes. When a moto upgrade breaks one of these, this
file fails first and names it; fix moto_internals.py (or the pin in pyproject.toml).

Uses moto in-process (`aws` fixture) except where the server itself is under test.
"""

from __future__ import annotations

import threading
import time

import boto3
import pytest
from botocore.config import Config

from drtool.sandbox import moto_internals as mi
from drtool.sandbox.server import locked_server, reset_moto

pytestmark = pytest.mark.moto  # runs the sandbox (moto's server)

ACCOUNT, EAST, WEST = "123456789012", "us-east-1", "us-west-2"


@pytest.fixture
def patched(aws):
    mi.install_patches(ACCOUNT, [EAST])
    yield
    mi.uninstall_patches()


def _vpc(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    region = ec2.meta.region_name
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{az}")[
        "Subnet"]["SubnetId"] for i, az in enumerate("abc", start=1)]
    return vpc, subnets


def _group(region, desired=2):
    ec2, elb, asg = (boto3.client(s, region_name=region) for s in ("ec2", "elbv2", "autoscaling"))
    vpc, subnets = _vpc(ec2)
    tg = elb.create_target_group(Name=f"tg-{region}", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0][
        "TargetGroupArn"]
    lt = ec2.create_launch_template(LaunchTemplateName=f"lt-{region}", LaunchTemplateData={"ImageId": "ami-12c6146b"})
    asg.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=6, DesiredCapacity=desired,
                                  LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplate"]["LaunchTemplateId"]},
                                  VPCZoneIdentifier=",".join(subnets), TargetGroupARNs=[tg],
                                  Tags=[{"Key": "app", "Value": "x", "PropagateAtLaunch": True}])
    return ec2, elb, asg, tg, subnets


def test_locked_server_holds_the_lock_per_request_and_reset_forgets_state():
    lock = threading.RLock()
    server = locked_server(lock)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    s3 = boto3.client("s3", region_name=EAST, endpoint_url=url, aws_access_key_id="testing",
                      aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))
    try:
        s3.create_bucket(Bucket="guard-bucket")
        done = threading.Event()
        with lock:
            threading.Thread(target=lambda: (s3.list_buckets(), done.set()), daemon=True).start()
            assert not done.wait(0.3)  # the request waits for the lock
        assert done.wait(5)
        with lock:
            reset_moto()
        assert s3.list_buckets()["Buckets"] == []
    finally:
        server.stop()


def test_native_header_skips_the_simulated_restore_time(aws):
    """Calls marked with NATIVE_HEADER (the AWS Backup fake's own) restore at once."""
    mi.install_patches(ACCOUNT, [EAST])
    server = locked_server(threading.RLock())
    server.start()
    try:
        host, port = server.get_host_and_port()
        rds = boto3.client("rds", region_name=EAST, endpoint_url=f"http://{host}:{port}",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        rds.meta.events.register("before-send", lambda request, **_: request.headers.__setitem__(
            mi.NATIVE_HEADER, "1"))
        rds.create_db_instance(DBInstanceIdentifier="db", Engine="postgres", DBInstanceClass="db.t3.micro",
                               MasterUsername="u", MasterUserPassword="password1", AllocatedStorage=20)
        rds.create_db_snapshot(DBSnapshotIdentifier="snap", DBInstanceIdentifier="db")
        out = rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="db2", DBSnapshotIdentifier="snap")
        assert out["DBInstance"]["DBInstanceStatus"] == "available"
        assert not mi.busy_since()
    finally:
        server.stop()
        mi.uninstall_patches()


def test_auto_scaling_launch_is_deferred_in_scope_only_and_patches_uninstall(aws):
    from moto.autoscaling.models import FakeAutoScalingGroup

    original = FakeAutoScalingGroup.replace_autoscaling_group_instances
    mi.install_patches(ACCOUNT, [EAST])
    try:
        _group(EAST)
        _group(WEST)
        east = {g.name: g for g in mi.auto_scaling_groups(ACCOUNT, EAST)}["g"]
        assert east.members == () and east.desired == 2 and len(east.subnet_ids) == 3
        assert east.health_check_type == "EC2" and len(east.target_group_arns) == 1
        assert len(mi.auto_scaling_groups(ACCOUNT, WEST)[0].members) == 2  # out of scope: moto's own launch
    finally:
        mi.uninstall_patches()
    assert FakeAutoScalingGroup.replace_autoscaling_group_instances is original


def test_members_launch_into_a_chosen_subnet_and_target_health_is_simulated(patched):
    ec2, elb, asg, tg, subnets = _group(EAST)
    assert mi.subnet_azs(ACCOUNT, EAST)[subnets[1]] == "us-east-1b"
    instance = mi.launch_member(ACCOUNT, EAST, "g", subnets[1])
    member = mi.auto_scaling_groups(ACCOUNT, EAST)[0].members[0]
    assert (member.instance_id, member.lifecycle, member.state, member.subnet_id) == \
        (instance, mi.PENDING, "running", subnets[1])
    described = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]["Instances"][0]
    assert (described["LifecycleState"], described["AvailabilityZone"]) == ("Pending", "us-east-1b")
    tags = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["Tags"]
    assert {"Key": "app", "Value": "x"} in tags

    mi.set_member(ACCOUNT, EAST, "g", instance, lifecycle=mi.IN_SERVICE, health="Unhealthy")
    assert mi.auto_scaling_groups(ACCOUNT, EAST)[0].members[0].health == "Unhealthy"
    mi.sync_group_targets(ACCOUNT, EAST, "g")
    assert mi.target_ids(ACCOUNT, EAST, tg) == [instance]
    assert mi.target_group_arns(ACCOUNT, EAST) == {f"tg-{EAST}": tg}
    assert mi.instance_states(ACCOUNT, EAST, [instance]) == {instance: ("running", subnets[1])}

    def state():
        return elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"][0]["TargetHealth"]

    assert state()["State"] == "healthy"
    mi.set_target_health({tg: {instance: ("unhealthy", "Target.Timeout", "Request timed out")}})
    assert (state()["State"], state()["Reason"]) == ("unhealthy", "Target.Timeout")
    mi.set_target_health({})
    mi.remove_member(ACCOUNT, EAST, "g", instance)
    assert mi.auto_scaling_groups(ACCOUNT, EAST)[0].members == ()
    assert mi.instance_states(ACCOUNT, EAST, [instance])[instance][0] == "terminated"
    assert mi.target_ids(ACCOUNT, EAST, tg) == []


def test_network_acl_rules_per_subnet(aws):
    ec2 = boto3.client("ec2", region_name=EAST)
    vpc, subnets = _vpc(ec2)
    rules = mi.subnet_ingress_rules(ACCOUNT, EAST)[subnets[0]]
    assert [(r.number, r.action, r.cidr, r.protocol) for r in rules] == [
        (100, "allow", "0.0.0.0/0", "-1"), (32767, "deny", "0.0.0.0/0", "-1")]
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=1, Protocol="-1", RuleAction="deny",
                                 Egress=False, CidrBlock="0.0.0.0/0")
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=1, Protocol="-1", RuleAction="deny",
                                 Egress=True, CidrBlock="0.0.0.0/0")
    assoc = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnets[0]]}])
    association = next(a for a in assoc["NetworkAcls"][0]["Associations"] if a["SubnetId"] == subnets[0])
    ec2.replace_network_acl_association(AssociationId=association["NetworkAclAssociationId"], NetworkAclId=acl)
    rules = mi.subnet_ingress_rules(ACCOUNT, EAST)
    assert [(r.number, r.action) for r in rules[subnets[0]]] == [(1, "deny")]
    assert rules[subnets[1]][0].action == "allow"


def test_route53_views_and_simulated_health_check_status(patched):
    r53 = boto3.client("route53", region_name=EAST)
    zone = r53.create_hosted_zone(Name="ex.com.", CallerReference="z")["HostedZone"]["Id"]
    check = r53.create_health_check(CallerReference="c", HealthCheckConfig={
        "Type": "HTTP", "FullyQualifiedDomainName": "a.ex.com", "Port": 80, "ResourcePath": "/health"})[
        "HealthCheck"]["Id"]
    r53.update_health_check(HealthCheckId=check, Inverted=True)
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": "app.ex.com.", "Type": "CNAME", "SetIdentifier": "p",
                                                   "Failover": "PRIMARY", "TTL": 2, "HealthCheckId": check,
                                                   "ResourceRecords": [{"Value": "a.ex.com"}]}}]})
    [view] = mi.health_checks(ACCOUNT)
    assert (view.check_id, view.type, view.fqdn, view.port, view.path, view.inverted, view.disabled) == \
        (check, "HTTP", "a.ex.com", 80, "/health", True, False)
    [record] = mi.record_sets(ACCOUNT, "app.ex.com")
    assert (record.type, record.failover, record.health_check_id, record.values, record.ttl) == \
        ("CNAME", "PRIMARY", check, ("a.ex.com",), 2)

    def status():
        return r53.get_health_check_status(HealthCheckId=check)["HealthCheckObservations"][0]["StatusReport"][
            "Status"]

    assert status().startswith("Success")
    mi.set_health_check_health({check: False})
    assert status().startswith("Failure")
    mi.set_health_check_health({check: True})
    assert status().startswith("Success")


def test_rds_promotion_and_restore_are_timed(patched):
    east, west = boto3.client("rds", region_name=EAST), boto3.client("rds", region_name=WEST)
    east.create_db_instance(DBInstanceIdentifier="db", Engine="postgres", DBInstanceClass="db.t3.micro",
                            MasterUsername="u", MasterUserPassword="password1", AllocatedStorage=20)
    mi.install_patches(ACCOUNT, [WEST])
    west.create_db_instance_read_replica(DBInstanceIdentifier="dr", SourceRegion=EAST,
                                         SourceDBInstanceIdentifier=f"arn:aws:rds:{EAST}:{ACCOUNT}:db:db")
    view = mi.db_instances(ACCOUNT, WEST)["dr"]
    assert view.is_replica and view.source and view.status == "available"
    assert mi.db_instances(ACCOUNT, EAST)["db"].replicas
    assert west.promote_read_replica(DBInstanceIdentifier="dr")["DBInstance"]["DBInstanceStatus"] == "modifying"
    [key] = [k for k in mi.busy_since() if k[0] == "promote"]
    assert key[1:] == (ACCOUNT, WEST, "dr") and mi.busy_since()[key] <= time.monotonic()
    assert west.describe_db_instances(DBInstanceIdentifier="dr")["DBInstances"][0].get(
        "ReadReplicaSourceDBInstanceIdentifier")
    mi.finish_busy(key)
    out = west.describe_db_instances(DBInstanceIdentifier="dr")["DBInstances"][0]
    assert out["DBInstanceStatus"] == "available" and not out.get("ReadReplicaSourceDBInstanceIdentifier")
    assert not mi.db_instances(ACCOUNT, EAST)["db"].replicas

    east.create_db_snapshot(DBSnapshotIdentifier="snap", DBInstanceIdentifier="db")
    mi.age_db_snapshot(ACCOUNT, EAST, "snap", 3600)
    created = east.describe_db_snapshots(DBSnapshotIdentifier="snap")["DBSnapshots"][0]["SnapshotCreateTime"]
    assert abs(time.time() - created.timestamp() - 3600) < 60
    restored = east.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="db2", DBSnapshotIdentifier="snap")
    assert restored["DBInstance"]["DBInstanceStatus"] == "creating"
    key = ("rds-restore", ACCOUNT, EAST, "db2")
    assert key in mi.busy_since()
    mi.finish_busy(key)
    assert east.describe_db_instances(DBInstanceIdentifier="db2")["DBInstances"][0]["DBInstanceStatus"] == "available"


def test_aurora_failover_is_timed(patched):
    rds = boto3.client("rds", region_name=EAST)
    rds.create_db_cluster(DBClusterIdentifier="c", Engine="aurora-postgresql", MasterUsername="u",
                          MasterUserPassword="password1")
    for name in ("c-1", "c-2"):
        rds.create_db_instance(DBInstanceIdentifier=name, DBClusterIdentifier="c", Engine="aurora-postgresql",
                               DBInstanceClass="db.r6g.large")
    assert rds.failover_db_cluster(DBClusterIdentifier="c", TargetDBInstanceIdentifier="c-2")[
        "DBCluster"]["Status"] == "failing-over"
    writer = next(m for m in rds.describe_db_clusters(DBClusterIdentifier="c")["DBClusters"][0]["DBClusterMembers"]
                  if m["IsClusterWriter"])
    assert writer["DBInstanceIdentifier"] == "c-2"
    assert rds.describe_db_instances(DBInstanceIdentifier="c-2")["DBInstances"][0]["DBInstanceStatus"] == "rebooting"
    key = ("failover", ACCOUNT, EAST, "c")
    assert key in mi.busy_since()
    mi.finish_busy(key)
    assert rds.describe_db_clusters(DBClusterIdentifier="c")["DBClusters"][0]["Status"] == "available"
    assert rds.describe_db_instances(DBInstanceIdentifier="c-2")["DBInstances"][0]["DBInstanceStatus"] == "available"


def test_s3_replication_rules_versions_and_copy(aws):
    s3 = boto3.client("s3", region_name=EAST)
    s3.create_bucket(Bucket="src-b")
    s3.create_bucket(Bucket="dst-b", CreateBucketConfiguration={"LocationConstraint": WEST})
    for bucket in ("src-b", "dst-b"):
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket="src-b", ReplicationConfiguration={
        "Role": "arn:aws:iam::123456789012:role/r", "Rules": [
            {"ID": "to-dr", "Priority": 2, "Status": "Disabled", "Filter": {"Prefix": "o/"},
             "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": "arn:aws:s3:::dst-b"}}]})
    assert mi.replication_rules(ACCOUNT) == {"src-b": [mi.ReplicationRule("to-dr", "Disabled", "o/", 2, "dst-b")]}
    assert (mi.bucket_region(ACCOUNT, "dst-b"), mi.bucket_region(ACCOUNT, "nope")) == (WEST, None)
    put = s3.put_object(Bucket="src-b", Key="o/1", Body=b"one", ContentType="text/plain", Metadata={"seq": "1"})
    s3.delete_object(Bucket="src-b", Key="o/1")  # a delete marker: not listed
    [version] = mi.object_versions(ACCOUNT, "src-b")
    assert (version.key, version.version_id) == ("o/1", put["VersionId"])
    assert abs(version.written_at - time.time()) < 5
    new = mi.copy_object_version(ACCOUNT, "src-b", "o/1", put["VersionId"], "dst-b")
    got = s3.get_object(Bucket="dst-b", Key="o/1")
    assert (got["VersionId"], got["Body"].read(), got["Metadata"], got["ContentType"]) == \
        (new, b"one", {"seq": "1"}, "text/plain")
    assert mi.copy_object_version(ACCOUNT, "src-b", "o/1", "missing", "dst-b") is None


def test_dynamodb_stream_apply_restore_and_backup_age(patched):
    ddb = boto3.client("dynamodb", region_name=EAST)
    west = boto3.client("dynamodb", region_name=WEST)
    spec = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}
    ddb.create_table(TableName="t", StreamSpecification={"StreamEnabled": True, "StreamViewType":
                                                         "NEW_AND_OLD_IMAGES"}, **spec)
    west.create_table(TableName="t", **spec)
    assert mi.table_exists(ACCOUNT, WEST, "t") and not mi.table_exists(ACCOUNT, WEST, "x")
    ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    ddb.delete_item(TableName="t", Key={"pk": {"S": "a"}})
    first, second = mi.stream_records(ACCOUNT, EAST, "t", None)
    assert (first.event, first.keys, first.new_image) == ("INSERT", {"pk": {"S": "a"}},
                                                           {"pk": {"S": "a"}, "n": {"N": "1"}})
    assert second.event == "REMOVE" and second.sequence == first.sequence + 1
    assert abs(first.written_at - time.time()) < 5
    assert mi.stream_records(ACCOUNT, EAST, "t", first.sequence) == [second]
    assert mi.apply_stream_record(ACCOUNT, WEST, "t", first)
    assert west.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "1"}
    mi.apply_stream_record(ACCOUNT, WEST, "t", second)
    assert "Item" not in west.get_item(TableName="t", Key={"pk": {"S": "a"}})

    arn = ddb.create_backup(TableName="t", BackupName="bkp")["BackupDetails"]["BackupArn"]
    mi.age_table_backup(ACCOUNT, EAST, arn, 7200)
    created = ddb.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]["BackupCreationDateTime"]
    assert abs(time.time() - created.timestamp() - 7200) < 60
    ddb.restore_table_from_backup(TargetTableName="t-restored", BackupArn=arn)
    assert ddb.describe_table(TableName="t-restored")["Table"]["TableStatus"] == "CREATING"
    mi.finish_busy(("table-restore", ACCOUNT, EAST, "t-restored"))
    assert ddb.describe_table(TableName="t-restored")["Table"]["TableStatus"] == "ACTIVE"
    mi.declare_table_replicas(ACCOUNT, "t", [EAST, WEST])
    assert ddb.describe_table(TableName="t")["Table"]["Replicas"] == [{"RegionName": WEST, "ReplicaStatus": "ACTIVE"}]
    assert west.describe_table(TableName="t")["Table"]["Replicas"][0]["RegionName"] == EAST


def test_cloudwatch_alarm_views_metrics_and_state(aws):
    cw = boto3.client("cloudwatch", region_name=EAST)
    cw.put_metric_alarm(AlarmName="a", Namespace="ns", MetricName="m", Dimensions=[{"Name": "E", "Value": "g"}],
                        Statistic="Sum", Period=10, EvaluationPeriods=2, DatapointsToAlarm=1, Threshold=1,
                        ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching")
    [alarm] = mi.alarms(ACCOUNT, EAST)
    assert alarm == mi.Alarm("a", "ns", "m", (("E", "g"),), "Sum", 10, 2, 1, 1.0,
                             "GreaterThanOrEqualToThreshold", "notBreaching", "OK")
    before = time.time() - 1
    mi.put_metric(ACCOUNT, EAST, "ns", "m", {"E": "g"}, 3.0)
    mi.put_metric(ACCOUNT, EAST, "ns", "m", {"E": "other"}, 5.0)
    [(when, value)] = mi.datapoints(ACCOUNT, EAST, "ns", "m", (("E", "g"),), before)
    assert value == 3.0 and abs(when - time.time()) < 5
    stats = cw.get_metric_statistics(Namespace="ns", MetricName="m", Dimensions=[{"Name": "E", "Value": "g"}],
                                     StartTime=before - 60, EndTime=time.time() + 60, Period=60,
                                     Statistics=["Sum"])
    assert stats["Datapoints"][0]["Sum"] == 3.0
    mi.prune_metrics(ACCOUNT, EAST, "ns", time.time() + 1)
    assert mi.datapoints(ACCOUNT, EAST, "ns", "m", (("E", "g"),), before) == []
    mi.set_alarm_state(ACCOUNT, EAST, "a", "ALARM", "test")
    assert cw.describe_alarms(AlarmNames=["a"])["MetricAlarms"][0]["StateValue"] == "ALARM"


def test_epoch_reads_naive_utc():
    from datetime import UTC, datetime

    assert mi._epoch(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert mi._epoch(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
