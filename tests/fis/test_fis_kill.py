"""Done-when of issue 12.2: an FIS-backed drill pauses S3 replication, and the pause ends
even when drtool is killed, because the sandbox's FIS honours the duration server-side.

`drtool sandbox up` runs in one process (moto, the simulator, the fakes), `drtool run`
in another with AWS_ENDPOINT_URL pointing at it; the run is SIGKILLed while the
experiment runs (no rollback, no finally), and the object written during the pause
still reaches the replica once the pause's duration is over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
PAUSE_S = 8

SCENARIO = f"""\
kind: scenario
name: fis-s3-pause
description: Pause S3 replication with AWS FIS; FIS resumes it after the duration.
inject:
  - action: fis.experiment
    name: pause orders replication
    with:
      region: us-east-1
      role_arn: arn:aws:iam::123456789012:role/fis-experiments
      targets:
        orders: {{resourceType: "aws:s3:bucket", resourceArns: ["arn:aws:s3:::shop-orders-use1"], selectionMode: ALL}}
      actions:
        pause:
          actionId: "aws:s3:bucket-pause-replication"
          parameters: {{duration: PT{PAUSE_S}S, region: us-west-2}}
          targets: {{Buckets: orders}}
recover:
  - wait: fis.experiment-state
    name: FIS ended the pause
    with: {{region: us-east-1}}
    timeout: 10m
"""

DRILL = """\
kind: drill
name: fis-s3-pause
scenario: fis-s3-pause
service: {name: orders, tier: gold, owner: sre}
objectives: {rto: 10m}
poll: 1s
guardrails:
  accounts: ["123456789012"]
"""


def _exports(proc: subprocess.Popen) -> dict[str, str]:
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if "Ctrl-C stops it" in line:
            break
    return dict(x[len("export "):].split("=", 1) for x in lines if x.startswith("export "))


def _until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.moto
@pytest.mark.e2e
def test_fis_pause_ends_when_drtool_is_killed(tmp_path):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "drills").mkdir()
    (tmp_path / "scenarios" / "fis-s3-pause.yaml").write_text(SCENARIO)
    (tmp_path / "drills" / "fis-s3-pause.yaml").write_text(DRILL)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    sandbox = subprocess.Popen([sys.executable, "-m", "drtool", "sandbox", "up"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    run = None
    try:
        exports = _exports(sandbox)
        url = exports["AWS_ENDPOINT_URL"]

        def client(service: str, region: str = "us-east-1"):
            return boto3.client(service, region_name=region, endpoint_url=url,
                                aws_access_key_id="testing", aws_secret_access_key="testing")

        fis, s3, replica = client("fis"), client("s3"), client("s3", "us-west-2")
        run = subprocess.Popen([sys.executable, "-m", "drtool", "run", "drills/fis-s3-pause.yaml", "--yes",
                                "--results", str(tmp_path / "results")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                               env={**env, **exports, "AWS_CONFIG_FILE": os.devnull,
                                    "AWS_SHARED_CREDENTIALS_FILE": os.devnull})

        def running():
            found = fis.list_experiments()["experiments"]
            return found if found and found[0]["state"]["status"] == "running" else None

        [experiment] = _until(running, 60, "the FIS experiment to run")
        started = time.monotonic()
        s3.put_object(Bucket="shop-orders-use1", Key="written-during-pause", Body=b"order")
        time.sleep(3)   # twice the estate's 1.5 s replication lag: it would have arrived
        assert "Contents" not in replica.list_objects_v2(Bucket="shop-orders-usw2", Prefix="written-during")

        run.send_signal(signal.SIGKILL)   # no rollback, no finally: only FIS can end the pause
        run.wait(timeout=10)
        assert run.returncode == -signal.SIGKILL
        assert time.monotonic() - started < PAUSE_S, "the pause ended before drtool was killed"

        def replicated():
            return replica.list_objects_v2(Bucket="shop-orders-usw2", Prefix="written-during").get("Contents")

        _until(replicated, PAUSE_S + 15, "the backlog to replicate after the pause")
        assert time.monotonic() - started >= PAUSE_S - 1   # not before the pause was over
        state = fis.get_experiment(id=experiment["id"])["experiment"]
        assert state["state"]["status"] == "completed"
        assert state["actions"]["pause"]["state"]["status"] == "completed"
    finally:
        if run is not None and run.poll() is None:
            run.kill()
        sandbox.send_signal(signal.SIGTERM)
        sandbox.communicate(timeout=30)
