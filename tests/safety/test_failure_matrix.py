"""The failure-injection matrix: every bundled drill, its Nth AWS call failing as AWS fails.

CI runs the full N range x every kind for one drill (instance-termination: a fault with an
undo-free recovery and the fewest calls, so the whole range fits) and a seeded sample of N
per kind for every other bundled drill; `bench/failure_matrix.py` runs everything.
DRTOOL_MATRIX_SAMPLE (values of N per drill and kind, default 1) and DRTOOL_MATRIX_SEED
(default 9) widen or move the sample; DRTOOL_MATRIX_JOBS (default 2) sets the worker
processes. Each failing cell is listed with why it failed. About 100 full-range cells plus
16 sampled ones: under 5 minutes on 2 busy cores.
"""

from __future__ import annotations

import os
import random

import pytest

from tests.safety.faults import KINDS
from tests.safety.matrix import DRILLS, Cell, CellResult

FULL = "instance-termination"
SAMPLED = [d.stem for d in DRILLS if d.stem != FULL]
SAMPLE = int(os.environ.get("DRTOOL_MATRIX_SAMPLE", "1"))
SEED = int(os.environ.get("DRTOOL_MATRIX_SEED", "9"))


def describe(failed: list[CellResult]) -> str:
    lines = []
    for r in failed:
        hit = ", ".join(f"#{i.n} {i.operation}" for i in r.injected[:3]) or "fault never fired"
        lines.append(f"{r.cell} (hit {hit}; exit {r.exit_code}, status {r.status}): " + "; ".join(r.problems))
    return f"{len(failed)} cell(s) failed:\n" + "\n".join(lines)


def run_cells(baselines, cells: list[Cell]) -> list[CellResult]:
    results = baselines.run_all(cells)
    for r in results:
        print(f"{r.cell}: exit {r.exit_code} status {r.status} {r.seconds:.1f}s "
              f"{'ok' if r.ok else 'FAILED: ' + '; '.join(r.problems)}")
    return results


@pytest.mark.parametrize("drill", [d.stem for d in DRILLS])
def test_unfaulted_run_passes_and_restores_the_estate(baselines, drill):
    """The reference every cell is compared against: no fault, exit 0, nothing left changed."""
    base = baselines(drill)
    assert base.ok and base.exit_code == 0 and base.status == "passed", describe([base])
    assert base.injected == [] and len(base.calls) >= 3, base.calls


@pytest.mark.parametrize("kind", KINDS)
def test_full_matrix_one_drill(baselines, kind):
    calls = len(baselines(FULL).calls)
    results = run_cells(baselines, [Cell(FULL, kind, n) for n in range(1, calls + 1)])
    assert all(r.injected for r in results[:1]), "the first call was never faulted: the hook is not installed"
    failed = [r for r in results if not r.ok]
    assert not failed, describe(failed)


@pytest.mark.parametrize("drill", SAMPLED)
def test_sampled_matrix_other_drills(baselines, drill):
    calls = len(baselines(drill).calls)
    rng = random.Random(f"{SEED}:{drill}")
    cells = [Cell(drill, kind, n) for kind in KINDS
             for n in sorted(rng.sample(range(1, calls + 1), min(SAMPLE, calls)))]
    print(f"{drill}: C={calls}, seed {SEED}, cells {[(c.kind, c.n) for c in cells]}")
    results = run_cells(baselines, cells)
    assert any(r.injected for r in results), "no fault ever fired"
    failed = [r for r in results if not r.ok]
    assert not failed, describe(failed)
