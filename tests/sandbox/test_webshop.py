"""The bundled `webshop` sandbox: the API of docs/sandbox-contract.md and the estate's fixed names,
read back through boto3."""

from __future__ import annotations

import os
import time

import pytest

from tests.sandbox.helpers import get

pytestmark = pytest.mark.moto  # runs the sandbox (moto's server)

TAGS = {"app": "shop", "drill": "allowed"}


@pytest.fixture(scope="module")
def webshop():
    from drtool.sandbox import Sandbox

    with Sandbox.load("webshop") as sb:
        yield sb


def _tags(items, key="Key", value="Value"):
    return {t[key]: t[value] for t in items}


def test_start_up_is_quick_and_values_point_at_loopback(webshop):
    print(f"webshop sandbox start-up: {webshop.startup_seconds:.2f}s")
    assert webshop.startup_seconds < 10  # the target is < 5 s; leave room for a loaded CI box
    values = webshop.values()
    assert values["account_id"] == "123456789012"
    assert values["endpoint"].startswith("http://127.0.0.1:")
    assert values["endpoint.us-east-1"] == values["endpoint"] + "/region/us-east-1"
    assert webshop.endpoint_url.startswith("http://127.0.0.1:")
    env = webshop.env()
    assert env["AWS_ENDPOINT_URL"] == webshop.endpoint_url and env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env["AWS_REGION"] == "us-east-1"


def test_session_is_an_aws_session_on_the_sandbox_with_fake_backup(webshop):
    from drtool.aws.session import AwsSession

    session = webshop.session()
    assert isinstance(session, AwsSession) and session.endpoint_url == webshop.endpoint_url
    assert session.account_id() == "123456789012"
    assert session.client("backup").list_backup_jobs()["BackupJobs"] == []  # moto alone answers 404
    assert webshop.session("us-west-2").default_region == "us-west-2"


def test_second_sandbox_in_the_same_process_is_refused(webshop):
    from drtool.sandbox import Sandbox, SandboxError

    with pytest.raises(SandboxError, match="already running"):
        Sandbox.load("webshop").start()


def test_network_and_groups(webshop):
    for region, cidr in (("us-east-1", "10.0.0.0/16"), ("us-west-2", "10.1.0.0/16")):
        ec2 = webshop.client("ec2", region)
        [vpc] = ec2.describe_vpcs(Filters=[{"Name": "tag:app", "Values": ["shop"]}])["Vpcs"]
        assert vpc["CidrBlock"] == cidr
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
        assert sorted(s["AvailabilityZone"] for s in subnets) == [f"{region}{az}" for az in "abc"]
        assert all(_tags(s["Tags"]).items() >= {"app": "shop", "tier": "app"}.items() for s in subnets)
    east = webshop.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["shop-use1"])
    [group] = east["AutoScalingGroups"]
    assert (group["MinSize"], group["DesiredCapacity"], group["MaxSize"]) == (2, 3, 6)
    assert sorted(i["AvailabilityZone"] for i in group["Instances"]) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert all(i["LifecycleState"] == "InService" for i in group["Instances"])
    ids = [i["InstanceId"] for i in group["Instances"]]
    tags = webshop.client("ec2").describe_instances(InstanceIds=ids)["Reservations"][0]["Instances"][0]["Tags"]
    assert _tags(tags).items() >= TAGS.items()
    west = webshop.client("autoscaling", "us-west-2").describe_auto_scaling_groups(
        AutoScalingGroupNames=["shop-usw2"])["AutoScalingGroups"][0]
    assert (west["MinSize"], west["DesiredCapacity"], west["MaxSize"], west["Instances"]) == (0, 0, 6, [])
    for region, name in (("us-east-1", "shop-use1"), ("us-west-2", "shop-usw2")):
        elb = webshop.client("elbv2", region)
        [lb] = elb.describe_load_balancers(Names=[f"{name}-alb"])["LoadBalancers"]
        [tg] = elb.describe_target_groups(Names=[f"{name}-tg"])["TargetGroups"]
        assert tg["LoadBalancerArns"] == [lb["LoadBalancerArn"]]


def test_databases(webshop):
    east, west = webshop.client("rds"), webshop.client("rds", "us-west-2")
    primary = east.describe_db_instances(DBInstanceIdentifier="shop-db")["DBInstances"][0]
    replica = west.describe_db_instances(DBInstanceIdentifier="shop-db-dr")["DBInstances"][0]
    assert primary["Engine"] == "postgres" and replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(":shop-db")
    assert _tags(primary["TagList"]).items() >= TAGS.items()
    cluster = east.describe_db_clusters(DBClusterIdentifier="shop-aurora")["DBClusters"][0]
    assert cluster["Engine"] == "aurora-postgresql"
    writers = {m["DBInstanceIdentifier"]: m["IsClusterWriter"] for m in cluster["DBClusterMembers"]}
    assert writers == {"shop-aurora-1": True, "shop-aurora-2": False}
    snap = east.describe_db_snapshots(DBSnapshotIdentifier="shop-db-snap")["DBSnapshots"][0]
    assert 11.9 * 3600 < time.time() - snap["SnapshotCreateTime"].timestamp() < 12.1 * 3600


