"""Turn botocore exceptions into one-line `AwsError`s naming the operation and code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drtool.errors import AwsError, DrToolError

T = TypeVar("T")

_HINTS = {
    "AccessDenied": "grant the IAM actions `drtool permissions DRILL` lists",
    "AccessDeniedException": "grant the IAM actions `drtool permissions DRILL` lists",
    "UnauthorizedOperation": "grant the IAM actions `drtool permissions DRILL` lists",
    "ExpiredToken": "refresh your credentials (aws sso login, or a new session)",
    "ExpiredTokenException": "refresh your credentials (aws sso login, or a new session)",
    "InvalidClientTokenId": "check the credentials and the account you are pointing at",
}


def translate(exc: BaseException, operation: str, step: str | None = None) -> DrToolError:
    """Map any botocore/boto3 exception to a DrToolError with a hint."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ParamValidationError,
        ProfileNotFound,
    )

    if isinstance(exc, DrToolError):
        return exc
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code", "Unknown")
        return AwsError(operation, code, err.get("Message", str(exc)), step, _HINTS.get(code))
    if isinstance(exc, NoCredentialsError):
        return AwsError(operation, "NoCredentials", "no AWS credentials found", step,
                        "set AWS_PROFILE or pass --profile, or run `drtool demo` to try the offline sandbox")
    if isinstance(exc, ProfileNotFound):
        return AwsError(operation, "ProfileNotFound", str(exc), step, "check --profile / AWS_PROFILE")
    if isinstance(exc, NoRegionError):
        return AwsError(operation, "NoRegion", "no AWS region configured", step, "pass --region or set AWS_REGION")
    if isinstance(exc, EndpointConnectionError):
        return AwsError(operation, "EndpointUnreachable", str(exc), step,
                        "check network access and AWS_ENDPOINT_URL")
    if isinstance(exc, ParamValidationError):
        return AwsError(operation, "ParamValidation", str(exc).replace("\n", " "), step)
    from botocore.exceptions import BotoCoreError

    if isinstance(exc, BotoCoreError):
        return AwsError(operation, type(exc).__name__, str(exc), step)
    raise exc


def call_aws(method: Callable[..., T], operation: str, *args: Any, step: str | None = None, **kwargs: Any) -> T:
    """Call `method` and translate any AWS error (for use outside the runner's step loop)."""
    try:
        return method(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - translate() re-raises what it does not know
        raise translate(exc, operation, step) from exc


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a ClientError, else None."""
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None
