"""Shared pieces of the restore drills (drtool.backups.restore_*)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drtool.aws.errors import error_code
from drtool.context import StepContext
from drtool.errors import DrToolError
from drtool.registry import Params
from drtool.timing import PollTimeout, to_epoch, wait_until

RESTORED_FROM_TAG = "drtool:restored-from"
POLL_S = 15.0
BUSY_WAIT_S = 3600.0


def step_region(ctx: StepContext, params: Params) -> str:
    return params.region or ctx.region


def run_tags(ctx: StepContext, **extra: str) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in {**ctx.run_tags, **extra}.items()]


def is_missing(exc: BaseException, *codes: str) -> bool:
    return error_code(exc) in codes


def retry_busy(ctx: StepContext, call: Callable[[], Any], busy: tuple[str, ...], what: str,
               timeout: float = BUSY_WAIT_S) -> Any:
    """Call until it stops failing with a `busy` code (e.g. a resource still creating)."""
    def attempt() -> tuple[bool, Any]:
        try:
            return True, call()
        except Exception as exc:  # noqa: BLE001 - only the busy codes are retried
            if error_code(exc) in busy:
                return False, exc
            raise

    try:
        return wait_until(attempt, clock=ctx.clock, interval=POLL_S, timeout=timeout)[1]
    except PollTimeout as exc:
        raise DrToolError(f"{what}: still busy after {timeout:.0f}s ({exc.last})") from None


def newest(items: list[dict[str, Any]], time_field: str) -> dict[str, Any] | None:
    return max(items, key=lambda i: to_epoch(i.get(time_field)) or 0.0, default=None)
