"""Run matrix cells in worker processes, each with its own pooled sandbox.

A cell spends about half its time waiting on the drill's polls, and moto keeps its state
in process-wide globals (one sandbox per process), so cells run side by side only in
separate processes. `CellRunner(jobs)` starts `jobs` spawned workers (no fork of a process
that already runs server threads); `jobs=1` runs in this process. DRTOOL_MATRIX_JOBS sets
the default (2: one per core of the CI machine).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.safety.matrix import Cell, CellResult, run_cell
from tests.safety.sandbox_pool import SandboxPool

Task = tuple[Cell, Path, Path]

_WORKER_POOL: SandboxPool | None = None


def default_jobs() -> int:
    return max(1, int(os.environ.get("DRTOOL_MATRIX_JOBS", "2")))


def _run(task: Task) -> CellResult:
    global _WORKER_POOL
    if _WORKER_POOL is None:
        _WORKER_POOL = SandboxPool()
    cell, drill, results = task
    return run_cell(cell, drill, results, _WORKER_POOL)


class CellRunner:
    """`runner.run(tasks)` yields each task's CellResult, in order."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = default_jobs() if jobs is None else max(1, jobs)
        self.local = SandboxPool()      # this process's sandbox (jobs=1, single tasks)
        self._procs: Any = None

    def run(self, tasks: list[Task]) -> Iterator[CellResult]:
        if self.jobs == 1 or len(tasks) == 1 and self._procs is None:
            for cell, drill, results in tasks:
                yield run_cell(cell, drill, results, self.local)
            return
        if self._procs is None:
            import multiprocessing

            self._procs = multiprocessing.get_context("spawn").Pool(self.jobs)
        yield from self._procs.imap(_run, tasks, chunksize=1)

    def close(self) -> None:
        """Stop the workers (their sandboxes end with them) and this process's sandbox."""
        if self._procs is not None:
            self._procs.terminate()
            self._procs.join()
            self._procs = None
        self.local.close()