def test_storage(webshop):
    s3 = webshop.client("s3")
    rules = s3.get_bucket_replication(Bucket="shop-orders-use1")["ReplicationConfiguration"]["Rules"]
    assert [(r["ID"], r["Status"], r["Destination"]["Bucket"]) for r in rules] == [
        ("to-dr", "Enabled", "arn:aws:s3:::shop-orders-usw2")]
    assert s3.get_bucket_versioning(Bucket="shop-orders-use1")["Status"] == "Enabled"
    assert s3.get_bucket_location(Bucket="shop-orders-usw2")["LocationConstraint"] == "us-west-2"
    for region in ("us-east-1", "us-west-2"):
        table = webshop.client("dynamodb", region).describe_table(TableName="shop-sessions")["Table"]
        assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
        assert [r["RegionName"] for r in table["Replicas"]] == [{"us-east-1": "us-west-2"}.get(region, "us-east-1")]
    [backup] = webshop.client("dynamodb").list_backups(TableName="shop-sessions")["BackupSummaries"]
    assert 5.9 * 3600 < time.time() - backup["BackupCreationDateTime"].timestamp() < 6.1 * 3600


def test_dns_alarms_and_endpoints(webshop):
    r53 = webshop.client("route53")
    [zone] = [z for z in r53.list_hosted_zones()["HostedZones"] if z["Name"] == "shop.example.com."]
    records = r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    pair = {r["Failover"]: r for r in records if r["Name"] == "app.shop.example.com."}
    assert pair["PRIMARY"]["ResourceRecords"] == [{"Value": "use1.shop.example.com"}]
    assert pair["SECONDARY"]["ResourceRecords"] == [{"Value": "usw2.shop.example.com"}]
    check = r53.get_health_check(HealthCheckId=pair["PRIMARY"]["HealthCheckId"])["HealthCheck"]
    assert check["HealthCheckConfig"]["Type"] == "RECOVERY_CONTROL"    # ARC routing control use1 guards it
    config = webshop.client("route53-recovery-control-config", "us-west-2")
    assert config.list_associated_route53_health_checks(RoutingControlArn=webshop.values()["routing_control.use1"])[
        "HealthCheckIds"] == [check["Id"]]
    status = r53.get_health_check_status(HealthCheckId=check["Id"])["HealthCheckObservations"]
    assert status[0]["StatusReport"]["Status"].startswith("Success")
    for region, name in (("us-east-1", "shop-5xx"), ("us-west-2", "shop-dr-5xx")):
        [alarm] = webshop.client("cloudwatch", region).describe_alarms(AlarmNames=[name])["MetricAlarms"]
        assert alarm["StateValue"] == "OK"
    values = webshop.values()
    assert get(values["endpoint"] + "/health") == (200, {"status": "ok", "region": "us-east-1",
                                                         "reason": "serving", "via": "dns"})
    assert get(values["endpoint.us-west-2"] + "/health")[0] == 503  # no capacity, replica database
    assert get(values["endpoint"] + "/nope")[0] == 404


def test_real_aws_configuration_is_never_read(webshop, monkeypatch, tmp_path):
    """Explicit fake credentials and a loopback endpoint: a user's profile cannot leak in."""
    creds = tmp_path / "credentials"
    creds.write_text("[default]\naws_access_key_id = AKIAREALKEY\naws_secret_access_key = real\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    client = webshop.session().client("sts")
    assert client.meta.endpoint_url == webshop.endpoint_url
    assert client.raw._request_signer._credentials.access_key == "testing"
    assert os.environ.get("AWS_ENDPOINT_URL") is None  # the sandbox does not export anything itself


def test_sandbox_clients_ignore_the_users_aws_profile(webshop, monkeypatch):
    from drtool.sandbox.provision import isolated_session

    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    sts = isolated_session("us-east-1").client("sts", endpoint_url=webshop.endpoint_url)
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_the_server_serves_aws_backup_to_any_client(webshop):
    """The fake AWS Backup sits in front of moto in the server: a plain boto3 client (as
    the AWS CLI would, with --endpoint-url) sees its jobs; vault calls stay moto's."""
    plain = webshop.client("backup")
    assert [v["BackupVaultName"] for v in plain.list_backup_vaults()["BackupVaultList"]] == ["Default"]
    table = webshop.client("dynamodb").list_tables()["TableNames"][0]
    arn = webshop.client("dynamodb").describe_table(TableName=table)["Table"]["TableArn"]
    job = plain.start_backup_job(BackupVaultName="Default", ResourceArn=arn,
                                 IamRoleArn="arn:aws:iam::123456789012:role/backup")
    seen = webshop.session().client("backup").describe_backup_job(BackupJobId=job["BackupJobId"])
    assert seen["ResourceArn"] == arn and seen["ResourceType"] == "DynamoDB"
    assert job["BackupJobId"] in webshop.backup.jobs
