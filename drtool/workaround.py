"""The workaround track: keep the business going while the runbook restores the service.

Business continuity is a race: one person fixes, another finds a workaround, and the
first one done wins. A scenario's `workaround:` steps run on their own thread from the
fault on, beside `recover`, timed separately: when the last one completes the journal
gets a `workaround` event (`objectives.rto.workaround_at`: business continues, degraded),
next to `recovered` (fully recovered). Once the service has recovered a workaround still
waiting is no longer needed: it is stopped and its open step recorded as skipped. A
workaround step that fails aborts the drill like any other step (the main thread sees it
at its next tick), and every change it made is undone with the rest.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from drtool.run_types import DrillStop, error_text

if TYPE_CHECKING:
    from drtool.documents import Step
    from drtool.drill_run import DrillRun


class Superseded(Exception):
    """Raised inside the workaround thread once recovery made the workaround moot."""


class WorkaroundTrack:
    def __init__(self, run: DrillRun) -> None:
        self.run = run
        self.steps: list[Step] = list(run.drill.steps.get("workaround", []))
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.done_at: float | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.steps:
            self._thread = threading.Thread(target=self._run, name="drtool-workaround", daemon=True)
            self._thread.start()

    def tick(self) -> None:
        """The workaround thread's poll hook: the drill's own checks, then 'still needed?'."""
        self.run.tick()
        if self.stop.is_set():
            raise Superseded()

    def _run(self) -> None:
        run = self.run
        try:
            for step in self.steps:
                if self.stop.is_set():
                    raise Superseded()
                run.run_step(step, on_tick=self.tick)
            self.done_at = run.clock.now()
            run.journal.write("workaround", t=self.done_at, steps=len(self.steps))
            run.opts.report("  workaround in place: the business continues, degraded")
        except Superseded:
            for step in self.steps:
                if (step.phase, step.label, step.index) in run.open_steps():
                    run.finish_step(step, "skipped", "not needed: the service recovered first")
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which ends the drill
            self.error = exc

    def raise_if_failed(self) -> None:
        """Called from the main thread's ticks: a failed workaround step ends the drill."""
        if self.error is not None:
            error, self.error = self.error, None
            if isinstance(error, DrillStop):
                raise error
            raise DrillStop("aborted", f"workaround: {error_text(error)}") from error

    def finish(self, timeout: float = 60.0) -> None:
        """Stop a workaround still running and wait for its thread (before measuring and undoing)."""
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
