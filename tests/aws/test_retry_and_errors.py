"""Safe retries and one-line errors. Throttling and AccessDenied cannot be provoked in moto,
so these use botocore's Stubber behind the same boto3 client interface."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
    WaiterError,
)
from botocore.stub import Stubber

from drtool.aws.errors import AmbiguousWrite, error_code, translate
from drtool.aws.retry import RetryingClient, is_read
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


@pytest.mark.parametrize("code", ["ExpiredToken", "ExpiredTokenException"])
def test_changes_retry_when_rejected_before_authentication(stubbed, code):
    """AWS rejects an expired token before acting: resending the change is safe, and succeeds
    once refreshable credentials have renewed (e.g. during a long rollback)."""
    client, stub = stubbed
    stub.add_client_error("stop_instances", service_error_code=code, http_status_code=400)
    stub.add_response("stop_instances", {"StoppingInstances": []}, {"InstanceIds": ["i-1"]})
    assert client.stop_instances(InstanceIds=["i-1"]) == {"StoppingInstances": []}
    stub.assert_no_pending_responses()


SKEWED = [("RequestExpired", 400, "Request has expired."),
          ("RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large."),
          ("SignatureDoesNotMatch", 403, "Signature expired: 20260101T000000Z is now earlier than 20260101T001000Z "
                                         "(20260101T001500Z - 5 min.)"),
          ("InvalidSignatureException", 400, "Signature not yet current: 20260101T003000Z is still later than "
                                             "20260101T002000Z (20260101T001500Z + 5 min.)")]


@pytest.mark.parametrize(("code", "status", "message"), SKEWED)
@pytest.mark.parametrize("operation", ["describe_instances", "stop_instances"])
def test_clock_skew_fails_fast_with_a_hint(stubbed, code, status, message, operation):
    """A request signed by a clock too far from AWS's is refused, and a resend is signed by the
    same clock: neither a read nor a change is sent again, and the error says to sync the clock."""
    client, stub = stubbed
    stub.add_client_error(operation, service_error_code=code, service_message=message, http_status_code=status)
    stub.add_response(operation, {})
    with pytest.raises(Exception) as info:
        getattr(client, operation)(**({"InstanceIds": ["i-1"]} if operation == "stop_instances" else {}))
    assert error_code(info.value) == code and not isinstance(info.value, AmbiguousWrite)
    with pytest.raises(AssertionError):
        stub.assert_no_pending_responses()          # the second answer was never asked for
    err = translate(info.value, "ec2:DescribeInstances")
    assert err.hint == "the machine's clock is off by more than 5 minutes; sync it (chrony/ntp)"


def test_a_signature_mismatch_that_is_not_about_time_gets_no_clock_hint(stubbed):
    client, stub = stubbed
    stub.add_client_error("describe_instances", service_error_code="SignatureDoesNotMatch", http_status_code=403,
                          service_message="The request signature we calculated does not match the signature you "
                                          "provided. Check your AWS Secret Access Key and signing method.")
    with pytest.raises(Exception) as info:
        client.describe_instances()
    assert "clock" not in (translate(info.value, "ec2:DescribeInstances").hint or "")


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


def _translated(exc: BaseException) -> AwsError:
    err = translate(exc, "ec2:DescribeInstances", "look")
    assert isinstance(err, AwsError) and err.exit_code == EXIT_ABORTED and "\n" not in err.message
    return err


@pytest.mark.parametrize(("exc", "code"), [
    (ReadTimeoutError(endpoint_url="https://ec2"), "ReadTimeout"),
    (ConnectTimeoutError(endpoint_url="https://ec2"), "ConnectTimeout"),
    (EndpointConnectionError(endpoint_url="https://ec2"), "EndpointUnreachable"),
    (ConnectionClosedError(endpoint_url="https://ec2"), "ConnectionClosed"),
    (NoCredentialsError(), "NoCredentials"),
    (ParamValidationError(report="Missing required parameter\nin input: \"InstanceIds\""), "ParamValidation"),
    (WaiterError(name="InstanceRunning", reason="Max attempts exceeded", last_response={}), "WaiterError"),
    (WaiterError(name="InstanceRunning", reason="x", last_response={"Error": {"Code": "Throttling"}}),
     "Throttling"),
])
def test_every_exception_becomes_one_aws_error_line(exc, code):
    err = _translated(exc)
    assert err.code == code and err.message.startswith(f"step look: ec2:DescribeInstances failed: {code}: ")


def test_a_bug_is_an_internal_error_not_a_traceback():
    err = _translated(KeyError("Reservations"))
    assert err.code == "KeyError" and "--debug" in err.hint
    assert err.message == "step look: internal error: KeyError: 'Reservations'"


def test_an_error_raised_on_purpose_keeps_its_words():
    err = _translated(RuntimeError("ACL still associated\nwith subnet-1"))
    assert err.code == "RuntimeError" and err.hint is None
    assert err.message == "step look: RuntimeError: ACL still associated with subnet-1"


def test_an_ambiguous_write_keeps_its_original_and_gains_the_step():
    lost = AmbiguousWrite("ec2:TerminateInstances", ReadTimeoutError(endpoint_url="https://ec2"))
    err = translate(lost, "ec2.terminate-instances", "kill one")
    assert isinstance(err, AmbiguousWrite) and err.original is lost.original and err.code == "OutcomeUnknown"
    assert err.message == ('step kill one: ec2:TerminateInstances outcome unknown (ReadTimeoutError: Read '
                           'timeout on endpoint URL: "https://ec2"); read the resource to see whether it applied')


def test_error_code_reads_client_and_waiter_errors(stubbed):
    client, stub = stubbed
    stub.add_client_error("describe_instances", service_error_code="InvalidInstanceID.NotFound")
    with pytest.raises(Exception) as info:
        client.describe_instances(InstanceIds=["i-1"])
    assert error_code(info.value) == "InvalidInstanceID.NotFound"
    assert error_code(WaiterError(name="w", reason="r", last_response={"Error": {"Code": "X"}})) == "X"
    assert error_code(ValueError("x")) is None


@pytest.mark.parametrize(("operation", "read"), [
    ("describe_instances", True), ("list_objects_v2", True), ("get_item", True), ("query", True),
    ("scan", True), ("batch_get_item", True), ("terminate_instances", False), ("put_item", False),
    ("update_auto_scaling_group", False), ("assume_role", False), ("batch_write_item", False),
])
def test_reads_are_told_from_changes_by_name(operation, read):
    assert is_read(operation) is read
