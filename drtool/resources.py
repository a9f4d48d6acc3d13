"""Plain data passed between targets, actions, probes and the runner."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Resource:
    """One resolved target. `selected_by` says in words why it was picked."""

    id: str
    type: str
    region: str
    arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    selected_by: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Outcome:
    """What an action did, as one human sentence plus data for later steps and the journal."""

    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProbeResult:
    """A probe's verdict with the sentence that explains it."""

    ok: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UndoSpec:
    """How to undo one change: the undo entry's name and its JSON-able parameters."""

    name: str
    params: dict[str, Any]
    region: str | None = None
    account: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "params": self.params, "region": self.region, "account": self.account}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UndoSpec:
        return cls(data["name"], dict(data.get("params") or {}), data.get("region"), data.get("account"))
