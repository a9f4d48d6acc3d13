"""Wall time of `drtool demo` (fresh process, empty folder) and of sandbox start-up.

Offline. Prints JSON and writes bench/results/demo.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

STARTUP = """
import time
t = time.perf_counter()
from drtool.sandbox import Sandbox
with Sandbox.load("webshop") as sb:
    print(round(time.perf_counter() - t, 3))
"""


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    clean["PYTHONPATH"] = str(ROOT)
    return clean


def demo_once() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "drtool", "demo"], cwd=tmp, env=env(), check=True,
                       capture_output=True)
        return time.perf_counter() - start


def startup_once() -> float:
    out = subprocess.run([sys.executable, "-c", STARTUP], env=env(), check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(runs: int = 3) -> None:
    demo = [demo_once() for _ in range(runs)]
    startup = [startup_once() for _ in range(runs)]
    results = {"demo_wall_s": {"median": round(statistics.median(demo), 2), "max": round(max(demo), 2)},
               "sandbox_startup_s": {"median": round(statistics.median(startup), 2), "max": round(max(startup), 2)}}
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "demo.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
