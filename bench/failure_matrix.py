"""The whole failure-injection matrix: every bundled drill x every N x every fault kind.

For each drill: one un-faulted run counts its AWS calls C, then N = 1..C runs with the Nth
call failing as Throttling, AccessDenied, a read timeout and ExpiredToken
(tests/safety/faults.py). Each cell is judged as in tests/safety/test_failure_matrix.py:
estate restored or named in rollback.remaining, scorecard written, exit code per spec, no
traceback, transient faults retried. Prints a table and writes bench/results/failure_matrix.md
and .json (the README's reliability section quotes the table).

    python bench/failure_matrix.py                     # everything (about an hour on 2 cores)
    python bench/failure_matrix.py --drills az-loss --kinds throttling --max-n 5
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.safety.faults import KINDS  # noqa: E402
from tests.safety.matrix import Cell, CellResult, prepare_drills, run_cell  # noqa: E402

HEADER = ("| drill | C (calls) | cells | fault fired | restored / total | passed / total | exit codes | wall |\n"
          "|---|---:|---:|---:|---:|---:|---|---:|")


def row(drill: str, calls: int, results: list[CellResult], seconds: float) -> str:
    exits = collections.Counter(str(r.exit_code) for r in results)
    fired = sum(1 for r in results if r.injected)
    restored = sum(1 for r in results if r.restored)
    passed = sum(1 for r in results if r.ok)
    hist = " ".join(f"{code}:{n}" for code, n in sorted(exits.items()))
    return (f"| {drill} | {calls} | {len(results)} | {fired} | {restored} / {len(results)} | "
            f"{passed} / {len(results)} | {hist} | {seconds / 60:.1f} min |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drills", nargs="*", help="drill stems (default: every bundled drill)")
    parser.add_argument("--kinds", nargs="*", choices=KINDS, default=list(KINDS))
    parser.add_argument("--max-n", type=int, default=None, help="cap N (default: the drill's call count)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="failure-matrix-"))
    drills = prepare_drills(work / "drills")
    rows, failures, cells_json = [], [], []
    totals = collections.Counter()
    started = time.monotonic()
    for name in args.drills or sorted(drills):
        t0 = time.monotonic()
        base = run_cell(Cell(name, "throttling", None), drills[name], work / "results" / name / "baseline")
        if not base.ok:
            print(f"{name}: the un-faulted run failed: {base.problems}", file=sys.stderr)
            failures.append(f"{name} baseline: {'; '.join(base.problems)}")
            continue
        calls = len(base.calls) if args.max_n is None else min(args.max_n, len(base.calls))
        results = []
        for kind in args.kinds:
            for n in range(1, calls + 1):
                r = run_cell(Cell(name, kind, n), drills[name], work / "results" / name / f"{kind}-{n}")
                results.append(r)
                print(f"{r.cell}: hit {r.hit}, exit {r.exit_code}, {r.status}, {r.seconds:.1f}s"
                      f"{'' if r.ok else ' FAILED: ' + '; '.join(r.problems)}", flush=True)
                cells_json.append({"drill": name, "kind": kind, "n": n, "hit": r.hit, "exit": r.exit_code,
                                   "status": r.status, "restored": r.restored, "ok": r.ok,
                                   "problems": r.problems, "seconds": round(r.seconds, 2)})
                if not r.ok:
                    failures.append(f"{r.cell} (hit {r.hit}, exit {r.exit_code}): {'; '.join(r.problems)}")
        rows.append(row(name, len(base.calls), results, time.monotonic() - t0))
        totals.update(cells=len(results), restored=sum(r.restored for r in results),
                      passed=sum(r.ok for r in results))
    table = "\n".join([HEADER, *rows])
    summary = (f"{len(rows)} drills x N x {len(args.kinds)} error kinds = {totals['cells']} cells: "
               f"{totals['restored']} / {totals['cells']} restored, {totals['passed']} / {totals['cells']} "
               f"passed every check, {(time.monotonic() - started) / 60:.1f} min")
    print("\n" + table + "\n\n" + summary)
    if failures:
        print("\nFailed cells:\n" + "\n".join(failures))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "failure_matrix.md").write_text(
        table + "\n\n" + summary + "\n" + "".join(f"\n- {f}" for f in failures) + "\n")
    (args.out / "failure_matrix.json").write_text(json.dumps({"summary": summary, "cells": cells_json}, indent=1))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
