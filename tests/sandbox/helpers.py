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
POLL = 0.05  # seconds between a test's polls (elapsed_until)


def tolerance(truth: Any) -> float:
    """How far a measured timing may sit from the truth, from the sandbox's own delay table:
    its coarsest step (metric sampling and alarm evaluation, or ten simulator ticks when
    larger: a change lands on a tick and the lock may delay it) plus one poll of the test."""
    return max(truth.metric_interval, 10 * truth.tick) + POLL


def elapsed_until(condition: Callable[[], Any], timeout: float = 10.0, interval: float = POLL) -> float:
    """Seconds (monotonic, from now) until `condition()` is truthy; fails the test on timeout."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(interval)


def assert_timing(what: str, measured: float, truth: float, table: Any) -> None:
    """Measured within `tolerance(table)` of the truth (printed: `pytest -s` shows the accuracy)."""
    allowed = tolerance(table)
    print(f"timing {what}: measured {measured:.3f}s, truth {truth:.3f}s, error {measured - truth:+.3f}s "
          f"(allowed {allowed:.2f}s)")
    assert abs(measured - truth) <= allowed, f"{what}: measured {measured:.3f}s vs truth {truth:.3f}s"


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
