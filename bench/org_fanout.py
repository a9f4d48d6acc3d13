"""`backups check --org` fan-out: 20 accounts x 3 regions x 200 resources vs one account.

Offline: a moto server in its own process on loopback (so its CPU does not share our GIL);
moto isolates accounts by the assumed role's credentials, so every member account is
reached as drtool reaches it, `sts:AssumeRole` into `arn:aws:iam::<id>:role/<role>`. The
organization is built with `organizations:CreateOrganization/CreateAccount`; each
account x region gets `--resources` tagged EBS volumes, two thirds of them snapshotted.
(EBS only: DynamoDB PITR is the one per-resource call `collect` makes, because
DescribeContinuousBackups has no list form; see drtool/backups/inventory.py.)

Measured per run: wall time, API calls (AwsSession.calls, AssumeRole included), the CPU
seconds spent by drtool's process and by the moto server's (from /proc, Linux), so the
table shows which side a wall time is made of, and peak Python memory (tracemalloc, in a
separate pass so tracing does not slow the timed one).
moto answers in a few ms; AWS takes tens of ms per call, so each run is repeated with a
simulated network latency (a `before-send` sleep of `--latency` seconds per call, which
releases the GIL as a socket wait does).

    python bench/org_fanout.py [--accounts 20 --regions 3 --resources 200 --workers 16]

Prints a markdown table; writes bench/results/org_fanout.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_REGION": "us-east-1", "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
                   "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
os.environ.pop("AWS_PROFILE", None)

ALL_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
ROLE = "DrtoolReadOnly"
TAGS = [{"Key": "app", "Value": "bench"}]


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("moto server did not start")


def build_org(url: str, accounts: int, regions: tuple[str, ...], resources: int) -> list[Any]:
    """The organization and its estate, through boto3 (not measured)."""
    from drtool.aws.session import AwsSession
    from drtool.backups.org import OrgAccount

    mgmt = AwsSession(region="us-east-1", endpoint_url=url)
    org = mgmt.client("organizations", "us-east-1")
    org.create_organization(FeatureSet="ALL")
    members = []
    for i in range(accounts):
        status = org.create_account(Email=f"a{i}@example.com", AccountName=f"bench-{i:02d}")["CreateAccountStatus"]
        members.append(OrgAccount(status["AccountId"], f"bench-{i:02d}"))

    def fill(account: Any, region: str) -> None:
        ec2 = mgmt.assume(f"arn:aws:iam::{account.id}:role/setup").client("ec2", region)
        for n in range(resources):
            vol = ec2.create_volume(AvailabilityZone=f"{region}a", Size=1, TagSpecifications=[
                {"ResourceType": "volume", "Tags": TAGS}])["VolumeId"]
            if n % 3:
                ec2.create_snapshot(VolumeId=vol)

    with ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(fill, a, r) for a in members for r in regions]:
            future.result()
    return members


def session(url: str, latency: float) -> Any:
    from drtool.aws.session import AwsSession

    def slow(_service: str, client: Any) -> None:
        if latency:
            client.meta.events.register("before-send.*.*", lambda **_: time.sleep(latency))
    return AwsSession(region="us-east-1", endpoint_url=url, on_client=slow if latency else None)


MOTO_PID: int | None = None   # the server's pid, for its CPU time


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process (/proc/PID/stat fields 14 and 15), or None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median_run(url: str, accounts: list[Any], regions: tuple[str, ...], workers: int, latency: float,
               repeats: int) -> dict[str, Any]:
    """The run with the median wall time of `repeats` (the machine is shared)."""
    runs = sorted((run(url, accounts, regions, workers, latency) for _ in range(repeats)), key=lambda r: r["wall_s"])
    return runs[len(runs) // 2]


def run(url: str, accounts: list[Any], regions: tuple[str, ...], workers: int, latency: float,
        trace: bool = False) -> dict[str, Any]:
    from drtool.backups.org import check_org

    aws = session(url, latency)
    if trace:
        tracemalloc.start()
    moto_before, start, cpu = cpu_seconds(MOTO_PID), time.perf_counter(), time.process_time()
    report = check_org(aws, accounts, role=ROLE, regions=list(regions), tags={"app": ["bench"]}, rpo_s=86_400,
                       workers=workers)
    wall, drtool_cpu, moto_after = time.perf_counter() - start, time.process_time() - cpu, cpu_seconds(MOTO_PID)
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    if trace:
        tracemalloc.stop()
    assert not report.failures, report.failures
    return {"accounts": len(accounts), "regions": len(regions), "resources": len(report.verdicts),
            "wall_s": round(wall, 3), "api_calls": sum(aws.calls.values()), "by_operation": dict(aws.calls),
            "drtool_cpu_s": round(drtool_cpu, 2),
            "moto_cpu_s": None if moto_before is None or moto_after is None else round(moto_after - moto_before, 2),
            "peak_mib": None if peak is None else round(peak / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--regions", type=int, default=3, choices=(1, 2, 3))
    parser.add_argument("--resources", type=int, default=200, help="tagged volumes per account x region")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per row (the median is shown)")
    parser.add_argument("--latency", type=float, default=0.05, help="simulated seconds per call (0 to skip)")
    args = parser.parse_args()
    regions = ALL_REGIONS[: args.regions]
    global MOTO_PID
    proc, url = start_moto()
    MOTO_PID = proc.pid
    try:
        t0 = time.perf_counter()
        members = build_org(url, args.accounts, regions, args.resources)
        setup_s = time.perf_counter() - t0
        run(url, members[:1], regions[:1], args.workers, 0)   # warm moto and botocore
        rows = []
        for latency in sorted({0.0, args.latency}):
            one = median_run(url, members[:1], regions[:1], args.workers, latency, args.repeats)
            one_all = median_run(url, members[:1], regions, args.workers, latency, args.repeats)
            fleet = median_run(url, members, regions, args.workers, latency, args.repeats)
            rows += [(latency, "1 account x 1 region", one), (latency, f"1 account x {len(regions)} regions", one_all),
                     (latency, f"{len(members)} accounts x {len(regions)} regions", fleet)]
        memory = {"one": run(url, members[:1], regions[:1], args.workers, 0, trace=True)["peak_mib"],
                  "fleet": run(url, members, regions, args.workers, 0, trace=True)["peak_mib"]}
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"estate: {args.accounts} accounts x {len(regions)} regions x {args.resources} EBS volumes; "
          f"setup {setup_s:.0f}s; {args.workers} workers; {os.cpu_count()} CPUs")
    print("| latency/call | run | resources | wall | API calls | calls per account x region | drtool CPU | moto CPU |")
    print("|---|---|---|---|---|---|---|---|")
    for latency, name, r in rows:
        per = r["api_calls"] / (r["accounts"] * r["regions"])
        print(f"| {latency * 1000:.0f} ms | {name} | {r['resources']} | {r['wall_s']:.2f}s | {r['api_calls']} | {per:.1f} "
              f"| {r['drtool_cpu_s']:.2f}s | {r['moto_cpu_s']}s |")
    for latency in sorted({0.0, args.latency}):
        one = next(r for lat, n, r in rows if lat == latency and n.startswith("1 account x 1 "))
        fleet = [r for lat, _n, r in rows if lat == latency][-1]
        print(f"at {latency * 1000:.0f} ms/call: {fleet['resources'] / max(one['resources'], 1):.0f}x the resources "
              f"in {fleet['wall_s'] / one['wall_s']:.1f}x the wall time of one account x one region")
    print(f"peak traced memory: {memory['one']} MiB (1 x 1), {memory['fleet']} MiB (fleet)")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "org_fanout.json").write_text(json.dumps(
        {"args": vars(args), "setup_s": round(setup_s, 1), "cpus": os.cpu_count(),
         "runs": [{"latency_s": lat, "run": n, **r} for lat, n, r in rows], "peak_mib": memory}, indent=2) + "\n")


if __name__ == "__main__":
    main()
