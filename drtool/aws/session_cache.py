"""Values kept per AWS session while it lives: lookups that hold for a run (an account's
AZ ID map, a target group's ARN) are asked once per session, not once per poll."""

from __future__ import annotations

import threading
import weakref
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class SessionCache(Generic[K, V]):
    """`cache.of(aws)`: the dict kept for session `aws`, dropped with the session (weakly
    keyed). A session that cannot be weakly referenced gets a fresh dict: no caching."""

    def __init__(self) -> None:
        self._by_session: weakref.WeakKeyDictionary[Any, dict[K, V]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def of(self, aws: Any) -> dict[K, V]:
        with self._lock:
            try:
                return self._by_session.setdefault(aws, {})
            except TypeError:
                return {}
