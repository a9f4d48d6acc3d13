"""Truth tests: each behaviour of the sandbox, driven with plain boto3 against the sandbox's
endpoint, recovers (or lags) within `helpers.tolerance` (from its delay table) of the number the estate sets.

Faults are made directly (the engine's actions are tested elsewhere); every assertion reads
the resulting state back through boto3 or the sandbox's HTTP endpoints. One sandbox of
tests/sandbox/truth-estate.yaml serves the module; each test uses its own resources.
"""

from __future__ import annotations

import time

import pytest

from tests.sandbox.helpers import assert_timing, elapsed_until, get, tolerance

pytestmark = pytest.mark.moto  # runs the sandbox (moto's server)


def test_terminated_member_is_replaced_after_the_delay_in_a_reachable_subnet(truth_sandbox):
    sb = truth_sandbox
    asg, ec2, elb = sb.client("autoscaling"), sb.client("ec2"), sb.client("elbv2")
    tg = sb.values()["target_group.web-tg"]

    def members():
        return asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]["Instances"]

    def healthy_targets():
        found = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        return {d["Target"]["Id"] for d in found if d["TargetHealth"]["State"] == "healthy"}

    before = members()
    assert sorted(m["AvailabilityZone"] for m in before) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    victim = before[0]
    ec2.terminate_instances(InstanceIds=[victim["InstanceId"]])
    start = time.monotonic()

    # moto would have replaced it inside the call; the sandbox holds the replacement back
    assert len(healthy_targets()) == 2
    elapsed_until(lambda: len(members()) == 3, timeout=2)
    pending = [m for m in members() if m["InstanceId"] not in {b["InstanceId"] for b in before}]
    assert pending[0]["LifecycleState"] == "Pending"
    states = {d["Target"]["Id"]: d["TargetHealth"]["State"]
              for d in elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]}
    assert states[pending[0]["InstanceId"]] == "initial"

    elapsed_until(lambda: len(healthy_targets()) == 3)
    measured = time.monotonic() - start
    assert_timing("ASG replacement (terminate)", measured, sb.truth.groups["web"].replacement_delay, sb.truth)
    after = members()
    assert all(m["LifecycleState"] == "InService" and m["HealthStatus"] == "Healthy" for m in after)
    assert pending[0]["AvailabilityZone"] == victim["AvailabilityZone"]  # balanced: the AZ that lost one


def test_stopped_member_is_replaced_after_the_delay(truth_sandbox):
    sb = truth_sandbox
    asg, ec2, elb = sb.client("autoscaling"), sb.client("ec2"), sb.client("elbv2")
    tg = sb.values()["target_group.web-tg"]
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    victim = group["Instances"][-1]["InstanceId"]
    ec2.stop_instances(InstanceIds=[victim])
    start = time.monotonic()

    def healthy():
        found = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        return {d["Target"]["Id"] for d in found if d["TargetHealth"]["State"] == "healthy"}

    elapsed_until(lambda: len(healthy()) == 3 and victim not in healthy())
    assert_timing("ASG replacement (stop)", time.monotonic() - start, sb.truth.groups["web"].replacement_delay, sb.truth)
    state = ec2.describe_instances(InstanceIds=[victim])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state == "terminated"  # Auto Scaling terminates the impaired member


def test_scale_up_instances_become_healthy_after_the_scale_up_delay(truth_sandbox):
    sb = truth_sandbox
    asg, elb = sb.client("autoscaling", "us-west-2"), sb.client("elbv2", "us-west-2")
    tg = sb.values()["target_group.spare-tg"]
    asg.set_desired_capacity(AutoScalingGroupName="spare", DesiredCapacity=2)
    measured = elapsed_until(lambda: sum(d["TargetHealth"]["State"] == "healthy" for d in elb.describe_target_health(
        TargetGroupArn=tg)["TargetHealthDescriptions"]) == 2)
    assert_timing("ASG scale-up", measured, sb.truth.groups["spare"].scale_up_delay, sb.truth)
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["spare"])["AutoScalingGroups"][0]
    assert sorted(i["AvailabilityZone"] for i in group["Instances"]) == ["us-west-2a", "us-west-2b"]


