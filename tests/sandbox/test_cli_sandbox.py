"""`drtool sandbox up`: prints the exports, serves AWS on loopback, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from drtool.cli import invoke
from tests.sandbox.helpers import TRUTH_ESTATE, get

ROOT = Path(__file__).resolve().parents[2]


def test_sandbox_help_is_lazy():
    code = ("import sys; from drtool.cli import invoke; rc = invoke(['sandbox', 'up', '--help']); "
            "assert rc == 0; assert 'boto3' not in sys.modules and 'moto' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_unknown_estate_is_a_usage_error(capsys):
    assert invoke(["sandbox", "up", "--estate", "no-such-estate"]) == 2
    assert "no estate" in capsys.readouterr().err


def _banner(proc: subprocess.Popen) -> tuple[list[str], dict[str, str]]:
    """The lines `sandbox up` prints until it is ready, and the variables it exports."""
    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if "Ctrl-C stops it" in line:
            break
    return lines, dict(x[len("export "):].split("=", 1) for x in lines if x.startswith("export "))


@pytest.mark.moto
def test_up_prints_exports_serves_and_stops_on_sigterm():
    proc = subprocess.Popen([sys.executable, "-m", "drtool", "sandbox", "up", "--estate", str(TRUTH_ESTATE)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines, exports = _banner(proc)
        assert exports["AWS_ACCESS_KEY_ID"] == "testing"
        url = exports["AWS_ENDPOINT_URL"]
        assert url.startswith("http://127.0.0.1:")
        asg = boto3.client("autoscaling", region_name="us-east-1", endpoint_url=url,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        assert asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0][
            "DesiredCapacity"] == 3
        health = next(x for x in lines if x.startswith("# global endpoint:")).split()[3]
        assert get(health)[0] == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "sandbox stopped" in err


@pytest.mark.e2e
def test_a_run_against_sandbox_up_is_labelled_sandbox_everywhere(tmp_path):
    """Issue 14: a drill run against `drtool sandbox up` (no --sandbox) is recorded as a
    sandbox run with its endpoint, and its reports say SANDBOX in the title."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "drtool", "sandbox", "up"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines, exports = _banner(proc)
        health = next(x for x in lines if x.startswith("# us-east-1 endpoint:")).split()[3]
        run = subprocess.run([sys.executable, "-m", "drtool", "run", str(ROOT / "drills" / "instance-termination.yaml"),
                              "--param", f"health_url={health}", "--yes", "--format", "md", "--format", "html",
                              "--results", "R"], cwd=tmp_path, env={**env, **exports}, capture_output=True, text=True,
                             timeout=300, stdin=subprocess.DEVNULL)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert run.returncode == 0, run.stderr[-3000:]
    [card_path] = tmp_path.glob("R/*/*/scorecard.json")
    card = json.loads(card_path.read_text())
    assert card["run"]["mode"] == "sandbox" and card["run"]["endpoint"] == exports["AWS_ENDPOINT_URL"]
    assert (card_path.parent / "scorecard.md").read_text().startswith("# SANDBOX:")
    assert "<title>SANDBOX:" in (card_path.parent / "scorecard.html").read_text()
