"""`drtool sandbox up`: prints the exports, serves AWS on loopback, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import boto3
import pytest

from drtool.cli import invoke
from tests.sandbox.helpers import TRUTH_ESTATE, get


def test_sandbox_help_is_lazy():
    code = ("import sys; from drtool.cli import invoke; rc = invoke(['sandbox', 'up', '--help']); "
            "assert rc == 0; assert 'boto3' not in sys.modules and 'moto' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_unknown_estate_is_a_usage_error(capsys):
    assert invoke(["sandbox", "up", "--estate", "no-such-estate"]) == 2
    assert "no estate" in capsys.readouterr().err


@pytest.mark.moto
def test_up_prints_exports_serves_and_stops_on_sigterm():
    proc = subprocess.Popen([sys.executable, "-m", "drtool", "sandbox", "up", "--estate", str(TRUTH_ESTATE)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if "Ctrl-C stops it" in line:
                break
        exports = dict(x[len("export "):].split("=", 1) for x in lines if x.startswith("export "))
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
