"""End-to-end fixtures: drtool as a subprocess against moto's ThreadedMotoServer.

Everything stays on loopback: the moto server, the health endpoints, and the CLI's
AWS_ENDPOINT_URL. Credentials are fake (set by tests/conftest.py and passed on).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli_env(moto_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "PYTHONPATH": str(ROOT), "DRTOOL_SCENARIOS": str(ROOT / "scenarios")})
    env.update(extra)
    return env


def drtool(args: list[str], moto_url: str, cwd: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "drtool", *args], cwd=cwd, env=cli_env(moto_url, **env),
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def spawn(args: list[str], moto_url: str, cwd: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "drtool", *args], cwd=cwd, env=cli_env(moto_url, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def client(service: str, moto_url: str, region: str = "us-east-1"):
    import boto3

    return boto3.client(service, region_name=region, endpoint_url=moto_url,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


class HealthEndpoint:
    """A loopback /health that answers 503 once `fault_seen()` is true, then 200 again
    `delay` seconds after the first request that saw the fault: a recovery whose true
    duration the test controls."""

    def __init__(self, fault_seen: Callable[[], bool], delay: float) -> None:
        self.fault_seen = fault_seen
        self.delay = delay
        self.first_seen: float | None = None
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                status = endpoint.status()
                body = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def status(self) -> int:
        with self.lock:
            if self.first_seen is None:
                if not self.fault_seen():
                    return 200
                self.first_seen = time.time()
            return 200 if time.time() - self.first_seen >= self.delay else 503

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/health"

    def __enter__(self) -> HealthEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def web_estate(moto_url):
    """Three subnets (one per AZ) tagged app=web, an ASG of 3 behind a target group."""
    ec2 = client("ec2", moto_url)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    tags = [{"Key": "app", "Value": "web"}, {"Key": "drill", "Value": "allowed"}]
    subnets = {}
    for i, az in enumerate(("us-east-1a", "us-east-1b", "us-east-1c")):
        subnets[az] = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=az,
                                        TagSpecifications=[{"ResourceType": "subnet", "Tags": tags}])["Subnet"]["SubnetId"]
    lt = ec2.create_launch_template(LaunchTemplateName="web-lt",
                                    LaunchTemplateData={"ImageId": "ami-12345678", "InstanceType": "t3.micro"})
    elb = client("elbv2", moto_url)
    tg = elb.create_target_group(Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc,
                                 TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    asg = client("autoscaling", moto_url)
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web-asg", MinSize=3, MaxSize=6, DesiredCapacity=3,
        LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplate"]["LaunchTemplateId"], "Version": "$Latest"},
        VPCZoneIdentifier=",".join(subnets.values()), TargetGroupARNs=[tg],
        Tags=[{"Key": t["Key"], "Value": t["Value"], "PropagateAtLaunch": True} for t in tags])
    return {"vpc": vpc, "subnets": subnets, "target_group": tg, "group": "web-asg"}


def instance_states(moto_url: str) -> dict[str, str]:
    ec2 = client("ec2", moto_url)
    return {i["InstanceId"]: i["State"]["Name"] for r in ec2.describe_instances()["Reservations"]
            for i in r["Instances"]}


def acl_associations(moto_url: str, vpc: str) -> dict[str, str]:
    ec2 = client("ec2", moto_url)
    out = {}
    for acl in ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"]:
        for assoc in acl["Associations"]:
            out[assoc["SubnetId"]] = acl["NetworkAclId"]
    return out


def write_drill(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
