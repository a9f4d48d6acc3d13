"""Paginators, waiters, EC2 eventual consistency and write_then_confirm, against moto
in-process with errors injected on the wire (tests/aws/faults.py)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ReadTimeoutError

from drtool.aws.errors import AmbiguousWrite
from drtool.aws.retry import RetryPolicy, write_then_confirm
from drtool.aws.session import AwsSession
from tests.aws.faults import Faults, ec2_error, s3_error


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def aws_session(aws, sleeps):
    return AwsSession(region="us-east-1", max_attempts=3, sleep=sleeps.append)


def _token(params) -> str | None:
    return params["query_string"].get("continuation-token")


def test_a_paginated_read_throttled_on_page_2_resumes_at_page_2(aws_session, sleeps):
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket="bkt-retry")
    for n in range(5):
        s3.put_object(Bucket="bkt-retry", Key=f"k{n}", Body=b"x")
    faults = Faults(s3, "s3", "ListObjectsV2", [None, s3_error("SlowDown"), None, None])
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket="bkt-retry", PaginationConfig={"PageSize": 2}) for o in page.get("Contents", [])]
    assert keys == ["k0", "k1", "k2", "k3", "k4"]
    tokens = [_token(r) for r in faults.requests]
    assert len(tokens) == 4 and tokens[0] is None
    assert tokens[1] is not None and tokens[2] == tokens[1]   # the failed page again, not page 1
    assert len(sleeps) == 1 and aws_session.calls["s3:ListObjectsV2"] == 4


def test_a_paginated_read_gives_up_after_max_attempts(aws_session):
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket="bkt-retry")
    Faults(s3, "s3", "ListObjectsV2", [s3_error("SlowDown")] * 3)
    with pytest.raises(Exception, match="SlowDown"):
        list(s3.get_paginator("list_objects_v2").paginate(Bucket="bkt-retry"))
    assert aws_session.calls["s3:ListObjectsV2"] == 3


def test_a_waiter_poll_that_is_throttled_is_retried(aws_session, sleeps):
    ec2 = aws_session.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"]
    image_id = image[0]["ImageId"] if image else "ami-12c6146b"
    instance = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    faults = Faults(ec2, "ec2", "DescribeInstances", [ec2_error("RequestLimitExceeded", 503)])
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance], WaiterConfig={"Delay": 0, "MaxAttempts": 2})
    assert len(faults.requests) == 2 and len(sleeps) == 1
    state = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]
    assert state["Name"] == "running"


def test_a_waiter_poll_that_times_out_is_retried(aws_session):
    ec2 = aws_session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    calls = []

    def late(request, **_):
        calls.append(request)
        if len(calls) == 1:
            raise ReadTimeoutError(endpoint_url=request.url)

    ec2.raw.meta.events.register_first("before-send.ec2.DescribeVpcs", late)
    ec2.get_waiter("vpc_available").wait(VpcIds=[vpc], WaiterConfig={"Delay": 0, "MaxAttempts": 1})
    assert len(calls) == 2


def test_ec2_not_found_right_after_a_create_is_retried(aws_session, sleeps):
    ec2 = aws_session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    faults = Faults(ec2, "ec2", "CreateNetworkAclEntry", [ec2_error("InvalidNetworkAclID.NotFound")])
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="-1", RuleAction="deny",
                                 Egress=False, CidrBlock="0.0.0.0/0")
    entries = ec2.describe_network_acls(NetworkAclIds=[acl])["NetworkAcls"][0]["Entries"]
    assert [(e["RuleNumber"], e["RuleAction"]) for e in entries if not e["Egress"]][:1] == [(100, "deny")]
    assert len(faults.requests) == 2 and len(sleeps) == 1


def test_ec2_not_found_is_retried_only_within_its_budget(aws):
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=50, base_delay=4.0, max_delay=4.0, sleep=sleeps.append, not_found_budget=10)
    ec2 = AwsSession(region="us-east-1").client("ec2")
    with pytest.raises(Exception, match="InvalidNetworkAclID.NotFound"):
        policy.call(ec2.raw.delete_network_acl, "ec2", "delete_network_acl", NetworkAclId="acl-12345678")
    assert 1 < len(sleeps) < 50 and sum(sleeps[:-1]) < 10 <= sum(sleeps)


def test_not_found_on_a_read_or_another_service_is_not_retried(aws_session, sleeps):
    ec2 = aws_session.client("ec2")
    with pytest.raises(Exception, match=r"\.NotFound"):
        ec2.describe_network_acls(NetworkAclIds=["acl-12345678"])
    assert sleeps == [] and aws_session.calls["ec2:DescribeNetworkAcls"] == 1


def _lost_answer(client, operation: str):
    calls = []

    def after_send(response_dict, **_):
        calls.append(response_dict)
        raise ReadTimeoutError(endpoint_url="http://lost")   # applied by moto, answer lost

    client.raw.meta.events.register(f"before-parse.{client.raw.meta.service_model.service_name}.{operation}",
                                    after_send)
    return calls


def test_write_then_confirm_reads_back_a_change_whose_answer_was_lost(aws_session):
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket="bkt-retry")
    sent = _lost_answer(s3, "PutBucketTagging")
    tagging = {"TagSet": [{"Key": "k", "Value": "v"}]}

    def confirm() -> bool:
        return s3.get_bucket_tagging(Bucket="bkt-retry")["TagSet"] == tagging["TagSet"]

    assert write_then_confirm(lambda: s3.put_bucket_tagging(Bucket="bkt-retry", Tagging=tagging), confirm) is None
    assert len(sent) == 1 and confirm()


def test_write_then_confirm_raises_when_the_read_back_shows_nothing(aws_session):
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket="bkt-retry")
    sent = _lost_answer(s3, "PutBucketTagging")
    with pytest.raises(AmbiguousWrite, match="s3:PutBucketTagging outcome unknown"):
        write_then_confirm(lambda: s3.put_bucket_tagging(Bucket="bkt-retry", Tagging={"TagSet": []}), lambda: False)
    assert len(sent) == 1
