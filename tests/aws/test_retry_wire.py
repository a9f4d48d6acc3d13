"""What reaches the wire: a local HTTP server counts the requests an AwsSession client sends
when answers are late, lost or errors."""

from __future__ import annotations

import socket

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from drtool.aws.errors import AmbiguousWrite, translate
from drtool.aws.session import AwsSession
from drtool.errors import EXIT_ABORTED
from tests.aws.faults import LoopbackServer, ec2_error

EMPTY = (b'<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
         b"<requestId>r-1</requestId><reservationSet/></DescribeInstancesResponse>")
TERMINATED = (b'<TerminateInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
              b"<requestId>r-2</requestId><instancesSet><item><instanceId>i-1</instanceId>"
              b"<currentState><code>32</code><name>shutting-down</name></currentState>"
              b"<previousState><code>16</code><name>running</name></previousState></item></instancesSet>"
              b"</TerminateInstancesResponse>")
SLEEPS: list[float] = []


def session(url: str, **kw) -> AwsSession:
    return AwsSession(region="us-east-1", endpoint_url=url, read_timeout=0.3, connect_timeout=0.5,
                      max_attempts=3, sleep=SLEEPS.append, **kw)


def test_a_change_whose_answer_times_out_is_sent_exactly_once():
    with LoopbackServer([("hang", 1.0)]) as server:
        client = session(server.url).client("ec2")
        with pytest.raises(AmbiguousWrite) as info:
            client.terminate_instances(InstanceIds=["i-1"])
    assert server.actions == ["TerminateInstances"]
    assert isinstance(info.value.original, ReadTimeoutError)
    err = translate(info.value, "ec2.terminate-instances", "kill one")
    assert err.exit_code == EXIT_ABORTED
    assert err.message.startswith("step kill one: ec2:TerminateInstances outcome unknown (ReadTimeoutError: ")
    assert err.message.endswith("read the resource to see whether it applied")


def test_botocore_max_attempts_1_would_have_sent_it_twice():
    """The review's finding, kept as a guard: client-config `max_attempts` counts retries."""
    with LoopbackServer([("hang", 1.0), ("hang", 1.0)]) as server:
        client = boto3.client("ec2", region_name="us-east-1", endpoint_url=server.url, config=Config(
            retries={"mode": "standard", "max_attempts": 1}, read_timeout=0.3))
        with pytest.raises(ReadTimeoutError):
            client.terminate_instances(InstanceIds=["i-1"])
    assert server.actions == ["TerminateInstances", "TerminateInstances"]


def test_a_change_answered_with_a_5xx_is_not_resent():
    with LoopbackServer([ec2_error("InternalError", 500)]) as server:
        client = session(server.url).client("ec2")
        with pytest.raises(AmbiguousWrite) as info:
            client.terminate_instances(InstanceIds=["i-1"])
    assert server.actions == ["TerminateInstances"] and info.value.original_code == "InternalError"


def test_a_throttled_change_is_resent_because_aws_did_not_act_on_it():
    with LoopbackServer([ec2_error("RequestLimitExceeded", 503)], default=TERMINATED) as server:
        client = session(server.url).client("ec2")
        result = client.terminate_instances(InstanceIds=["i-1"])
    assert server.actions == ["TerminateInstances"] * 2
    assert result["TerminatingInstances"][0]["CurrentState"]["Name"] == "shutting-down"


def test_a_read_that_times_out_is_retried():
    with LoopbackServer([("hang", 1.0)], default=EMPTY) as server:
        aws = session(server.url)
        assert aws.client("ec2").describe_instances()["Reservations"] == []
    assert server.actions == ["DescribeInstances"] * 2
    assert aws.calls["ec2:DescribeInstances"] == 2


def test_a_read_that_keeps_timing_out_stops_after_max_attempts():
    with LoopbackServer([("hang", 1.0)] * 3, default=EMPTY) as server, pytest.raises(ReadTimeoutError) as info:
        session(server.url).client("ec2").describe_instances()
    assert server.actions == ["DescribeInstances"] * 3
    assert translate(info.value, "ec2:DescribeInstances").message.startswith(
        "ec2:DescribeInstances failed: ReadTimeout: Read timeout on endpoint URL")


def test_a_change_that_never_connected_is_retried_then_reported():
    """Connection refused: nothing was sent, so even a change may be tried again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]          # closed once the block ends: nothing listens
    aws = session(f"http://127.0.0.1:{port}")
    with pytest.raises(EndpointConnectionError) as info:
        aws.client("ec2").terminate_instances(InstanceIds=["i-1"])
    assert aws.calls["ec2:TerminateInstances"] == 3
    err = translate(info.value, "ec2:TerminateInstances")
    assert "EndpointUnreachable" in err.message and "AWS_ENDPOINT_URL" in err.hint


def test_a_request_refused_for_clock_skew_is_sent_once_and_says_to_sync_the_clock():
    """EC2 answers RequestExpired when the request's date stamp is too far from AWS's clock
    (Common Errors); a resend would carry the same clock, so drtool does not send one."""
    with LoopbackServer([ec2_error("RequestExpired", 400)], default=EMPTY) as server:
        aws = session(server.url)
        with pytest.raises(Exception) as info:
            aws.client("ec2").describe_instances()
    assert server.actions == ["DescribeInstances"]
    err = translate(info.value, "ec2:DescribeInstances")
    assert err.hint == "the machine's clock is off by more than 5 minutes; sync it (chrony/ntp)"
    assert "RequestExpired" in err.message


def test_an_expired_token_is_still_sent_again():
    with LoopbackServer([ec2_error("ExpiredToken", 400)], default=TERMINATED) as server:
        result = session(server.url).client("ec2").terminate_instances(InstanceIds=["i-1"])
    assert server.actions == ["TerminateInstances"] * 2
    assert result["TerminatingInstances"][0]["InstanceId"] == "i-1"
