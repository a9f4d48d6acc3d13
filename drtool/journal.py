"""The run journal: `journal.jsonl`, one JSON event per line, flushed and fsynced.

The journal is the truth: the scorecard and `drtool rollback` are folded from it. A
change is journaled as `change.intent` (with its undo) *before* the AWS call and as
`change.done` / `change.failed` after. Readers tolerate a torn last line (SIGKILL).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drtool.timing import Clock, rfc3339

JOURNAL_NAME = "journal.jsonl"


class Journal:
    """Append-only event writer. Thread-safe (the canary writer journals too)."""

    def __init__(self, path: Path, clock: Clock,
                 mirror: Callable[[str], None] | None = None) -> None:
        """`mirror(line)` sees every line once it is on disk (e.g. a copy in the results
        store, so a runner that dies with its disk still leaves its journal behind)."""
        self.path = Path(path)
        self._mirror = mirror
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.Lock()
        existing = read_journal(self.path) if self.path.exists() else []
        self._seq = max((e.get("seq", 0) for e in existing), default=0)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
        if self.path.stat().st_size and not self.path.read_bytes().endswith(b"\n"):
            self._file.write("\n")  # a torn last line (crash) must not swallow the next event

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            t = fields.pop("t", None)
            t = self._clock.now() if t is None else t
            record = {"seq": self._seq, "event": event, "t": t, "at": rfc3339(t), **fields}
            line = json.dumps(record, sort_keys=True, default=str)
            self._file.write(line + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
            if self._mirror is not None:
                self._mirror(line)
            return record

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


def read_journal(path: Path) -> list[dict[str, Any]]:
    """All complete events; a torn final line (crash mid-write) is skipped."""
    events: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events
