"""The one AWS error boundary: any exception becomes a one-line `AwsError` naming the
operation and a code, and `error_code()` is the one place that reads an AWS error code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drtool.errors import AwsError, DrToolError

T = TypeVar("T")

_PERMISSIONS = "grant the IAM actions `drtool permissions DRILL` lists"
_EXPIRED = "refresh your credentials (aws sso login, or a new session)"
_HINTS = {
    "AccessDenied": _PERMISSIONS,
    "AccessDeniedException": _PERMISSIONS,
    "UnauthorizedOperation": _PERMISSIONS,
    "ExpiredToken": _EXPIRED,
    "ExpiredTokenException": _EXPIRED,
    "InvalidClientTokenId": "check the credentials and the account you are pointing at",
}
_CONFIRM = "read the resource to see whether it applied"
# A request signed with a time stamp too far from AWS's clock. SigV4 signs the time (X-Amz-Date)
# and AWS answers "Signature expired: T is now earlier than ... (NOW - 5 min.)" or "Signature not
# yet current: T is still later than ... (NOW + 5 min.)" as SignatureDoesNotMatch (query/REST
# services) or InvalidSignatureException (JSON services); SignatureDoesNotMatch otherwise means a
# wrong key (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html).
# Query APIs answer RequestExpired ("more than 15 minutes after the date stamp ... or the date
# stamp on the request is more than 15 minutes in the future", Common Errors, e.g.
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html); S3 answers
# RequestTimeTooSkewed (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
# A resend is signed with the same clock, so these fail fast with a hint instead of retrying.
CLOCK_SKEW_HINT = "the machine's clock is off by more than 5 minutes; sync it (chrony/ntp)"
_SKEW_CODES = frozenset({"RequestExpired", "RequestTimeTooSkewed"})
_SIGNATURE_CODES = frozenset({"SignatureDoesNotMatch", "InvalidSignatureException"})


class AmbiguousWrite(AwsError):
    """A changing call was sent but its answer never came (read timeout, connection
    closed, 5xx): AWS may or may not have applied it. It is never resent blindly; read
    the resource back to decide (`drtool.aws.retry.write_then_confirm`)."""

    def __init__(self, operation: str, original: BaseException, step: str | None = None) -> None:
        self.original = original
        self.original_code = error_code(original) or type(original).__name__
        detail = f"{self.original_code}: {_one_line(original)}"
        super().__init__(operation, "OutcomeUnknown", detail, step, _CONFIRM)
        where = f"step {step}: " if step else ""
        self.message = f"{where}{operation} outcome unknown ({detail}); {_CONFIRM}"
        self.args = (self.message,)


# Exceptions that mean a drtool bug rather than a reason raised on purpose (e.g. an undo's
# RuntimeError explaining why it refuses).
_BUGS = (LookupError, TypeError, AttributeError, NameError, AssertionError, ArithmeticError)


class UnexpectedError(AwsError):
    """Not an AWS or botocore error: named by type and message ("internal error" for a bug)."""

    def __init__(self, operation: str, original: BaseException, step: str | None = None) -> None:
        self.original = original
        bug = isinstance(original, _BUGS)
        super().__init__(operation, type(original).__name__, _one_line(original), step,
                         "rerun with --debug and report it" if bug else None)
        where = f"step {step}: " if step else ""
        self.message = f"{where}{'internal error: ' if bug else ''}{type(original).__name__}: {_one_line(original)}"
        self.args = (self.message,)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a ClientError (or of a WaiterError's last response), else None."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        response = getattr(exc, "last_response", None)
    if not isinstance(response, dict):
        return None
    error = response.get("Error")
    return error.get("Code") if isinstance(error, dict) else None


def is_clock_skew(exc: BaseException) -> bool:
    """Was the request refused because its signing time is too far from AWS's clock?"""
    code = error_code(exc)
    if code in _SKEW_CODES:
        return True
    if code not in _SIGNATURE_CODES:
        return False
    response = getattr(exc, "response", None) or getattr(exc, "last_response", None) or {}
    error = response.get("Error") if isinstance(response, dict) else None
    message = str((error or {}).get("Message") or exc).lower()
    return "signature expired" in message or "signature not yet current" in message


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def translate(exc: BaseException, operation: str, step: str | None = None) -> DrToolError:
    """Map any exception from an AWS call to a DrToolError with a hint; never raises."""
    from botocore import exceptions as bx

    if isinstance(exc, AmbiguousWrite):
        return exc if exc.step or not step else AmbiguousWrite(exc.operation, exc.original, step)
    if isinstance(exc, DrToolError):
        return exc
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code") or "Unknown"
        return AwsError(operation, code, _one_line(Exception(err.get("Message") or str(exc))), step,
                        CLOCK_SKEW_HINT if is_clock_skew(exc) else _HINTS.get(code))
    if isinstance(exc, bx.WaiterError):
        code = error_code(exc) or "WaiterError"
        return AwsError(operation, code, _one_line(exc), step, _HINTS.get(code))
    known: list[tuple[type[BaseException], str, str | None]] = [
        (bx.NoCredentialsError, "NoCredentials",
         "set AWS_PROFILE or pass --profile, or run `drtool demo` to try the offline sandbox"),
        (bx.PartialCredentialsError, "PartialCredentials", "check the credentials you configured"),
        (bx.CredentialRetrievalError, "CredentialRetrieval", "check the credential source (role, SSO, process)"),
        (bx.ProfileNotFound, "ProfileNotFound", "check --profile / AWS_PROFILE"),
        (bx.NoRegionError, "NoRegion", "pass --region or set AWS_REGION"),
        (bx.ConnectTimeoutError, "ConnectTimeout", "check network access and AWS_ENDPOINT_URL"),
        (bx.ReadTimeoutError, "ReadTimeout", "AWS did not answer in time; retry later"),
        (bx.EndpointConnectionError, "EndpointUnreachable", "check network access and AWS_ENDPOINT_URL"),
        (bx.ConnectionClosedError, "ConnectionClosed", "check network access and AWS_ENDPOINT_URL"),
        (bx.ParamValidationError, "ParamValidation", None),
    ]
    for kind, code, hint in known:
        if isinstance(exc, kind):
            message = "no AWS credentials found" if code == "NoCredentials" else _one_line(exc)
            return AwsError(operation, code, message, step, hint)
    if isinstance(exc, bx.BotoCoreError):
        return AwsError(operation, type(exc).__name__, _one_line(exc), step)
    return UnexpectedError(operation, exc, step)


def call_aws(method: Callable[..., T], operation: str, *args: Any, step: str | None = None, **kwargs: Any) -> T:
    """Call `method` and translate any AWS error (for use outside the runner's step loop)."""
    try:
        return method(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - translate() maps every exception
        raise translate(exc, operation, step) from exc
