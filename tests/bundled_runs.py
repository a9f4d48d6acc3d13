"""One sandbox run of each bundled drill per test session, shared by the tests that only
read what it wrote (every bundled drill passes, its records match their types, its HTML
report renders in chromium): each drill runs once instead of once per test family."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DRILLS = sorted(p for p in (ROOT / "drills").glob("*.yaml") if "kind: drill" in p.read_text())   # not services.yaml


@dataclass(frozen=True)
class BundledRun:
    done: subprocess.CompletedProcess[str]
    results: Path                     # the run's --results folder

    @property
    def run_dir(self) -> Path:
        (card,) = self.results.glob("*/*/scorecard.json")
        return card.parent


class BundledRuns:
    """`runs(drill)`: the drill run once in the sandbox as an operator runs it (a
    subprocess, no AWS settings at all, `--format html`), then the same result."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._done: dict[str, BundledRun] = {}

    def __call__(self, drill: Path) -> BundledRun:
        if drill.name not in self._done:
            cwd = self.base / drill.stem
            cwd.mkdir()
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}   # the sandbox needs none
            env["PYTHONPATH"] = str(ROOT)
            done = subprocess.run([sys.executable, "-m", "drtool", "run", str(drill), "--sandbox", "--yes",
                                   "--results", str(cwd / "results"), "--format", "html"], cwd=cwd, env=env,
                                  capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
            self._done[drill.name] = BundledRun(done, cwd / "results")
        return self._done[drill.name]
