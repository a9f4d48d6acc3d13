"""Safe retries with tenacity: exponential backoff with full jitter.

botocore's own retries are off (`total_max_attempts: 1`, see `drtool.aws.session`), so
this module alone decides what is sent again (AWS: "Error retries and exponential backoff
in AWS"):

- Reads (Describe/List/Get/...), each page of a paginator and each poll of a waiter retry
  on throttling, 5xx and network errors.
- Changing calls retry on throttling (AWS rejects a throttled request before acting on
  it) and on connection failures before the request went out (connect timeout, endpoint
  unreachable). A read timeout, a connection closed after sending or a 5xx leaves the
  outcome unknown: the call is not resent but raises `AmbiguousWrite`, and the caller
  reads the resource back (`write_then_confirm`).
- EC2 changing calls also retry `*.NotFound` for a bounded time: right after a create,
  EC2 may not know the new resource yet, and a NotFound answer means nothing was applied
  (AWS EC2 API reference, "Eventual consistency in the Amazon EC2 API": "use an
  exponential backoff retry strategy").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from drtool.aws.errors import AmbiguousWrite, error_code, is_clock_skew

T = TypeVar("T")

# botocore's standard-mode throttling codes (botocore/retries/standard.py); AWS rejects
# these requests without acting on them, so resending even a change is safe.
THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "SlowDown", "PriorRequestNotComplete", "BandwidthLimitExceeded", "RequestThrottled",
    "EC2ThrottledException", "TransactionInProgressException", "LimitExceededException",
})
# Rejected at authentication, before the service acts: the request was never applied, so a
# change may be resent too. A retry helps once the credentials have renewed themselves
# (botocore's RefreshableCredentials for assumed roles and instance profiles), which is
# what lets a rollback outlive an STS session that expired mid-run. AWS: "Common Errors"
# (ExpiredTokenException), https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html.
# Not RequestExpired: that is the request's time stamp (clock skew, `is_clock_skew`), which a
# resend signs the same way, so it fails fast with a hint instead.
UNAUTHENTICATED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException"})
TRANSIENT_CODES = frozenset({"InternalError", "InternalFailure", "InternalServerError", "ServiceUnavailable",
                             "RequestTimeout", "RequestTimeoutException"})
READ_PREFIXES = ("describe_", "list_", "get_", "head_", "lookup_", "search_", "test_", "batch_get_",
                 "filter_", "select_")
READ_NAMES = frozenset({"query", "scan"})
NOT_FOUND_BUDGET_S = 10.0


def is_read(operation: str) -> bool:
    return operation.startswith(READ_PREFIXES) or operation in READ_NAMES


def _network(exc: BaseException) -> tuple[bool, bool]:
    """(unsent, ambiguous): a connection failure before sending, or a lost answer after."""
    from botocore.exceptions import (
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    unsent = isinstance(exc, ConnectTimeoutError | EndpointConnectionError)
    return unsent, isinstance(exc, ReadTimeoutError | ConnectionClosedError)


def _server_error(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) if isinstance(response, dict) else 0
    return error_code(exc) in TRANSIENT_CODES or (isinstance(status, int) and status >= 500)


def is_ambiguous(exc: BaseException) -> bool:
    """Did a sent call fail without saying whether it was applied?"""
    if error_code(exc) in THROTTLING_CODES | UNAUTHENTICATED_CODES:
        return False
    return _network(exc)[1] or _server_error(exc)


def should_retry(exc: BaseException, read: bool) -> bool:
    if is_clock_skew(exc):
        return False
    code = error_code(exc)
    unsent, _ = _network(exc)
    if code in THROTTLING_CODES or code in UNAUTHENTICATED_CODES or unsent:
        return True
    return read and is_ambiguous(exc)


def _ec2_not_found(service: str, operation: str, exc: BaseException) -> bool:
    code = error_code(exc) or ""
    return service == "ec2" and not is_read(operation) and code.endswith(".NotFound")


class RetryPolicy:
    """How often and how long: `max_attempts` in all, full-jitter exponential waits
    (`base_delay` × 2^n, at most `max_delay`), `sleep` injectable for tests."""

    def __init__(self, max_attempts: int = 5, base_delay: float = 0.5, max_delay: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep,
                 not_found_budget: float = NOT_FOUND_BUDGET_S) -> None:
        self.max_attempts = max(1, max_attempts)
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.not_found_budget = not_found_budget

    def call(self, method: Callable[..., T], service: str, operation: str, *args: Any,
             label: str | None = None, **kwargs: Any) -> T:
        """Call `method` (boto3 name `operation`), retrying where safe; an ambiguous
        write raises AmbiguousWrite naming `service:label` (label: the API name)."""
        import tenacity

        read = is_read(operation)

        def retry(exc: BaseException) -> bool:
            return should_retry(exc, read) or _ec2_not_found(service, operation, exc)

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number >= self.max_attempts:
                return True
            exc = state.outcome.exception() if state.outcome else None
            return exc is not None and _ec2_not_found(service, operation, exc) and \
                state.idle_for >= self.not_found_budget

        retrying = tenacity.Retrying(
            stop=stop, sleep=self.sleep, reraise=True,
            wait=tenacity.wait_random_exponential(multiplier=self.base_delay, max=self.max_delay),
            retry=tenacity.retry_if_exception(retry))
        try:
            return retrying(method, *args, **kwargs)
        except Exception as exc:
            if not read and is_ambiguous(exc):
                raise AmbiguousWrite(f"{service}:{label or operation}", exc) from exc
            raise


class RetryingPaginator:
    """A botocore paginator whose every page fetch retries on its own: a failed page is
    fetched again with the same token, the pages already read are not read again."""

    def __init__(self, paginator: Any, policy: RetryPolicy, service: str, operation: str) -> None:
        method = paginator._method  # the bound client method every page request goes through
        paginator._method = lambda **kw: policy.call(method, service, operation, **kw)
        self._paginator = paginator

    def paginate(self, **kwargs: Any) -> Any:
        return self._paginator.paginate(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._paginator, name)


class RetryingWaiter:
    """A botocore waiter whose every poll retries transient errors; its own polling
    (delay, max attempts, acceptors) is unchanged."""

    def __init__(self, waiter: Any, policy: RetryPolicy, service: str, client: Any) -> None:
        from botocore import xform_name
        from botocore.waiter import NormalizedOperationMethod

        operation = xform_name(waiter.config.operation)
        method = getattr(client, operation)
        # Waiters turn ClientErrors into responses for their acceptors: retry first.
        waiter._operation_method = NormalizedOperationMethod(
            lambda **kw: policy.call(method, service, operation, **kw))
        self._waiter = waiter

    def wait(self, **kwargs: Any) -> None:
        self._waiter.wait(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._waiter, name)


class RetryingClient:
    """Wraps a boto3 client: operations, paginators and waiters retry where safe."""

    def __init__(self, client: Any, max_attempts: int = 5, base_delay: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep, policy: RetryPolicy | None = None) -> None:
        self._client = client
        self._policy = policy or RetryPolicy(max_attempts, base_delay, sleep=sleep)
        self._service = client.meta.service_model.service_name

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or not callable(attr) or name in (
                "can_paginate", "close", "generate_presigned_url", "generate_presigned_post"):
            return attr
        if name == "get_paginator":
            return self.get_paginator
        if name == "get_waiter":
            return self.get_waiter
        return self._wrap(name, attr)

    def _wrap(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        label = self._client.meta.method_to_api_mapping.get(name, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._policy.call(method, self._service, name, *args, label=label, **kwargs)

        return call

    def get_paginator(self, operation: str) -> RetryingPaginator:
        return RetryingPaginator(self._client.get_paginator(operation), self._policy, self._service, operation)

    def get_waiter(self, name: str) -> RetryingWaiter:
        return RetryingWaiter(self._client.get_waiter(name), self._policy, self._service, self._client)

    @property
    def raw(self) -> Any:
        return self._client


def write_then_confirm(call: Callable[[], T], confirm: Callable[[], bool]) -> T | None:
    """Send a change once; if its outcome is unknown (`AmbiguousWrite`), ask `confirm()`
    whether the change is in place. `confirm` reads through a drtool client, so its reads
    retry like any read.

    Returns the call's result, or None when the answer was lost but `confirm()` shows the
    change applied. When it shows nothing applied, the AmbiguousWrite is raised again: a
    read right after a change can lag it (eventual consistency), so whether to send it
    again stays the caller's decision. Anything else `call` raises passes through.
    """
    try:
        return call()
    except AmbiguousWrite:
        if confirm():
            return None
        raise