def test_s3_write_appears_in_the_replica_after_the_lag(truth_sandbox):
    sb = truth_sandbox
    src, dst = sb.client("s3"), sb.client("s3", "us-west-2")
    src.put_object(Bucket="truth-src", Key="orders/1.json", Body=b'{"seq": 1}')
    measured = elapsed_until(lambda: _exists(dst, "truth-dst", "orders/1.json"))
    assert_timing("S3 replication lag", measured, sb.truth.buckets["truth-src"], sb.truth)
    assert dst.get_object(Bucket="truth-dst", Key="orders/1.json")["Body"].read() == b'{"seq": 1}'


def test_s3_paused_rule_holds_writes_until_it_is_re_enabled(truth_sandbox):
    sb = truth_sandbox
    src, dst = sb.client("s3"), sb.client("s3", "us-west-2")
    config = src.get_bucket_replication(Bucket="truth-src")["ReplicationConfiguration"]
    lag = sb.truth.buckets["truth-src"]

    def set_status(status):
        rules = [{**r, "Status": status} for r in config["Rules"]]
        src.put_bucket_replication(Bucket="truth-src", ReplicationConfiguration={**config, "Rules": rules})

    set_status("Disabled")
    src.put_object(Bucket="truth-src", Key="paused/1.json", Body=b"1")
    time.sleep(lag + tolerance(sb.truth))
    assert not _exists(dst, "truth-dst", "paused/1.json")
    set_status("Enabled")
    measured = elapsed_until(lambda: _exists(dst, "truth-dst", "paused/1.json"))
    assert_timing("S3 replication after resume", measured, lag, sb.truth)


def test_dynamodb_item_appears_in_the_replica_after_the_lag(truth_sandbox):
    sb = truth_sandbox
    home, replica = sb.client("dynamodb"), sb.client("dynamodb", "us-west-2")
    home.put_item(TableName="truth-sessions", Item={"pk": {"S": "s-1"}, "n": {"N": "7"}})
    measured = elapsed_until(lambda: "Item" in replica.get_item(TableName="truth-sessions", Key={"pk": {"S": "s-1"}}))
    assert_timing("DynamoDB replica put", measured, sb.truth.tables["truth-sessions"], sb.truth)
    home.delete_item(TableName="truth-sessions", Key={"pk": {"S": "s-1"}})
    measured = elapsed_until(lambda: "Item" not in replica.get_item(TableName="truth-sessions",
                                                                    Key={"pk": {"S": "s-1"}}))
    assert_timing("DynamoDB replica delete", measured, sb.truth.tables["truth-sessions"], sb.truth)


def test_rds_promotion_takes_the_delay_then_clears_the_replica_link(truth_sandbox):
    sb = truth_sandbox
    west, east = sb.client("rds", "us-west-2"), sb.client("rds")
    replica = west.promote_read_replica(DBInstanceIdentifier="main-db-dr")["DBInstance"]
    start = time.monotonic()
    assert replica["DBInstanceStatus"] == "modifying"

    def describe():
        return west.describe_db_instances(DBInstanceIdentifier="main-db-dr")["DBInstances"][0]

    assert describe().get("ReadReplicaSourceDBInstanceIdentifier")  # not writable yet
    elapsed_until(lambda: describe()["DBInstanceStatus"] == "available")
    measured = time.monotonic() - start
    assert_timing("RDS promotion", measured, sb.truth.promotion_delay, sb.truth)
    assert not describe().get("ReadReplicaSourceDBInstanceIdentifier")
    primary = east.describe_db_instances(DBInstanceIdentifier="main-db")["DBInstances"][0]
    assert primary.get("ReadReplicaDBInstanceIdentifiers", []) == []


