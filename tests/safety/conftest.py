"""Failure-injection fixtures: fast copies of the bundled drills and their un-faulted call counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.safety.matrix import Cell, CellResult, prepare_drills, run_cell


class Baselines:
    """One un-faulted run per drill (lazily): it must pass, and its call count C sets N = 1..C."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.drills = prepare_drills(workdir / "drills")
        self._runs: dict[str, CellResult] = {}

    def __call__(self, drill: str) -> CellResult:
        if drill not in self._runs:
            self._runs[drill] = run_cell(Cell(drill, "throttling", None), self.drills[drill],
                                         self.workdir / "results" / drill / "baseline")
        return self._runs[drill]

    def run(self, cell: Cell) -> CellResult:
        return run_cell(cell, self.drills[cell.drill],
                        self.workdir / "results" / cell.drill / f"{cell.kind}-{cell.n}")


@pytest.fixture(scope="session")
def baselines(tmp_path_factory: pytest.TempPathFactory) -> Baselines:
    return Baselines(tmp_path_factory.mktemp("failure-matrix"))
