"""Fake Route 53 ARC routing control (moto has none): clusters, control panels, routing
controls and their On/Off states, with AWS's documented states and errors.

- Clusters, control panels and routing controls are created `PENDING` and become `DEPLOYED`
  (Cluster/ControlPanel/RoutingControl `Status`, route53-recovery-control-config API
  reference); here after `deploy_delay` seconds (0: at once).
- A cluster has five regional endpoints ("a set of five redundant Regional endpoints",
  route53-recovery-cluster API reference); in the sandbox they all point at the sandbox server.
- A new routing control is Off ("When you create a routing control, its state is set to Off
  by default", ARC developer guide, "Create routing control components").
- Errors: a malformed ARN is a `ValidationException`; a well-formed ARN that does not exist a
  `ResourceNotFoundException` (404); updating a control whose panel is not `DEPLOYED` a
  `ConflictException` (409) (route53-recovery-cluster API reference, Errors).
- A Route 53 health check of type RECOVERY_CONTROL is healthy while its routing control is
  On and unhealthy while it is Off (ARC developer guide, "Routing control health checks").
  moto drops `RoutingControlArn` from such checks, so the association is kept here
  (`associate`, and `ListAssociatedRoute53HealthChecks`).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ENDPOINT_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1", "ap-southeast-2")
_ARN = re.compile(r"^arn:aws:route53-recovery-control::\d{12}:(cluster|controlpanel)/[0-9a-z]+"
                  r"(/routingcontrol/[0-9a-z]+)?$")


class ArcError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class _Thing:
    arn: str
    name: str
    created: float
    parent: str = ""            # cluster of a panel, panel of a control
    state: str = "Off"          # routing controls only
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class ArcFake:
    """State of the fake, shared by the control-config and cluster APIs."""

    account: str
    endpoint_url: str
    deploy_delay: float = 0.0
    clock: Callable[[], float] = time.monotonic
    clusters: dict[str, _Thing] = field(default_factory=dict)
    panels: dict[str, _Thing] = field(default_factory=dict)
    controls: dict[str, _Thing] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)       # health check id -> routing control ARN
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- helpers ------------------------------------------------------------------------

    def _status(self, thing: _Thing) -> str:
        return "DEPLOYED" if self.clock() - thing.created >= self.deploy_delay else "PENDING"

    def _arn(self, kind: str) -> str:
        return f"arn:aws:route53-recovery-control::{self.account}:{kind}/{uuid.uuid4().hex[:16]}"

    def _get(self, table: dict[str, _Thing], arn: Any, what: str) -> _Thing:
        if not isinstance(arn, str) or not _ARN.match(arn):
            raise ArcError(400, "ValidationException", f"{what} ARN {arn!r} is not valid")
        if arn not in table:
            raise ArcError(404, "ResourceNotFoundException", f"{what} {arn} not found")
        return table[arn]

    def associate(self, health_check_id: str, routing_control_arn: str) -> None:
        with self._lock:
            self._get(self.controls, routing_control_arn, "routing control")
            self.checks[health_check_id] = routing_control_arn

    def check_healthy(self, health_check_id: str) -> bool | None:
        """Route 53's verdict on a RECOVERY_CONTROL check: On -> healthy; None if not one."""
        with self._lock:
            arn = self.checks.get(health_check_id)
            thing = self.controls.get(arn or "")
            return None if thing is None else thing.state == "On"

    # --- control-config -----------------------------------------------------------------

    def cluster(self, thing: _Thing) -> dict[str, Any]:
        return {"ClusterArn": thing.arn, "Name": thing.name, "Status": self._status(thing), "Owner": self.account,
                "NetworkType": "IPV4",
                "ClusterEndpoints": [{"Endpoint": self.endpoint_url, "Region": r} for r in ENDPOINT_REGIONS]}

    def panel(self, thing: _Thing) -> dict[str, Any]:
        count = sum(1 for c in self.controls.values() if c.parent == thing.arn)
        return {"ClusterArn": thing.parent, "ControlPanelArn": thing.arn, "Name": thing.name,
                "Status": self._status(thing), "DefaultControlPanel": False, "RoutingControlCount": count,
                "Owner": self.account}

    def control(self, thing: _Thing) -> dict[str, Any]:
        return {"ControlPanelArn": thing.parent, "Name": thing.name, "RoutingControlArn": thing.arn,
                "Status": self._status(thing), "Owner": self.account}

    def create_cluster(self, name: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
        with self._lock:
            thing = _Thing(self._arn("cluster"), name, self.clock(), tags=dict(tags or {}))
            self.clusters[thing.arn] = thing
            return {"Cluster": self.cluster(thing)}

    def create_control_panel(self, cluster_arn: str, name: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
        with self._lock:
            self._get(self.clusters, cluster_arn, "cluster")
            thing = _Thing(self._arn("controlpanel"), name, self.clock(), cluster_arn, tags=dict(tags or {}))
            self.panels[thing.arn] = thing
            return {"ControlPanel": self.panel(thing)}

    def create_routing_control(self, cluster_arn: str, name: str, panel_arn: str | None) -> dict[str, Any]:
        with self._lock:
            self._get(self.clusters, cluster_arn, "cluster")
            if panel_arn is None:
                raise ArcError(400, "ValidationException", "ControlPanelArn is required by this fake")
            self._get(self.panels, panel_arn, "control panel")
            arn = f"{panel_arn}/routingcontrol/{uuid.uuid4().hex[:16]}"
            thing = _Thing(arn, name, self.clock(), panel_arn)
            self.controls[arn] = thing
            return {"RoutingControl": self.control(thing)}

    def describe(self, kind: str, arn: str) -> dict[str, Any]:
        with self._lock:
            if kind == "Cluster":
                return {"Cluster": self.cluster(self._get(self.clusters, arn, "cluster"))}
            if kind == "ControlPanel":
                return {"ControlPanel": self.panel(self._get(self.panels, arn, "control panel"))}
            return {"RoutingControl": self.control(self._get(self.controls, arn, "routing control"))}

    def list_controls(self, panel_arn: str, with_state: bool) -> list[dict[str, Any]]:
        with self._lock:
            panel = self._get(self.panels, panel_arn, "control panel") if panel_arn else None
            out = []
            for c in self.controls.values():
                if panel is not None and c.parent != panel.arn:
                    continue
                if with_state:
                    owner = self.panels[c.parent]
                    out.append({"ControlPanelArn": owner.arn, "ControlPanelName": owner.name,
                                "RoutingControlArn": c.arn, "RoutingControlName": c.name,
                                "RoutingControlState": c.state, "Owner": self.account})
                else:
                    out.append(self.control(c))
            return out

    def _taggable(self, arn: str) -> _Thing:
        """Clusters and control panels carry tags (CreateCluster/CreateControlPanel `Tags`)."""
        if arn in self.clusters:
            return self.clusters[arn]
        return self._get(self.panels, arn, "resource")

    def list_tags(self, arn: str) -> dict[str, Any]:
        with self._lock:
            return {"Tags": dict(self._taggable(arn).tags)}

    def tag(self, arn: str, tags: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            self._taggable(arn).tags.update(tags)
            return {}

    def associated_checks(self, arn: str) -> list[str]:
        with self._lock:
            self._get(self.controls, arn, "routing control")
            return sorted(h for h, a in self.checks.items() if a == arn)

    # --- cluster (data plane) -----------------------------------------------------------

    def get_state(self, arn: Any) -> dict[str, Any]:
        with self._lock:
            thing = self._get(self.controls, arn, "routing control")
            return {"RoutingControlArn": thing.arn, "RoutingControlState": thing.state,
                    "RoutingControlName": thing.name}

    def update_states(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """All or nothing, as UpdateRoutingControlStates applies a batch together."""
        with self._lock:
            found = []
            for entry in entries:
                thing = self._get(self.controls, entry.get("RoutingControlArn"), "routing control")
                state = entry.get("RoutingControlState")
                if state not in ("On", "Off"):
                    raise ArcError(400, "ValidationException", f"RoutingControlState must be On or Off, not {state!r}")
                if self._status(self.panels[thing.parent]) != "DEPLOYED":
                    raise ArcError(409, "ConflictException", f"control panel {thing.parent} is not DEPLOYED yet")
                found.append((thing, state))
            for thing, state in found:
                thing.state = state
            return {}


_ACTIVE: list[ArcFake] = []


def activate(fake: ArcFake | None) -> None:
    """The fake the sandbox's routing model reads (one sandbox per process, like moto)."""
    _ACTIVE.clear()
    if fake is not None:
        _ACTIVE.append(fake)


def active() -> ArcFake | None:
    return _ACTIVE[0] if _ACTIVE else None