def test_snapshot_and_backup_restores_take_the_restore_duration(truth_sandbox):
    sb = truth_sandbox
    rds, ddb = sb.client("rds"), sb.client("dynamodb")
    out = rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="main-db-restored",
                                                   DBSnapshotIdentifier="main-db-snap")["DBInstance"]
    assert out["DBInstanceStatus"] == "creating"
    measured = elapsed_until(lambda: rds.describe_db_instances(DBInstanceIdentifier="main-db-restored")[
        "DBInstances"][0]["DBInstanceStatus"] == "available")
    assert_timing("RDS snapshot restore", measured, sb.truth.restore_duration, sb.truth)

    backup = ddb.list_backups(TableName="truth-sessions")["BackupSummaries"][0]
    age = time.time() - backup["BackupCreationDateTime"].timestamp()
    assert abs(age - 3600) < 60  # the estate's backup is an hour old
    ddb.restore_table_from_backup(TargetTableName="truth-restored", BackupArn=backup["BackupArn"])
    measured = elapsed_until(lambda: ddb.describe_table(TableName="truth-restored")["Table"]["TableStatus"] == "ACTIVE")
    assert_timing("DynamoDB backup restore", measured, sb.truth.restore_duration, sb.truth)


def test_aws_backup_restore_job_takes_the_restore_duration_once(truth_sandbox):
    """AWS Backup is the drtool.sandbox.fakes fake the sandbox server serves; its restore job
    covers the restore time, so the restored table is ACTIVE when the job completes."""
    sb = truth_sandbox
    backup = sb.session().client("backup")
    table_arn = sb.client("dynamodb").describe_table(TableName="truth-sessions")["Table"]["TableArn"]
    job = backup.start_backup_job(BackupVaultName="Default", ResourceArn=table_arn,
                                  IamRoleArn="arn:aws:iam::123456789012:role/backup")["BackupJobId"]
    elapsed_until(lambda: backup.describe_backup_job(BackupJobId=job)["State"] == "COMPLETED")
    point = backup.list_recovery_points_by_resource(ResourceArn=table_arn)["RecoveryPoints"][0]
    restore = backup.start_restore_job(RecoveryPointArn=point["RecoveryPointArn"],
                                       IamRoleArn="arn:aws:iam::123456789012:role/backup",
                                       Metadata={"targetTableName": "truth-from-backup"})["RestoreJobId"]
    measured = elapsed_until(lambda: backup.describe_restore_job(RestoreJobId=restore)["Status"] == "COMPLETED")
    assert_timing("AWS Backup restore job", measured, sb.truth.restore_duration, sb.truth)
    status = sb.client("dynamodb").describe_table(TableName="truth-from-backup")["Table"]["TableStatus"]
    assert status == "ACTIVE"


def test_inverted_primary_health_check_moves_the_global_endpoint_after_the_ttl(truth_sandbox):
    sb = truth_sandbox
    r53 = sb.client("route53")
    check = sb.values()["health_check.us-east-1"]
    url = sb.values()["endpoint"] + "/health"
    assert get(url)[1]["region"] == "us-east-1"
    r53.update_health_check(HealthCheckId=check, Inverted=True)
    try:
        measured = elapsed_until(lambda: get(url)[1]["region"] == "us-west-2")
        assert_timing("DNS failover (inverted check)", measured, sb.truth.dns_ttl, sb.truth)
    finally:
        r53.update_health_check(HealthCheckId=check, Inverted=False)
    measured = elapsed_until(lambda: get(url)[1]["region"] == "us-east-1")
    assert_timing("DNS failback", measured, sb.truth.dns_ttl, sb.truth)


@pytest.mark.parametrize("region, status", [("us-east-1", 200), ("us-west-2", 200)])
def test_region_endpoints_answer_from_the_simulated_state(truth_sandbox, region, status):
    code, body = get(f"{truth_sandbox.values()['endpoint.' + region]}/health")
    assert (code, body["region"]) == (status, region)


def _exists(s3, bucket: str, key: str) -> bool:
    return s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) > 0
