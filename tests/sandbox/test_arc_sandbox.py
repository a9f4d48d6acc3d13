"""ARC in the sandbox: the fake routing controls are served by the sandbox server (boto3 and
the AWS CLI see them), a routing control Off makes its RECOVERY_CONTROL health check fail and
moves DNS (the bundled region-loss drill: test_arc_region_loss.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.sandbox.helpers import elapsed_until, get


@pytest.fixture(scope="module")
def webshop():
    from drtool.sandbox import Sandbox

    sb = Sandbox.load("webshop").start()
    yield sb
    sb.stop()


def _cluster(sb):
    config = sb.client("route53-recovery-control-config", "us-west-2")
    arn = sb.values()["routing_control.use1"]
    panel = config.describe_routing_control(RoutingControlArn=arn)["RoutingControl"]["ControlPanelArn"]
    cluster = config.describe_control_panel(ControlPanelArn=panel)["ControlPanel"]["ClusterArn"]
    endpoint = config.describe_cluster(ClusterArn=cluster)["Cluster"]["ClusterEndpoints"][2]
    return sb.client("route53-recovery-cluster", endpoint["Region"]), endpoint


def test_routing_control_off_fails_its_check_and_moves_dns(webshop):
    sb = webshop
    cluster, endpoint = _cluster(sb)
    assert endpoint["Endpoint"] == sb.endpoint_url
    use1 = sb.values()["routing_control.use1"]
    r53 = sb.client("route53")
    [check] = sb.client("route53-recovery-control-config", "us-west-2").list_associated_route53_health_checks(
        RoutingControlArn=use1)["HealthCheckIds"]
    url = sb.values()["endpoint"] + "/health"
    assert get(url)[1]["region"] == "us-east-1"
    cluster.update_routing_control_state(RoutingControlArn=use1, RoutingControlState="Off")
    try:
        elapsed_until(lambda: get(url)[1]["region"] == "us-west-2", timeout=5)
        status = r53.get_health_check_status(HealthCheckId=check)["HealthCheckObservations"]
        assert all(o["StatusReport"]["Status"].startswith("Failure") for o in status)
    finally:
        cluster.update_routing_control_state(RoutingControlArn=use1, RoutingControlState="On")
    elapsed_until(lambda: get(url)[1]["region"] == "us-east-1", timeout=5)


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_the_aws_cli_sees_the_fake(webshop):
    env = {**os.environ, **webshop.env()}
    out = subprocess.run(["aws", "route53-recovery-cluster", "list-routing-controls", "--region", "us-west-2",
                          "--output", "json"], capture_output=True, text=True, env=env, timeout=60, check=True)
    states = {c["RoutingControlName"]: c["RoutingControlState"] for c in json.loads(out.stdout)["RoutingControls"]}
    assert states == {"use1": "On", "usw2": "On"}
