"""Guard for drtool/sandbox/moto_adapter: every moto internal the sandbox relies on exists
and behaves as the sandbox assumes, and so does every public call the simulator makes
instead (moto's answer to it). When a moto upgrade breaks one of these, this file fails
first and names it; fix the adapter (or the pin in pyproject.toml).

Uses moto in-process (`aws` fixture) except where the server itself is under test.
"""

from __future__ import annotations

import threading
import time

import boto3
import pytest
from botocore.config import Config

from drtool.sandbox.loopback import Loopback
from drtool.sandbox.moto_adapter import backends, data_state, dns_alarm_state, fleet_state, patches
from drtool.sandbox.server import locked_server, reset_moto

pytestmark = pytest.mark.moto  # runs the sandbox (moto's server)

ACCOUNT, EAST, WEST = "123456789012", "us-east-1", "us-west-2"


@pytest.fixture
def patched(aws):
    patches.install_patches(ACCOUNT, [EAST])
    yield
    patches.uninstall_patches()


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
    patches.install_patches(ACCOUNT, [EAST])
    server = locked_server(threading.RLock())
    server.start()
    try:
        host, port = server.get_host_and_port()
        rds = boto3.client("rds", region_name=EAST, endpoint_url=f"http://{host}:{port}",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        rds.meta.events.register("before-send", lambda request, **_: request.headers.__setitem__(
            patches.NATIVE_HEADER, "1"))
        rds.create_db_instance(DBInstanceIdentifier="db", Engine="postgres", DBInstanceClass="db.t3.micro",
                               MasterUsername="u", MasterUserPassword="password1", AllocatedStorage=20)
        rds.create_db_snapshot(DBSnapshotIdentifier="snap", DBInstanceIdentifier="db")
        out = rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="db2", DBSnapshotIdentifier="snap")
        assert out["DBInstance"]["DBInstanceStatus"] == "available"
        assert not patches.busy_since()
    finally:
        server.stop()
        patches.uninstall_patches()


def test_auto_scaling_launch_is_deferred_in_scope_only_and_patches_uninstall(aws):
    from moto.autoscaling.models import FakeAutoScalingGroup

    original = FakeAutoScalingGroup.replace_autoscaling_group_instances
    patches.install_patches(ACCOUNT, [EAST])
    try:
        _group(EAST)
        _group(WEST)
        east = {g.name: g for g in fleet_state.auto_scaling_groups(ACCOUNT, EAST)}["g"]
        assert east.members == () and east.desired == 2 and len(east.subnet_ids) == 3
        assert east.health_check_type == "EC2" and len(east.target_group_arns) == 1
        assert len(fleet_state.auto_scaling_groups(ACCOUNT, WEST)[0].members) == 2  # out of scope: moto's own launch
    finally:
        patches.uninstall_patches()
    assert FakeAutoScalingGroup.replace_autoscaling_group_instances is original


def test_members_launch_into_a_chosen_subnet_and_target_health_is_simulated(patched):
    ec2, elb, asg, tg, subnets = _group(EAST)
    assert fleet_state.subnet_azs(ACCOUNT, EAST)[subnets[1]] == "us-east-1b"
    instance = fleet_state.launch_member(ACCOUNT, EAST, "g", subnets[1])
    member = fleet_state.auto_scaling_groups(ACCOUNT, EAST)[0].members[0]
    assert (member.instance_id, member.lifecycle, member.state, member.subnet_id) == \
        (instance, fleet_state.PENDING, "running", subnets[1])
    described = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]["Instances"][0]
    assert (described["LifecycleState"], described["AvailabilityZone"]) == ("Pending", "us-east-1b")
    tags = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["Tags"]
    assert {"Key": "app", "Value": "x"} in tags

    fleet_state.set_lifecycle(ACCOUNT, EAST, "g", instance, fleet_state.IN_SERVICE)
    asg.set_instance_health(InstanceId=instance, HealthStatus="Unhealthy", ShouldRespectGracePeriod=False)
    assert fleet_state.auto_scaling_groups(ACCOUNT, EAST)[0].members[0].health == "Unhealthy"
    assert fleet_state.auto_scaling_groups(ACCOUNT, EAST)[0].members[0].lifecycle == fleet_state.IN_SERVICE
    assert fleet_state.running_members(ACCOUNT, EAST, "g") == [instance]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": instance}])
    assert fleet_state.target_ids(ACCOUNT, EAST, tg) == [instance]
    assert fleet_state.target_ids(ACCOUNT, EAST, "arn:missing") == []
    assert fleet_state.target_group_arns(ACCOUNT, EAST) == {f"tg-{EAST}": tg}
    assert fleet_state.instance_states(ACCOUNT, EAST, [instance]) == {instance: ("running", subnets[1])}

    def state():
        return elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"][0]["TargetHealth"]

    assert state()["State"] == "healthy"
    patches.set_target_health({tg: {instance: ("unhealthy", "Target.Timeout", "Request timed out")}})
    assert (state()["State"], state()["Reason"]) == ("unhealthy", "Target.Timeout")
    patches.set_target_health({})
    # what the fleet does to a failed member: DeregisterTargets, TerminateInstances (after
    # which moto drops it from the group and launches nothing in scope)
    elb.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": instance}])
    ec2.terminate_instances(InstanceIds=[instance])
    assert fleet_state.auto_scaling_groups(ACCOUNT, EAST)[0].members == ()
    assert fleet_state.instance_states(ACCOUNT, EAST, [instance])[instance][0] == "terminated"
    assert fleet_state.target_ids(ACCOUNT, EAST, tg) == []
    assert asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]["DesiredCapacity"] == 2
    # a member whose instance is already terminated (but still listed) is forgotten
    other = fleet_state.launch_member(ACCOUNT, EAST, "g", subnets[0])
    backends.ec2(ACCOUNT, EAST).terminate_instances([other])
    assert fleet_state.auto_scaling_groups(ACCOUNT, EAST)[0].members[0].state == "terminated"
    fleet_state.forget_member(ACCOUNT, EAST, "g", other)
    assert fleet_state.auto_scaling_groups(ACCOUNT, EAST)[0].members == ()


