"""Sandbox test helpers: a small estate with known behaviour numbers, polling, black-holing."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

TRUTH_ESTATE = Path(__file__).parent / "truth-estate.yaml"
TOLERANCE = 0.5  # seconds: measured timings must be within this of the truth


def elapsed_until(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> float:
    """Seconds (monotonic, from now) until `condition()` is truthy; fails the test on timeout."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(interval)


def assert_timing(what: str, measured: float, truth: float) -> None:
    """Measured within TOLERANCE of the truth (printed, so `pytest -s` shows the accuracy)."""
    print(f"timing {what}: measured {measured:.3f}s, truth {truth:.3f}s, error {measured - truth:+.3f}s")
    assert abs(measured - truth) <= TOLERANCE, f"{what}: measured {measured:.3f}s vs truth {truth:.3f}s"


def get(url: str) -> tuple[int, dict[str, Any]]:
    """GET a sandbox HTTP endpoint: (status, JSON body)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def blackhole(ec2: Any, vpc: str, subnets: list[str]) -> dict[str, str]:
    """Swap the subnets' network ACL for a deny-all one (what ec2.blackhole-subnets does).
    Returns {new association id: original ACL id} for `restore`."""
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    for egress in (False, True):
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=1, Protocol="-1", RuleAction="deny",
                                     Egress=egress, CidrBlock="0.0.0.0/0")
    undo = {}
    found = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": subnets}])
    for nacl in found["NetworkAcls"]:
        for assoc in nacl["Associations"]:
            if assoc["SubnetId"] in subnets:
                new = ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"],
                                                          NetworkAclId=acl)["NewAssociationId"]
                undo[new] = nacl["NetworkAclId"]
    return undo


def restore(ec2: Any, undo: dict[str, str]) -> None:
    for association, acl in undo.items():
        ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)
