"""Fail the Nth AWS call a drill makes, the way AWS fails it.

`FaultInjector.attach(service, client)` is an `AwsSession(on_client=...)` hook: it
registers first on every operation's `before-call` event of each client the drill's
session creates, counts the calls (every attempt, retries included) and, from the Nth
on, answers per `kind`:

- ``throttling``: the Nth attempt gets HTTP 400 `Throttling` (transient; the next attempt
  succeeds). AWS: https://docs.aws.amazon.com/general/latest/gr/api-retries.html
- ``access-denied``: the Nth call's operation is denied from then on, every attempt
  (persistent, as an IAM deny is). AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
- ``read-timeout``: the Nth request reaches AWS (so a change takes effect) but its response
  is lost: botocore raises `ReadTimeoutError` (transient). botocore raises it when no
  response arrives within `read_timeout`:
  https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html
- ``expired-token``: HTTP 400 `ExpiredToken` for the Nth call and the EXPIRED_CALLS - 1
  calls after it, whatever their operation; then the credentials count as refreshed (as
  botocore's refreshable credentials are, e.g. an assumed role's:
  https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html). A burst
  rather than the rest of the run, so the rollback gets a chance once it has passed.

Errors go through botocore's own error path (a `before-call` handler that returns a
response makes botocore skip sending and raise the modeled `ClientError`), so the drill
sees exactly the exception class a real AWS answer would give.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = ("throttling", "access-denied", "read-timeout", "expired-token")
EXPIRED_CALLS = 3
_MARK = "drtool_fault"

_ERRORS = {
    "throttling": ("Throttling", "Rate exceeded"),
    "access-denied": ("AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/drill/drtool "
                                      "is not authorized to perform this action (injected)"),
    "expired-token": ("ExpiredToken", "The security token included in the request is expired (injected)"),
}


READ_PREFIXES = ("Describe", "List", "Get", "Head", "Lookup", "Search", "BatchGet", "Query", "Scan")


def is_read(operation: str) -> bool:
    """`service:Operation` reads nothing but state (safe to retry after a lost response)."""
    return operation.split(":", 1)[-1].startswith(READ_PREFIXES)


class _Http:
    """The little of botocore's AWSResponse that `_make_api_call` reads."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""
        self.text = ""


@dataclass
class Injected:
    """One faulted call: its number, the operation, and what it got."""

    n: int
    operation: str
    kind: str


@dataclass
class FaultInjector:
    """Counts the drill's AWS calls; fails the `at`-th (1-based) as `kind`. `at=None` only counts.
    With `operation` ("elbv2:DescribeTargetHealth"), `at` counts only that operation's calls,
    and with `after` ("ec2:ReplaceNetworkAclAssociation") only those made after that one's first call."""

    kind: str = "throttling"
    at: int | None = None
    operation: str | None = None
    after: str | None = None
    calls: list[str] = field(default_factory=list)
    injected: list[Injected] = field(default_factory=list)
    denied_operation: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {KINDS}")

    @property
    def count(self) -> int:
        return len(self.calls)

    def attach(self, _service: str, client: Any) -> None:
        """`AwsSession(on_client=...)` hook: count and fault every call of `client`."""
        events = client.meta.events
        service_id = client.meta.service_model.service_id.hyphenize()
        for op in client.meta.service_model.operation_names:
            events.register_first(f"before-call.{service_id}.{op}", self._before_call)
            events.register_first(f"after-call.{service_id}.{op}", self._after_call)

    # -- handlers ---------------------------------------------------------------------
    def _before_call(self, model: Any, context: dict[str, Any], **_: Any) -> Any:
        operation = f"{model.service_model.service_name}:{model.name}"
        with self._lock:
            self.calls.append(operation)
            if self.operation is None:
                n, fault = len(self.calls), self._decide(len(self.calls), operation)
            elif operation == self.operation and (self.after is None or self.after in self.calls):
                n = self.calls[self.calls.index(self.after) if self.after else 0:].count(operation)
                fault = self._decide(n, operation)
            else:
                n, fault = len(self.calls), None
            if fault is not None:
                self.injected.append(Injected(n, operation, fault))
        if fault is None:
            return None
        if fault == "read-timeout":
            context[_MARK] = True          # sent for real; the response is lost in after-call
            return None
        code, message = _ERRORS[fault]
        return _Http(400), {"Error": {"Code": code, "Message": message},
                            "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": "injected"}}

    def _after_call(self, context: dict[str, Any], **_: Any) -> None:
        if context.pop(_MARK, False):
            from botocore.exceptions import ReadTimeoutError

            raise ReadTimeoutError(endpoint_url="(injected read timeout)")

    def _decide(self, n: int, operation: str) -> str | None:
        if self.at is None or n < self.at:
            return None
        if self.kind == "access-denied":
            if n == self.at:
                self.denied_operation = operation
            return self.kind if operation == self.denied_operation else None
        if self.kind == "expired-token":
            return self.kind if n < self.at + EXPIRED_CALLS else None
        return self.kind if n == self.at else None
