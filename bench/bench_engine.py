"""Engine benchmarks: start-up, target resolution vs plain boto3, journaled-change overhead.

Offline: moto in-process with fake credentials. Prints a table; writes bench/results/engine.json.
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
sys.path.insert(0, str(ROOT))
os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                   "MOTO_EC2_LOAD_DEFAULT_AMIS": "false", "AWS_CONFIG_FILE": os.devnull,
                   "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(key, None)


def median_run(cmd: list[str], n: int = 5) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def startup() -> dict:
    help_s = median_run([sys.executable, "-m", "drtool", "--help"])
    boto_s = median_run([sys.executable, "-c", "import boto3"])
    bare_s = median_run([sys.executable, "-c", "pass"])
    return {"drtool_help_s": round(help_s, 3), "python_import_boto3_s": round(boto_s, 3),
            "python_bare_s": round(bare_s, 3)}


def targets(n: int) -> dict:
    import boto3
    from moto import mock_aws

    from drtool.aws.session import AwsSession
    from drtool.context import StepContext
    from drtool.selectors import TargetSelector
    from drtool.targets import resolve
    from drtool.timing import SystemClock

    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        for batch in range(0, n, 50):
            ec2.run_instances(ImageId="ami-12345678", MinCount=min(50, n - batch), MaxCount=min(50, n - batch),
                              TagSpecifications=[{"ResourceType": "instance",
                                                  "Tags": [{"Key": "app", "Value": "web"}]}])
        filters = [{"Name": "tag:app", "Values": ["web"]},
                   {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
        start = time.perf_counter()
        plain = [i["InstanceId"] for page in ec2.get_paginator("describe_instances").paginate(Filters=filters)
                 for r in page["Reservations"] for i in r["Instances"]]
        plain_s = time.perf_counter() - start

        session = AwsSession(region="us-east-1")
        session.account_id()
        session.client("ec2")            # client creation (~60 ms) is not part of the comparison
        session.calls.clear()
        ctx = StepContext(aws=session, clock=SystemClock(), region="us-east-1", run_id="bench")
        import random

        start = time.perf_counter()
        found = resolve(ctx, "ec2:instance", TargetSelector(tags={"app": "web"}), random.Random(1))
        drtool_s = time.perf_counter() - start
        assert len(found) == len(plain) == n
        return {"instances": n, "plain_boto3_s": round(plain_s, 3), "drtool_s": round(drtool_s, 3),
                "ratio": round(drtool_s / plain_s, 2), "drtool_api_calls": dict(session.calls)}


def journal_overhead(n: int = 200) -> dict:
    from drtool.context import StepContext
    from drtool.journal import Journal
    from drtool.timing import SystemClock

    with tempfile.TemporaryDirectory() as tmp:
        clock = SystemClock()
        ctx = StepContext(aws=None, clock=clock, region="us-east-1", run_id="bench",
                          journal=Journal(Path(tmp) / "journal.jsonl", clock))
        start = time.perf_counter()
        for i in range(n):
            ctx.change(f"change {i}", lambda: None)
        per_change_ms = (time.perf_counter() - start) / n * 1000
    return {"changes": n, "journaled_change_ms": round(per_change_ms, 3)}


def main() -> None:
    results = {"startup": startup(), "targets": [targets(n) for n in (100, 500)], "journal": journal_overhead()}
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "engine.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