def test_moto_terminate_in_group_strips_the_group_tag(patched):
    """Why the fleet does not use TerminateInstanceInAutoScalingGroup: moto removes the
    `aws:autoscaling:groupName` tag from the instance (AWS keeps a terminated instance's tags)."""
    ec2, elb, asg, tg, subnets = _group(EAST)
    instance = fleet_state.launch_member(ACCOUNT, EAST, "g", subnets[0])
    asg.terminate_instance_in_auto_scaling_group(InstanceId=instance, ShouldDecrementDesiredCapacity=False)
    tags = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0].get("Tags", [])
    assert "aws:autoscaling:groupName" not in {t["Key"] for t in tags}


def test_network_acl_rules_per_subnet(aws):
    ec2 = boto3.client("ec2", region_name=EAST)
    vpc, subnets = _vpc(ec2)
    rules = fleet_state.subnet_ingress_rules(ACCOUNT, EAST)[subnets[0]]
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
    rules = fleet_state.subnet_ingress_rules(ACCOUNT, EAST)
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
    [view] = dns_alarm_state.health_checks(ACCOUNT)
    assert (view.check_id, view.type, view.fqdn, view.port, view.path, view.inverted, view.disabled) == \
        (check, "HTTP", "a.ex.com", 80, "/health", True, False)
    [record] = dns_alarm_state.record_sets(ACCOUNT, "app.ex.com")
    assert (record.type, record.failover, record.health_check_id, record.values, record.ttl) == \
        ("CNAME", "PRIMARY", check, ("a.ex.com",), 2)

    def status():
        return r53.get_health_check_status(HealthCheckId=check)["HealthCheckObservations"][0]["StatusReport"][
            "Status"]

    assert status().startswith("Success")
    patches.set_health_check_health({check: False})
    assert status().startswith("Failure")
    patches.set_health_check_health({check: True})
    assert status().startswith("Success")


