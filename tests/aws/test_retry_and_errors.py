"""Safe retries and one-line errors. Throttling and AccessDenied cannot be provoked in moto,
so these use botocore's Stubber behind the same boto3 client interface."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from drtool.aws.errors import translate
from drtool.aws.retry import RetryingClient
from drtool.errors import EXIT_ABORTED, AwsError


@pytest.fixture
def stubbed():
    client = boto3.client("ec2", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield RetryingClient(client, max_attempts=3, base_delay=0.001), stubber


def test_reads_retry_on_throttling_and_transient_errors(stubbed):
    client, stub = stubbed
    stub.add_client_error("describe_instances", service_error_code="Throttling", http_status_code=400)
    stub.add_client_error("describe_instances", service_error_code="InternalError", http_status_code=500)
    stub.add_response("describe_instances", {"Reservations": []})
    assert client.describe_instances() == {"Reservations": []}
    stub.assert_no_pending_responses()


def test_changes_retry_only_on_throttling(stubbed):
    client, stub = stubbed
    stub.add_client_error("stop_instances", service_error_code="RequestLimitExceeded", http_status_code=503)
    stub.add_response("stop_instances", {"StoppingInstances": []}, {"InstanceIds": ["i-1"]})
    assert client.stop_instances(InstanceIds=["i-1"]) == {"StoppingInstances": []}
    stub.assert_no_pending_responses()


def test_changes_never_retry_other_errors(stubbed):
    """An InternalError on a change may have been applied: never repeat it."""
    client, stub = stubbed
    stub.add_client_error("terminate_instances", service_error_code="InternalError", http_status_code=500)
    stub.add_response("terminate_instances", {"TerminatingInstances": []})
    with pytest.raises(Exception, match="InternalError"):
        client.terminate_instances(InstanceIds=["i-1"])
    with pytest.raises(AssertionError):
        stub.assert_no_pending_responses()          # the second response was never used


def test_retries_stop_after_max_attempts(stubbed):
    client, stub = stubbed
    for _ in range(3):
        stub.add_client_error("describe_instances", service_error_code="Throttling", http_status_code=400)
    with pytest.raises(Exception, match="Throttling"):
        client.describe_instances()


def test_access_denied_becomes_one_line_with_a_hint(stubbed):
    client, stub = stubbed
    stub.add_client_error("terminate_instances", service_error_code="UnauthorizedOperation",
                          service_message="You are not authorized", http_status_code=403)
    with pytest.raises(Exception) as info:
        client.terminate_instances(InstanceIds=["i-1"])
    err = translate(info.value, "ec2.terminate-instances", "kill one")
    assert isinstance(err, AwsError) and err.exit_code == EXIT_ABORTED
    assert err.message == ("step kill one: ec2.terminate-instances failed: UnauthorizedOperation: "
                           "You are not authorized")
    assert "drtool permissions" in err.hint and "\n" not in err.message
