"""`drtool backups check` over thousands of resources vs a naive per-resource boto3 loop.

Offline: moto in-process (EBS, RDS, DynamoDB) and drtool's fake AWS Backup (moto has no
recovery points). The estate: tagged EBS volumes with snapshots (a share copied to the DR
region), DynamoDB tables with on-demand backups (half with PITR), RDS instances with
snapshots, and AWS Backup recovery points for some volumes (copied to DR too).

Measured: wall time and API calls (AwsSession.calls) of the check, sequential and with 8
workers; the same for a naive baseline that asks per resource (describe_snapshots by
volume-id, list_backups by table, describe_db_snapshots by instance, and
list_recovery_points_by_resource, in both regions). moto answers in ~1-10 ms on loopback;
AWS takes tens of ms per call, so the table also estimates wall time at 50 ms per call.

    python bench/bench_backups_check.py [--volumes 2000 --tables 500 --dbs 100]

Prints a table; writes bench/results/backups_check.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_REGION": "us-east-1", "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
                   "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(key, None)

PRIMARY, DR = "us-east-1", "us-west-2"
TAGS = [{"Key": "app", "Value": "bench"}]
DAY = 86_400.0
CALL_LATENCY_S = 0.05


def build_estate(aws: Any, fake: Any, volumes: int, tables: int, dbs: int, seed: int = 7) -> dict[str, int]:
    """Create the estate through boto3 (setup time is not measured)."""
    rng = random.Random(seed)
    ec2, ec2_dr = aws.client("ec2", PRIMARY), aws.client("ec2", DR)
    vol_ids = []
    for _ in range(volumes):
        vol = ec2.create_volume(AvailabilityZone=f"{PRIMARY}a", Size=1,
                                TagSpecifications=[{"ResourceType": "volume", "Tags": TAGS}])["VolumeId"]
        vol_ids.append(vol)
        if rng.random() < 0.9:
            snap = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]
            if rng.random() < 0.2:
                ec2_dr.copy_snapshot(SourceSnapshotId=snap, SourceRegion=PRIMARY,
                                     Description=f"[Copied {snap} from {PRIMARY}]")
    ddb = aws.client("dynamodb", PRIMARY)
    for i in range(tables):
        name = f"bench-{i:05d}"
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST", Tags=TAGS)
        if rng.random() < 0.8:
            ddb.create_backup(TableName=name, BackupName=f"{name}-bk")
        if i % 2:
            ddb.update_continuous_backups(TableName=name,
                                          PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    rds = aws.client("rds", PRIMARY)
    for i in range(dbs):
        rds.create_db_instance(DBInstanceIdentifier=f"bench-db-{i:04d}", DBInstanceClass="db.t3.micro",
                               Engine="postgres", MasterUsername="admin1", MasterUserPassword="password123",
                               AllocatedStorage=20, BackupRetentionPeriod=0, Tags=TAGS)
    for region in (PRIMARY, DR):
        aws.client("backup", region).create_backup_vault(BackupVaultName="Default")
    now = time.time()
    for vol in vol_ids[: volumes // 10]:
        arn = f"arn:aws:ec2:{PRIMARY}:123456789012:volume/{vol}"
        fake.add_recovery_point(arn, now - rng.random() * 2 * DAY)
        fake.add_recovery_point(arn, now - rng.random() * 2 * DAY, region=DR)
    return {"volumes": volumes, "tables": tables, "rds_instances": dbs, "resources": volumes + tables + dbs}


def run_drtool(aws: Any, workers: int) -> dict[str, Any]:
    from drtool.backups import check_backups

    aws.calls.clear()
    start = time.perf_counter()
    report = check_backups(aws, regions=[PRIMARY], tags={"app": ["bench"]}, rpo_s=DAY, copy_regions=[DR],
                           workers=workers)
    wall = time.perf_counter() - start
    calls = sum(aws.calls.values())
    return {"wall_s": round(wall, 3), "api_calls": calls, "by_operation": dict(aws.calls.most_common()),
            "resources": len(report.verdicts), "compliant": sum(v.compliant for v in report.verdicts)}


def run_naive(aws: Any) -> dict[str, Any]:
    """Per-resource boto3 calls after the same selection (the obvious way to write it)."""
    from drtool.backups.inventory import select_resources

    aws.calls.clear()
    start = time.perf_counter()
    resources = select_resources(aws, PRIMARY, {"app": ["bench"]})
    newest: dict[str, float] = {}
    for res in resources:
        times: list[float] = []
        for region in (PRIMARY, DR):
            if res.type == "ec2:volume":
                snaps = aws.client("ec2", region).describe_snapshots(
                    OwnerIds=["self"], Filters=[{"Name": "volume-id", "Values": [res.id]}])["Snapshots"]
                times += [s["StartTime"].timestamp() for s in snaps]
            elif res.type == "rds:db":
                snaps = aws.client("rds", region).describe_db_snapshots(DBInstanceIdentifier=res.id)["DBSnapshots"]
                times += [s["SnapshotCreateTime"].timestamp() for s in snaps]
            points = aws.client("backup", region).list_recovery_points_by_resource(ResourceArn=res.arn or (
                f"arn:aws:ec2:{PRIMARY}:123456789012:volume/{res.id}"))["RecoveryPoints"]
            times += [p["CreationDate"].timestamp() for p in points]
        if res.type == "dynamodb:table":
            ddb = aws.client("dynamodb", PRIMARY)
            times += [b["BackupCreationDateTime"].timestamp()
                      for b in ddb.list_backups(TableName=res.id)["BackupSummaries"]]
            pitr = ddb.describe_continuous_backups(TableName=res.id)["ContinuousBackupsDescription"]
            latest = pitr.get("PointInTimeRecoveryDescription", {}).get("LatestRestorableDateTime")
            if latest:
                times.append(latest.timestamp())
        newest[res.id] = max(times, default=0.0)
    wall = time.perf_counter() - start
    return {"wall_s": round(wall, 3), "api_calls": sum(aws.calls.values()),
            "by_operation": dict(Counter(aws.calls).most_common()), "resources": len(newest)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--volumes", type=int, default=2000)
    parser.add_argument("--tables", type=int, default=500)
    parser.add_argument("--dbs", type=int, default=100)
    parser.add_argument("--no-naive", action="store_true", help="skip the per-resource baseline")
    args = parser.parse_args()

    from moto import mock_aws

    from drtool.aws.session import AwsSession
    from drtool.sandbox.fakes.backup_api import FakeBackup
    from drtool.sandbox.fakes.in_process import serving
    from drtool.timing import SystemClock

    with mock_aws(), serving(FakeBackup(SystemClock(), {"backup": 0, "copy": 0, "restore": 0})) as fake:
        aws = AwsSession(region=PRIMARY)
        t0 = time.perf_counter()
        estate = build_estate(aws, fake, args.volumes, args.tables, args.dbs)
        setup_s = time.perf_counter() - t0
        run_drtool(aws, 1)  # warm clients and moto
        sequential = run_drtool(aws, 1)
        parallel = run_drtool(aws, 8)
        naive = None if args.no_naive else run_naive(aws)

    def est(calls: int, workers: int = 1) -> float:
        return round(calls * CALL_LATENCY_S / workers, 1)

    rows = [("drtool, 1 worker", sequential, est(sequential["api_calls"])),
            ("drtool, 8 workers", parallel, est(sequential["api_calls"], 8))]
    if naive:
        rows.append(("naive per-resource", naive, est(naive["api_calls"])))
    print(f"estate: {estate['resources']} resources ({estate['volumes']} volumes, {estate['tables']} tables, "
          f"{estate['rds_instances']} RDS instances) + copies in {DR}; setup {setup_s:.1f}s")
    print(f"{'run':<22}{'wall (moto)':>12}{'API calls':>11}{'est. @50ms/call':>17}  (est. = calls x 50 ms / workers)")
    for name, result, estimate in rows:
        print(f"{name:<22}{result['wall_s']:>11.2f}s{result['api_calls']:>11}{estimate:>16.1f}s")
    if naive:
        print(f"naive / drtool: {naive['api_calls'] / sequential['api_calls']:.1f}x API calls, "
              f"{naive['wall_s'] / sequential['wall_s']:.1f}x wall time on moto (1 worker), "
              f"{naive['wall_s'] / parallel['wall_s']:.1f}x (8 workers)")
    print("drtool calls by operation:", json.dumps(sequential["by_operation"]))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "backups_check.json").write_text(json.dumps(
        {"estate": estate, "setup_s": round(setup_s, 1), "drtool_sequential": sequential, "drtool_parallel": parallel,
         "naive": naive, "assumed_call_latency_s": CALL_LATENCY_S}, indent=2) + "\n")


if __name__ == "__main__":
    main()