def test_rds_promotion_and_restore_are_timed(patched):
    east, west = boto3.client("rds", region_name=EAST), boto3.client("rds", region_name=WEST)
    east.create_db_instance(DBInstanceIdentifier="db", Engine="postgres", DBInstanceClass="db.t3.micro",
                            MasterUsername="u", MasterUserPassword="password1", AllocatedStorage=20)
    patches.install_patches(ACCOUNT, [WEST])
    west.create_db_instance_read_replica(DBInstanceIdentifier="dr", SourceRegion=EAST,
                                         SourceDBInstanceIdentifier=f"arn:aws:rds:{EAST}:{ACCOUNT}:db:db")
    view = data_state.db_instances(ACCOUNT, WEST)["dr"]
    assert view.is_replica and view.source and view.status == "available"
    assert data_state.db_instances(ACCOUNT, EAST)["db"].replicas
    assert west.promote_read_replica(DBInstanceIdentifier="dr")["DBInstance"]["DBInstanceStatus"] == "modifying"
    [key] = [k for k in patches.busy_since() if k[0] == "promote"]
    assert key[1:] == (ACCOUNT, WEST, "dr") and patches.busy_since()[key] <= time.monotonic()
    assert west.describe_db_instances(DBInstanceIdentifier="dr")["DBInstances"][0].get(
        "ReadReplicaSourceDBInstanceIdentifier")
    patches.finish_busy(key)
    out = west.describe_db_instances(DBInstanceIdentifier="dr")["DBInstances"][0]
    assert out["DBInstanceStatus"] == "available" and not out.get("ReadReplicaSourceDBInstanceIdentifier")
    assert not data_state.db_instances(ACCOUNT, EAST)["db"].replicas

    east.create_db_snapshot(DBSnapshotIdentifier="snap", DBInstanceIdentifier="db")
    data_state.age_db_snapshot(ACCOUNT, EAST, "snap", 3600)
    created = east.describe_db_snapshots(DBSnapshotIdentifier="snap")["DBSnapshots"][0]["SnapshotCreateTime"]
    assert abs(time.time() - created.timestamp() - 3600) < 60
    restored = east.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="db2", DBSnapshotIdentifier="snap")
    assert restored["DBInstance"]["DBInstanceStatus"] == "creating"
    key = ("rds-restore", ACCOUNT, EAST, "db2")
    assert key in patches.busy_since()
    patches.finish_busy(key)
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
    assert key in patches.busy_since()
    patches.finish_busy(key)
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
    assert data_state.replication_rules(ACCOUNT) == {"src-b": [data_state.ReplicationRule("to-dr", "Disabled", "o/", 2, "dst-b")]}
    assert (data_state.bucket_region(ACCOUNT, "dst-b"), data_state.bucket_region(ACCOUNT, "nope")) == (WEST, None)
    put = s3.put_object(Bucket="src-b", Key="o/1", Body=b"one", ContentType="text/plain", Metadata={"seq": "1"})
    s3.delete_object(Bucket="src-b", Key="o/1")  # a delete marker: not listed
    [version] = data_state.object_versions(ACCOUNT, "src-b")
    assert (version.key, version.version_id) == ("o/1", put["VersionId"])
    assert abs(version.written_at - time.time()) < 5
    # what the S3 replicator does: CopyObject of the version, data, metadata and content type
    new = s3.copy_object(Bucket="dst-b", Key="o/1", MetadataDirective="COPY",
                         CopySource={"Bucket": "src-b", "Key": "o/1", "VersionId": put["VersionId"]})["VersionId"]
    got = s3.get_object(Bucket="dst-b", Key="o/1")
    assert (got["VersionId"], got["Body"].read(), got["Metadata"], got["ContentType"]) == \
        (new, b"one", {"seq": "1"}, "text/plain")
    with pytest.raises(s3.exceptions.ClientError) as missing:
        s3.copy_object(Bucket="dst-b", Key="o/1", CopySource={"Bucket": "src-b", "Key": "o/1", "VersionId": "nope"})
    assert missing.value.response["Error"]["Code"] in ("NoSuchKey", "NoSuchVersion", "InvalidArgument")


def test_dynamodb_stream_apply_restore_and_backup_age(patched):
    ddb = boto3.client("dynamodb", region_name=EAST)
    west = boto3.client("dynamodb", region_name=WEST)
    spec = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}
    ddb.create_table(TableName="t", StreamSpecification={"StreamEnabled": True, "StreamViewType":
                                                         "NEW_AND_OLD_IMAGES"}, **spec)
    west.create_table(TableName="t", **spec)
    ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    ddb.delete_item(TableName="t", Key={"pk": {"S": "a"}})
    first, second = data_state.stream_records(ACCOUNT, EAST, "t", None)
    assert (first.event, first.keys, first.new_image) == ("INSERT", {"pk": {"S": "a"}},
                                                           {"pk": {"S": "a"}, "n": {"N": "1"}})
    assert second.event == "REMOVE" and second.sequence == first.sequence + 1
    assert abs(first.written_at - time.time()) < 5
    assert data_state.stream_records(ACCOUNT, EAST, "t", first.sequence) == [second]
    # what the table replicator does: PutItem of the new image, DeleteItem of the keys
    west.put_item(TableName="t", Item=first.new_image)
    assert west.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "1"}
    west.delete_item(TableName="t", Key=second.keys)
    assert "Item" not in west.get_item(TableName="t", Key={"pk": {"S": "a"}})
    with pytest.raises(west.exceptions.ResourceNotFoundException):
        west.put_item(TableName="gone", Item=first.new_image)

    arn = ddb.create_backup(TableName="t", BackupName="bkp")["BackupDetails"]["BackupArn"]
    data_state.age_table_backup(ACCOUNT, EAST, arn, 7200)
    created = ddb.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]["BackupCreationDateTime"]
    assert abs(time.time() - created.timestamp() - 7200) < 60
    ddb.restore_table_from_backup(TargetTableName="t-restored", BackupArn=arn)
    assert ddb.describe_table(TableName="t-restored")["Table"]["TableStatus"] == "CREATING"
    patches.finish_busy(("table-restore", ACCOUNT, EAST, "t-restored"))
    assert ddb.describe_table(TableName="t-restored")["Table"]["TableStatus"] == "ACTIVE"
    patches.declare_table_replicas(ACCOUNT, "t", [EAST, WEST])
    assert ddb.describe_table(TableName="t")["Table"]["Replicas"] == [{"RegionName": WEST, "ReplicaStatus": "ACTIVE"}]
    assert west.describe_table(TableName="t")["Table"]["Replicas"][0]["RegionName"] == EAST


