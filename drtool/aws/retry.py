"""Safe retries with tenacity: exponential backoff with jitter.

Read calls (Describe/List/Get/...) retry on throttling and transient network errors.
Changing calls retry only on throttling, which AWS answers before doing anything, so a
retry cannot apply a change twice.
"""

from __future__ import annotations

from typing import Any

THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "SlowDown", "PriorRequestNotComplete", "BandwidthLimitExceeded", "RequestThrottled",
    "EC2ThrottledException",
})
TRANSIENT_CODES = frozenset({"InternalError", "InternalFailure", "ServiceUnavailable", "RequestTimeout"})
READ_PREFIXES = ("describe_", "list_", "get_", "head_", "lookup_", "search_", "test_", "batch_get_")


def is_read(operation: str) -> bool:
    return operation.startswith(READ_PREFIXES)


def _code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def should_retry(exc: BaseException, read: bool) -> bool:
    from botocore.exceptions import ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError

    code = _code(exc)
    if code in THROTTLING_CODES:
        return True
    if not read:
        return False
    return code in TRANSIENT_CODES or isinstance(exc, ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError)


class RetryingClient:
    """Wraps a boto3 client; operation methods retry where safe, the rest passes through."""

    def __init__(self, client: Any, max_attempts: int = 5, base_delay: float = 0.2) -> None:
        self._client = client
        self._max_attempts = max_attempts
        self._base_delay = base_delay

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or not callable(attr) or name in (
                "get_paginator", "get_waiter", "can_paginate", "close", "generate_presigned_url"):
            return attr
        return self._wrap(name, attr)

    def _wrap(self, name: str, method: Any) -> Any:
        import tenacity

        read = is_read(name)
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self._max_attempts),
            wait=tenacity.wait_random_exponential(multiplier=self._base_delay, max=10),
            retry=tenacity.retry_if_exception(lambda exc: should_retry(exc, read)),
            reraise=True,
        )

        def call(*args: Any, **kwargs: Any) -> Any:
            return retrying(method, *args, **kwargs)

        return call

    @property
    def raw(self) -> Any:
        return self._client
