"""The `sandbox` extra: live commands never need moto; the sandbox says how to get it.

Both tests run drtool in a subprocess, so they hold in a venv with only `.[test]` and in
one with `.[test,sandbox]` alike. `nomoto/sitecustomize.py` hides moto and flask from a
subprocess, as in a venv without the extra.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NO_MOTO = Path(__file__).parent / "nomoto"

LIVE_SCRIPT = """
import json, sys
from drtool.cli import invoke
from drtool.documents import bundled_dir

codes = {}
for args in (["plan", "--help"], ["run", "--help"], ["validate", "--help"], ["rollback", "--help"],
             ["backups", "check", "--help"]):
    codes[" ".join(args)] = invoke(args)
drills = sorted(str(p) for p in bundled_dir("drills").glob("*.yaml"))
codes["validate"] = invoke(["validate", *drills])
print(json.dumps({"codes": codes, "drills": len(drills),
                  "moto": sorted(m for m in sys.modules if m == "moto" or m.startswith("moto."))}))
"""


def _env(*paths: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (*paths, ROOT))
    return env


def test_live_commands_and_validating_every_bundled_drill_never_import_moto():
    done = subprocess.run([sys.executable, "-c", LIVE_SCRIPT], capture_output=True, text=True, timeout=120,
                          env=_env(), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["codes"] == {"plan --help": 0, "run --help": 0, "validate --help": 0, "rollback --help": 0,
                               "backups check --help": 0, "validate": 0}
    assert result["drills"] >= 5
    assert result["moto"] == []


def test_demo_and_sandbox_up_without_the_extra_say_install_it_and_exit_2(tmp_path):
    for args in (["demo", "--results", str(tmp_path / "out")], ["sandbox", "up"]):
        done = subprocess.run([sys.executable, "-m", "drtool", *args], capture_output=True, text=True, timeout=60,
                              env=_env(NO_MOTO), cwd=tmp_path, stdin=subprocess.DEVNULL)
        assert done.returncode == 2, (args, done.stderr)
        assert "install drtool[sandbox]" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
