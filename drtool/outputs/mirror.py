"""The journal mirror: a copy of a running journal in the results store.

A runner that dies with its disk (a CI runner, a laptop) still leaves its journal where
`drtool rollback --expired` looks for it: `<store>/.live/<drill>/<run_id>/journal.jsonl`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

MIRROR_EVERY_S = 5.0
LIVE_DIR = ".live"
_URGENT = ('"event": "run.started"', '"event": "change.intent"', '"event": "change.done"',
           '"event": "undo.done"', '"event": "undo.failed"', '"event": "run.finished"')


class JournalMirror:
    """`mirror(line)` for `Journal(path, clock, mirror=...)`.

    S3 has no append, so the whole journal is re-put. Trade-off: one PutObject per change
    and undo event (the ones `rollback --expired` needs), at most one per `every_s` for
    everything else, so the copy may lag routine events by up to `every_s` but never a
    change; `flush()` at the end writes the final state. A failed upload is kept in
    `problems` and never stops the drill (the local journal is the truth).
    Without a `put` (a local results folder) it does nothing.
    """

    def __init__(self, put: Callable[[bytes], None] | None, every_s: float = MIRROR_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._put = put
        self._every = every_s
        self._clock = clock
        self._lines: list[str] = []
        self._last = float("-inf")
        self._dirty = False
        self.problems: list[str] = []

    def __call__(self, line: str) -> None:
        if self._put is None:
            return
        self._lines.append(line)
        self._dirty = True
        if any(marker in line for marker in _URGENT) or self._clock() - self._last >= self._every:
            self.flush()

    def flush(self) -> None:
        if self._put is None or not self._dirty:
            return
        try:
            self._put(("\n".join(self._lines) + "\n").encode("utf-8"))
            self._dirty = False
        except Exception as exc:  # noqa: BLE001 - the mirror is a copy; a failure is reported, not fatal
            self.problems.append(f"journal mirror: {getattr(exc, 'message', exc)}")
        self._last = self._clock()
