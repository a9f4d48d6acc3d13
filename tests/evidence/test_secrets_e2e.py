"""Every output of every bundled drill, run in the sandbox with planted secrets, is free of
them: journal, scorecard, md/html/junit, head pointer and the terminal (spec 7.4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DRILLS = sorted(p for p in (ROOT / "drills").glob("*.yaml") if "kind: drill" in p.read_text())   # not services.yaml
PLANTED = ("PLANTED-SECRET-PARAM", "PLANTED-EXTERNAL-ID", "PLANTED-QUERY", "PLANTED-PASS", "PLANTED-SIG")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _plant(drill_path: Path, folder: Path) -> Path:
    """A copy of a bundled drill (and its scenario, next to it) carrying planted secrets."""
    drill = yaml.safe_load(drill_path.read_text())
    scenario_path = ROOT / "scenarios" / f"{drill['scenario']}.yaml"
    scenario = yaml.safe_load(scenario_path.read_text())
    scenario["parameters"]["api_token"] = {"type": "secret", "description": "planted"}
    scenario["parameters"]["callback_url"] = {"type": "string", "description": "planted"}
    (folder / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    drill["scenario"] = "./scenario.yaml"
    drill["parameters"]["api_token"] = "PLANTED-SECRET-PARAM"
    drill["parameters"]["callback_url"] = "https://hook:PLANTED-PASS@hooks.example.com/cb?sig=PLANTED-SIG"
    drill.setdefault("aws", {})["external_id"] = "PLANTED-EXTERNAL-ID"
    sandbox_params = drill.get("sandbox", {}).get("parameters", {})
    for name, value in list(sandbox_params.items()):
        if isinstance(value, str) and value.startswith("${sandbox.endpoint}"):
            sandbox_params[name] = value + "?token=PLANTED-QUERY"      # the simulator ignores queries
    path = folder / drill_path.name
    path.write_text(yaml.safe_dump(drill))
    return path


@pytest.mark.parametrize("drill", DRILLS, ids=[d.stem for d in DRILLS])
def test_no_planted_secret_in_any_output(drill, tmp_path):
    planted = _plant(drill, tmp_path)
    results = tmp_path / "results"
    run = subprocess.run([sys.executable, "-m", "drtool", "run", str(planted), "--sandbox", "--yes",
                          "--results", str(results), "--format", "md", "--format", "html", "--format", "junit"],
                         cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300,
                         stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr[-3000:]
    verify = subprocess.run([sys.executable, "-m", "drtool", "verify", str(results)], cwd=tmp_path, env=_env(),
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert verify.returncode == 0, verify.stdout
    files = [p for p in results.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"journal.jsonl", "scorecard.json", "scorecard.md", "scorecard.html", "junit.xml", "HEAD.json"} <= names
    outputs = {str(p): p.read_text(encoding="utf-8") for p in files}
    outputs.update(stdout=run.stdout, stderr=run.stderr, verify=verify.stdout)
    leaks = [(where, secret) for where, text in outputs.items() for secret in PLANTED if secret in text]
    assert leaks == []
    journal = outputs[str(next(p for p in files if p.name == "journal.jsonl"))]
    assert '"api_token": "***"' in journal and "hooks.example.com/cb?sig=***" in journal
    assert "external_id" not in journal
