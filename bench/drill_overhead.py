"""Drill overhead: the instance-termination drill run through drtool's library vs a plain
boto3 script making the same AWS calls, both against one moto server (issue 13.4).

moto runs in its own process (`python -m moto.server` on loopback) and a plain HTTP server
answers the drill's health URL, so the CPU time measured here is the client side only:
drtool (load, guardrails, journal, checks, scorecard and reports) vs the bare calls. moto
replaces terminated Auto Scaling instances at once, so no wait in either run depends on
a simulated delay; the drill is `drills/instance-termination.yaml` with its sandbox-only
parts (impact window, 30 s stability window) dropped. Every AWS call drtool makes is
recorded through botocore's `before-call` event; the plain script makes the same
operations in the same order (`plain_drill`), and the table lists both.

    PYTHONPATH=. python bench/drill_overhead.py [rounds]      # default 7; best and median of each

Two comparisons: *in-process* (the library, after one warm-up round of each: imports and
caches paid) and *fresh process* (`drtool run --yes` vs `python bench/drill_overhead.py
--plain`, each a new interpreter, as a user runs them; CPU from the children's rusage).
The children keep their bytecode in a temporary cache (round 0 fills it), as an installed
package has it; with PYTHONDONTWRITEBYTECODE set, every fresh run would recompile drtool.

Writes bench/results/drill_overhead.json.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
for _key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_key, None)

REGION, GROUP, TG = "us-east-1", "shop-use1", "shop-use1-tg"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
DRILL = """kind: drill
name: bench-instance-termination
scenario: {scenario}
service: {{name: shop-web, tier: important, owner: web-sre}}
parameters:
  region: {region}
  group: {group}
  target_group: {tg}
  health_url: "{health}"
  percent: 50
objectives:
  rto: 2m
poll: 0.5s
guardrails:
  accounts: ["123456789012"]
  max_targets: 5
  require_tags: {{drill: allowed}}
  time_limit: 10m
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], url: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1).read()  # noqa: S310 - loopback
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{cmd[2]} did not come up on {url}")


