"""Signal handling around a drill: obeyed while faults are live, held while undoing.

While the phases run, SIGTERM raises `Interrupted` (Ctrl-C raises KeyboardInterrupt as
usual), so the run ends through the one guaranteed rollback path. While the rollback
and the scorecard are written, SIGINT and SIGTERM are recorded instead of obeyed: an
undo cut in half is the worst outcome a DR tool can produce. The runner reads what was
held and records it (a run interrupted during rollback is never a pass).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


class Interrupted(BaseException):
    """SIGTERM (or Ctrl-C) while the drill's phases run."""


@dataclass
class HeldSignals:
    """Signals that arrived while held, by name, in order."""

    names: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.names)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def raise_on_signals() -> Iterator[None]:
    """SIGTERM raises `Interrupted` (main thread only; elsewhere a no-op)."""
    if not _main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        raise Interrupted(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def held_signals(report: Callable[[str], None]) -> Iterator[HeldSignals]:
    """SIGINT and SIGTERM are recorded, not obeyed, until the block ends."""
    held = HeldSignals()
    if not _main_thread():
        yield held
        return

    def handler(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        held.names.append(name)
        report(f"  ({name} held: rollback and scorecard are being written; they finish first)")

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield held
    finally:
        for s, h in old.items():
            signal.signal(s, h)
