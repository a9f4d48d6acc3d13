"""Failure-injection fixtures: fast copies of the bundled drills, their un-faulted call counts,
and the cell runner (worker processes, each re-using one re-provisioned sandbox)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.safety.matrix import Cell, CellResult, prepare_drills
from tests.safety.workers import CellRunner


class Baselines:
    """One un-faulted run per drill (lazily): it must pass, and its call count C sets N = 1..C."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.drills = prepare_drills(workdir / "drills")
        self.runner = CellRunner()
        self.pool = self.runner.local
        self._runs: dict[str, CellResult] = {}

    def __call__(self, drill: str) -> CellResult:
        if drill not in self._runs:
            [self._runs[drill]] = self.run_all([Cell(drill, "throttling", None)])
        return self._runs[drill]

    def run_all(self, cells: list[Cell]) -> list[CellResult]:
        return list(self.runner.run([(c, self.drills[c.drill], self.workdir / "results" / c.drill /
                                      ("baseline" if c.n is None else f"{c.kind}-{c.n}")) for c in cells]))


@pytest.fixture(scope="session")
def baselines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Baselines]:
    holder = Baselines(tmp_path_factory.mktemp("failure-matrix"))
    yield holder
    holder.runner.close()


@pytest.fixture(scope="module", autouse=True)
def _stop_the_local_sandbox(baselines: Baselines) -> Iterator[None]:
    """moto is process-wide: this process's sandbox must not outlive the module's tests."""
    yield
    baselines.pool.close()