def provision(url: str) -> None:
    """Reset moto and create the drill's estate: a group of 4 behind a target group."""
    import boto3

    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b""))  # noqa: S310
    session = boto3.Session(region_name=REGION, **CREDENTIALS)
    ec2, elb, asg = (session.client(s, endpoint_url=url) for s in ("ec2", "elbv2", "autoscaling"))
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")
               ["Subnet"]["SubnetId"] for i, az in enumerate("ab", start=1)]
    tg = elb.create_target_group(Name=TG, Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    lt = ec2.create_launch_template(LaunchTemplateName="lt", LaunchTemplateData={"ImageId": "ami-12c6146b"})
    asg.create_auto_scaling_group(AutoScalingGroupName=GROUP, MinSize=4, MaxSize=8, DesiredCapacity=4,
                                  LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplate"]["LaunchTemplateId"]},
                                  VPCZoneIdentifier=",".join(subnets), TargetGroupARNs=[tg],
                                  Tags=[{"Key": "drill", "Value": "allowed", "PropagateAtLaunch": True}])


def drtool_drill(url: str, drill_path: Path, results: Path) -> list[str]:
    """The drill through drtool's library; returns the AWS operations it made, in order."""
    from drtool.aws.session import AwsSession
    from drtool.documents import load_drill
    from drtool.runner import RunOptions, run_drill

    calls: list[str] = []

    def record(service: str, client: Any) -> None:
        client.meta.events.register("before-call.*.*", lambda model, **_: calls.append(
            f"{model.service_model.service_name}:{model.name}"))

    drill = load_drill(drill_path)
    session = AwsSession(region=REGION, endpoint_url=url, credentials=dict(CREDENTIALS), isolated=True,
                         on_client=record)
    result = run_drill(drill, session, RunOptions(results=results, yes=True, mode="sandbox", time_scale=1.0))
    if result.exit_code != 0:
        raise RuntimeError(f"the drill did not pass (exit {result.exit_code}): see {result.run_dir}")
    return calls


def plain_drill(url: str, health: str) -> list[str]:
    """A plain boto3 script making drtool's calls, in drtool's order: who am I; find the
    group's instances (tags checked); targets healthy + health URL (steady state); terminate
    half; targets + URL (the fault seen?); wait for the group; targets + URL twice (verify,
    and recovered)."""
    import boto3

    calls: list[str] = []
    session = boto3.Session(region_name=REGION, **CREDENTIALS)

    def client(service: str) -> Any:
        made = session.client(service, endpoint_url=url)
        made.meta.events.register("before-call.*.*", lambda model, **_: calls.append(
            f"{model.service_model.service_name}:{model.name}"))
        return made

    sts, ec2, elb, asg = client("sts"), client("ec2"), client("elbv2"), client("autoscaling")
    arns: dict[str, str] = {}          # the target group's ARN, looked up once (as drtool caches it)

    def healthy() -> bool:
        if TG not in arns:
            arns[TG] = elb.describe_target_groups(Names=[TG])["TargetGroups"][0]["TargetGroupArn"]
        tg = arns[TG]
        states = [t["TargetHealth"]["State"] for t in
                  elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]]
        with urllib.request.urlopen(health, timeout=5) as answer:  # noqa: S310 - loopback
            ok = answer.status == 200
        return ok and bool(states) and all(s == "healthy" for s in states)

    assert sts.get_caller_identity()["Account"] == "123456789012"
    pages = ec2.get_paginator("describe_instances").paginate(Filters=[
        {"Name": "tag:aws:autoscaling:groupName", "Values": [GROUP]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])
    instances = sorted(i["InstanceId"] for page in pages for r in page["Reservations"] for i in r["Instances"]
                       if {"Key": "drill", "Value": "allowed"} in i.get("Tags", []))
    assert healthy()
    ec2.terminate_instances(InstanceIds=instances[: len(instances) // 2])
    healthy()
    while True:
        group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]
        live = [i for i in group["Instances"] if i["LifecycleState"] == "InService" and i["HealthStatus"] == "Healthy"]
        if len(live) >= group["DesiredCapacity"]:
            break
        time.sleep(0.5)
    assert healthy() and healthy()
    return calls


def timed(run: Callable[[], list[str]]) -> tuple[float, float, list[str]]:
    gc.collect()            # the other side's garbage is not this side's cost
    wall, cpu = time.perf_counter(), time.process_time()
    calls = run()
    return time.perf_counter() - wall, time.process_time() - cpu, calls


def timed_process(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) of one fresh process."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--plain":
        plain_drill(sys.argv[2], sys.argv[3])
        return 0
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    moto_port, http_port = free_port(), free_port()
    url, health = f"http://127.0.0.1:{moto_port}", f"http://127.0.0.1:{http_port}/"
    moto = start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)], f"{url}/moto-api/")
    web = start([sys.executable, "-m", "http.server", str(http_port), "--bind", "127.0.0.1",
                 "--directory", tempfile.gettempdir()], health)
    rows: dict[str, list[tuple[float, float]]] = {"drtool": [], "plain": [], "drtool_cli": [], "plain_cli": []}
    counts: dict[str, list[str]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            drill_path = Path(tmp) / "drill.yaml"
            drill_path.write_text(DRILL.format(scenario=ROOT / "scenarios" / "instance-termination.yaml",
                                               region=REGION, group=GROUP, tg=TG, health=health))
            import boto3  # noqa: F401 - imported once up front for both sides (the CLI imports it lazily)

            env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_ENDPOINT_URL": url, "AWS_REGION": REGION,
                   "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")}   # bytecode kept, as pip install does
            env.pop("PYTHONDONTWRITEBYTECODE", None)   # else every fresh run recompiles drtool's modules
            commands = {"drtool_cli": [sys.executable, "-m", "drtool", "run", str(drill_path), "--yes",
                                       "--progress", "off", "--results", str(Path(tmp) / "cli-results")],
                        "plain_cli": [sys.executable, str(Path(__file__).resolve()), "--plain", url, health]}
            for n in range(rounds + 1):           # round 0 warms both paths up (imports, caches)
                order = ("drtool", "plain", "drtool_cli", "plain_cli") if n % 2 else \
                    ("plain", "drtool", "plain_cli", "drtool_cli")
                for name in order:
                    provision(url)
                    if name == "drtool":
                        wall, cpu, calls = timed(lambda: drtool_drill(url, drill_path, Path(tmp) / "results"))
                        counts[name] = calls
                    elif name == "plain":
                        wall, cpu, calls = timed(lambda: plain_drill(url, health))
                        counts[name] = calls
                    else:
                        wall, cpu = timed_process(commands[name], env)
                    if n:
                        rows[name].append((wall, cpu))
    finally:
        for proc in (moto, web):
            proc.terminate()
            proc.wait(timeout=10)
    out = summary(rows, counts)
    print(table(out))
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "drill_overhead.json").write_text(json.dumps(out, indent=2))
    return 0


