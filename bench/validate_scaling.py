"""`drtool validate` over 10 / 100 / 1,000 drill files plus a scenario library.

Generates the files into a temp folder (variants of the bundled drills and scenarios,
20 scenarios in the library, drills spread over them), runs `python -m drtool validate`
on the drills and the library, and prints wall time per size: the target is <= 3 s for
1,000 drills on a 2-core machine, growing linearly. Never a test (timings on a shared
machine are noise for assertions). Writes bench/results/validate_scaling.json.

    python bench/validate_scaling.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (10, 100, 1000)
LIBRARY = 20


def generate(folder: Path, drills: int) -> None:
    """`drills` drill files under folder/drills, LIBRARY scenarios under folder/scenarios."""
    (folder / "scenarios").mkdir(parents=True)
    (folder / "drills").mkdir()
    templates = sorted(p for p in (ROOT / "drills").glob("*.yaml") if "kind: drill" in p.read_text())
    scenarios: dict[str, list[str]] = {}
    bundled = sorted((ROOT / "scenarios").glob("*.yaml"))
    for i in range(LIBRARY):
        source = bundled[i % len(bundled)]
        name = f"{source.stem}-{i:02d}"
        text = source.read_text().replace(f"name: {source.stem}", f"name: {name}", 1)
        (folder / "scenarios" / f"{name}.yaml").write_text(text)
        scenarios.setdefault(source.stem, []).append(name)
    for i in range(drills):
        template = templates[i % len(templates)]
        text = template.read_text()
        ref = next(line.split(":", 1)[1].split("#")[0].strip() for line in text.splitlines()
                   if line.startswith("scenario:"))
        choices = scenarios[ref]
        text = text.replace(f"scenario: {ref}", f"scenario: {choices[i % len(choices)]}", 1)
        text = text.replace(f"name: {template.stem}", f"name: {template.stem}-{i:04d}", 1)
        (folder / "drills" / f"{template.stem}-{i:04d}.yaml").write_text(text)


def timed(folder: Path, repeat: int) -> tuple[float, int]:
    times, code = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "drtool", "validate", "drills", "scenarios"],
                                cwd=folder, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                                capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        code = result.returncode
        if code != 0:
            print(result.stderr[-2000:], file=sys.stderr)
    return statistics.median(times), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "drtool", "--help"], cwd=ROOT, capture_output=True, check=True)
    startup = time.perf_counter() - start
    rows = []
    for size in SIZES:
        folder = Path(tempfile.mkdtemp(prefix=f"drtool-validate-{size}-"))
        try:
            generate(folder, size)
            seconds, code = timed(folder, args.repeat)
        finally:
            shutil.rmtree(folder)
        rows.append({"drills": size, "scenarios": LIBRARY, "seconds": round(seconds, 3), "exit": code})
    for row in rows:      # growth: cost of each drill beyond the smallest run (imports excluded)
        extra = row["drills"] - rows[0]["drills"]
        row["ms_per_drill"] = round(1000 * (row["seconds"] - rows[0]["seconds"]) / extra, 2) if extra else None
    print(f"{'drills':>7} {'scenarios':>9} {'wall s':>8} {'ms/drill':>9} {'exit':>5}")
    for row in rows:
        per = "-" if row["ms_per_drill"] is None else f"{row['ms_per_drill']:.2f}"
        print(f"{row['drills']:>7} {row['scenarios']:>9} {row['seconds']:>8.3f} {per:>9} {row['exit']:>5}")
    print(f"(ms/drill: added wall time per drill beyond the {rows[0]['drills']}-drill run, so imports are "
          f"excluded; `drtool --help` start-up: {startup:.3f}s)")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "validate_scaling.json").write_text(json.dumps({"startup_s": round(startup, 3), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