def test_cloudwatch_alarm_views_metrics_and_state(aws):
    cw = boto3.client("cloudwatch", region_name=EAST)
    cw.put_metric_alarm(AlarmName="a", Namespace="ns", MetricName="m", Dimensions=[{"Name": "E", "Value": "g"}],
                        Statistic="Sum", Period=10, EvaluationPeriods=2, DatapointsToAlarm=1, Threshold=1,
                        ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching")
    [alarm] = dns_alarm_state.alarms(ACCOUNT, EAST)
    assert alarm == dns_alarm_state.Alarm("a", "ns", "m", (("E", "g"),), "Sum", 10, 2, 1, 1.0,
                             "GreaterThanOrEqualToThreshold", "notBreaching", "OK")
    before = time.time() - 1
    cw.put_metric_data(Namespace="ns", MetricData=[
        {"MetricName": "m", "Value": 3.0, "Unit": "Count", "Dimensions": [{"Name": "E", "Value": "g"}]},
        {"MetricName": "m", "Value": 5.0, "Unit": "Count", "Dimensions": [{"Name": "E", "Value": "other"}]}])
    dns_alarm_state.publish_service_metric(ACCOUNT, EAST, "AWS/RDS", "ReplicaLag", {"DBInstanceIdentifier": "d"},
                                           2.0, "Seconds")
    assert [v for _, v in dns_alarm_state.datapoints(ACCOUNT, EAST, "AWS/RDS", "ReplicaLag",
                                                     (("DBInstanceIdentifier", "d"),), before)] == [2.0]
    [(when, value)] = dns_alarm_state.datapoints(ACCOUNT, EAST, "ns", "m", (("E", "g"),), before)
    assert value == 3.0 and abs(when - time.time()) < 5
    stats = cw.get_metric_statistics(Namespace="ns", MetricName="m", Dimensions=[{"Name": "E", "Value": "g"}],
                                     StartTime=before - 60, EndTime=time.time() + 60, Period=60,
                                     Statistics=["Sum"])
    assert stats["Datapoints"][0]["Sum"] == 3.0
    dns_alarm_state.prune_metrics(ACCOUNT, EAST, "ns", time.time() + 1)
    assert dns_alarm_state.datapoints(ACCOUNT, EAST, "ns", "m", (("E", "g"),), before) == []
    cw.set_alarm_state(AlarmName="a", StateValue="ALARM", StateReason="test")
    assert cw.describe_alarms(AlarmNames=["a"])["MetricAlarms"][0]["StateValue"] == "ALARM"


def test_epoch_and_naive_utc_conversions():
    from datetime import UTC, datetime

    assert backends.epoch(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert backends.epoch(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    naive = datetime(2026, 1, 1, 12)
    assert backends.naive(naive.replace(tzinfo=UTC)) == naive
    assert backends.naive_utc(backends.epoch(naive)) == naive


def test_loopback_client_is_answered_in_the_thread_that_holds_the_lock():
    """The simulator calls the API while it holds the sandbox lock: the loopback client must
    be answered by the server's app in that thread (the socket would wait for the lock)."""
    lock = threading.RLock()
    server = locked_server(lock)
    server.start()
    host, port = server.get_host_and_port()
    try:
        clients = Loopback(server.fakes, f"http://{host}:{port}", EAST)
        s3 = clients("s3", EAST)
        assert clients("s3", EAST) is s3
        with lock:
            reset_moto()
            s3.create_bucket(Bucket="loop")
            s3.put_object(Bucket="loop", Key="a b/c", Body=b"x", Metadata={"k": "v"})
            got = s3.get_object(Bucket="loop", Key="a b/c")
            assert (got["Body"].read(), got["Metadata"]) == (b"x", {"k": "v"})
            cw = clients("cloudwatch", EAST)
            cw.put_metric_data(Namespace="ns", MetricData=[{"MetricName": "m", "Value": 1.0}])
            assert cw.list_metrics(Namespace="ns")["Metrics"][0]["MetricName"] == "m"
            with pytest.raises(s3.exceptions.NoSuchBucket):
                s3.list_objects_v2(Bucket="nope")
    finally:
        server.stop()