def summary(rows: dict[str, list[tuple[float, float]]], counts: dict[str, list[str]]) -> dict[str, Any]:
    """Best (least disturbed) round of each side for the ratios; medians alongside: on a
    shared machine the other load only ever adds time."""

    def side(name: str) -> dict[str, Any]:
        walls, cpus = [w for w, _ in rows[name]], [c for _, c in rows[name]]
        return {"wall_s": round(min(walls), 3), "cpu_s": round(min(cpus), 3),
                "median_wall_s": round(statistics.median(walls), 3), "median_cpu_s": round(statistics.median(cpus), 3)}

    def compare(drtool: str, plain: str) -> dict[str, Any]:
        d, p = side(drtool), side(plain)
        return {"drtool": d, "plain_boto3": p, "wall_ratio": round(d["wall_s"] / p["wall_s"], 2),
                "cpu_ratio": round(d["cpu_s"] / p["cpu_s"], 2),
                "median_wall_ratio": round(d["median_wall_s"] / p["median_wall_s"], 2),
                "median_cpu_ratio": round(d["median_cpu_s"] / p["median_cpu_s"], 2)}

    by_op = {k: dict(sorted({op: v.count(op) for op in v}.items())) for k, v in counts.items()}
    return {"rounds": len(rows["drtool"]), "in_process": compare("drtool", "plain"),
            "fresh_process": compare("drtool_cli", "plain_cli"),
            "api_calls": {"drtool": len(counts["drtool"]), "plain_boto3": len(counts["plain"]),
                          "drtool_by_operation": by_op["drtool"], "plain_by_operation": by_op["plain"]}}


def table(out: dict[str, Any]) -> str:
    lines = [f"instance-termination drill vs a plain boto3 script, best of {out['rounds']} rounds "
             "(median ratios in brackets)",
             "| comparison | drtool wall / CPU s | plain boto3 wall / CPU s | wall ratio | CPU ratio |",
             "|---|---|---|---|---|"]
    for key, label in (("in_process", "library, in-process (warm)"), ("fresh_process", "fresh process (CLI)")):
        row = out[key]
        d, p = row["drtool"], row["plain_boto3"]
        lines.append(f"| {label} | {d['wall_s']} / {d['cpu_s']} | {p['wall_s']} / {p['cpu_s']} | "
                     f"{row['wall_ratio']}x ({row['median_wall_ratio']}x) | "
                     f"{row['cpu_ratio']}x ({row['median_cpu_ratio']}x) |")
    calls = out["api_calls"]
    lines += ["", f"AWS calls: drtool {calls['drtool']}, plain {calls['plain_boto3']}",
              "drtool: " + ", ".join(f"{k} x{v}" for k, v in calls["drtool_by_operation"].items()),
              "plain:  " + ", ".join(f"{k} x{v}" for k, v in calls["plain_by_operation"].items())]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
