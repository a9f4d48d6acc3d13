"""Clocks and polling. Everything that measures time takes a Clock, so tests are exact.

`Clock.now()` is wall time (epoch seconds) used for timestamps; `monotonic()` is used
for intervals; `sleep()` waits. `FakeClock` advances only when slept or told to.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...
    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock. `now()` is derived from one wall anchor plus monotonic time, so
    timestamps and intervals agree even if the wall clock steps during a drill."""

    def __init__(self) -> None:
        self._wall0 = time.time()
        self._mono0 = time.monotonic()

    def now(self) -> float:
        return self._wall0 + (time.monotonic() - self._mono0)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock for tests: time moves only by `sleep()` or `advance()`. Thread-safe."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._t = start
        self._lock = threading.Lock()
        self.on_sleep: list[Callable[[float], None]] = []

    def now(self) -> float:
        with self._lock:
            return self._t

    def monotonic(self) -> float:
        return self.now()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._t += seconds
        for hook in list(self.on_sleep):
            hook(self._t)

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))


def rfc3339(epoch: float | None) -> str | None:
    """RFC 3339 UTC with milliseconds, as every scorecard timestamp is written."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{int(round(epoch * 1000)) % 1000:03d}Z"


def to_epoch(value: datetime | float | int | None) -> float | None:
    """Epoch seconds from a boto3 timestamp (aware datetime), a naive UTC datetime (moto's
    internals) or a number; None stays None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value)


def to_datetime(epoch: float | None) -> datetime | None:
    """An aware UTC datetime (what boto3 takes for timestamps); None stays None."""
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


def parse_rfc3339(text: str | None) -> float | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class PollTimeout(Exception):
    """`wait_until` gave up; `last` is the last value the predicate returned."""

    def __init__(self, last: object) -> None:
        super().__init__("timed out")
        self.last = last

    def describe(self, timeout: float) -> str:
        """What a probe polled until `timeout` says: the last answer's detail."""
        return f"not true after {timeout:g}s: {getattr(self.last, 'detail', 'never true')}"


def wait_until(predicate: Callable[[], tuple[bool, object]], *, clock: Clock, interval: float,
               timeout: float | None, on_tick: Callable[[], None] | None = None) -> tuple[float, object]:
    """Call `predicate` every `interval` until it returns (True, value) or `timeout` passes.

    Returns (instant it first returned True as clock.now(), value). The instant is taken
    right after the successful call returns, so polling granularity is the only error.
    `on_tick` runs before each poll (stop conditions, time limit) and may raise.
    """
    deadline = None if timeout is None else clock.monotonic() + timeout
    while True:
        if on_tick is not None:
            on_tick()
        started = clock.monotonic()
        ok, value = predicate()
        if ok:
            return clock.now(), value
        if deadline is not None and clock.monotonic() >= deadline:
            raise PollTimeout(value)
        elapsed = clock.monotonic() - started
        pause = max(0.0, interval - elapsed)
        if deadline is not None:
            pause = min(pause, max(0.0, deadline - clock.monotonic()))
        clock.sleep(pause)
