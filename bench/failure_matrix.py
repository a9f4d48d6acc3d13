"""The whole failure-injection matrix: every bundled drill x every N x every fault kind.

For each drill: one un-faulted run counts its AWS calls C, then N = 1..C runs with the Nth
call failing as Throttling, AccessDenied, a read timeout and ExpiredToken
(tests/safety/faults.py). Each cell is judged as in tests/safety/test_failure_matrix.py:
estate restored or named in rollback.remaining, scorecard written, exit code per spec, no
traceback, transient faults retried. Prints a table and writes bench/results/failure_matrix.md
and .json (the README's reliability section quotes the table).

    python bench/failure_matrix.py                     # everything, 2 worker processes
    python bench/failure_matrix.py --drills az-loss --kinds throttling --max-n 5 --jobs 1

Cells run in --jobs worker processes (default DRTOOL_MATRIX_JOBS or 2), each re-using one
sandbox that is re-provisioned between cells (tests/safety/sandbox_pool.py).
"""

from __future__ import annotations

import argparse
import collections
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.safety.faults import KINDS  # noqa: E402
from tests.safety.matrix import Cell, CellResult, prepare_drills  # noqa: E402
from tests.safety.workers import CellRunner, default_jobs  # noqa: E402

HEADER = ("| drill | error kind | N (1..C) | cells | fault fired | restored / total | passed / total "
          "| exit codes |\n|---|---|---:|---:|---:|---:|---:|---|")


def histogram(results: list[CellResult]) -> str:
    exits = collections.Counter("none" if r.exit_code is None else str(r.exit_code) for r in results)
    return " ".join(f"{code}:{n}" for code, n in sorted(exits.items()))


def row(drill: str, kind: str, calls: int, results: list[CellResult]) -> str:
    fired = sum(1 for r in results if r.injected)
    restored = sum(1 for r in results if r.restored)
    passed = sum(1 for r in results if r.ok)
    return (f"| {drill} | {kind} | 1..{calls} | {len(results)} | {fired} | {restored} / {len(results)} | "
            f"{passed} / {len(results)} | {histogram(results)} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drills", nargs="*", help="drill stems (default: every bundled drill)")
    parser.add_argument("--kinds", nargs="*", choices=KINDS, default=list(KINDS))
    parser.add_argument("--max-n", type=int, default=None, help="cap N (default: the drill's call count)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="worker processes")
    args = parser.parse_args()
    runner = CellRunner(args.jobs)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # `kill PID` still stops the workers
    try:
        return _run(args, runner)
    finally:
        runner.close()


def _run(args: argparse.Namespace, runner: CellRunner) -> int:
    work = Path(tempfile.mkdtemp(prefix="failure-matrix-"))
    drills = prepare_drills(work / "drills")
    rows: list[str] = []
    failures: list[str] = []
    cells_json: list[dict[str, object]] = []
    everything: list[CellResult] = []
    started = time.monotonic()
    for name in args.drills or sorted(drills):
        t0 = time.monotonic()
        [base] = runner.run([(Cell(name, "throttling", None), drills[name], work / "results" / name / "baseline")])
        if not base.ok:
            print(f"{name}: the un-faulted run failed: {base.problems}", file=sys.stderr)
            failures.append(f"{name} baseline: {'; '.join(base.problems)}")
            continue
        calls = len(base.calls) if args.max_n is None else min(args.max_n, len(base.calls))
        tasks = [(Cell(name, kind, n), drills[name], work / "results" / name / f"{kind}-{n}")
                 for kind in args.kinds for n in range(1, calls + 1)]
        results = []
        for r in runner.run(tasks):
            results.append(r)
            print(f"{r.cell}: hit {r.hit}, exit {r.exit_code}, {r.status}, {r.seconds:.1f}s"
                  f"{'' if r.ok else ' FAILED: ' + '; '.join(r.problems)}", flush=True)
            cells_json.append({"drill": name, "kind": r.cell.kind, "n": r.cell.n, "hit": r.hit,
                               "exit": r.exit_code, "status": r.status, "restored": r.restored, "ok": r.ok,
                               "problems": r.problems, "seconds": round(r.seconds, 2)})
            if not r.ok:
                failures.append(f"{r.cell} (hit {r.hit}, exit {r.exit_code}): {'; '.join(r.problems)}")
        for kind in args.kinds:
            rows.append(row(name, kind, calls, [r for r in results if r.cell.kind == kind]))
        everything += results
        print(f"{name}: {len(results)} cells in {(time.monotonic() - t0) / 60:.1f} min", flush=True)
    table = "\n".join([HEADER, *rows])
    restored, passed = sum(r.restored for r in everything), sum(r.ok for r in everything)
    drills_done = len({r.cell.drill for r in everything})
    summary = (f"{drills_done} drills x N x {len(args.kinds)} error kinds = {len(everything)} cells: "
               f"{restored} / {len(everything)} restored, {passed} / {len(everything)} passed every check; "
               f"exit codes {histogram(everything)}; {(time.monotonic() - started) / 60:.1f} min "
               f"with {runner.jobs} worker(s)")
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
