"""Judge an inventory against an RPO: pure, no AWS, `now` injected.

A resource complies when its newest recovery point stored in its own region is no older
than the RPO and, for every required copy region other than its own, a copy there holds
data no older than the RPO. A copy's age counts from the source point it was copied
from when that is known (otherwise from the copy's own time, which is never older).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from drtool.backups.inventory import Inventory
from drtool.backups.model import ProtectedResource, RecoveryPoint
from drtool.durations import format_duration
from drtool.timing import rfc3339


@dataclass(frozen=True)
class Verdict:
    """One resource's backup posture (`to_json` is the spec's shape, exactly)."""

    id: str
    type: str
    region: str
    newest_recovery_point_at: float | None
    age_s: float | None
    copy_regions: tuple[str, ...]
    compliant: bool
    reason: str
    newest_kind: str | None = None
    newest_ref: str | None = None
    account: str | None = None   # set by the organization fan-out

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "region": self.region,
                "newest_recovery_point_at": rfc3339(self.newest_recovery_point_at),
                "age_s": None if self.age_s is None else round(self.age_s, 3),
                "copy_regions": list(self.copy_regions), "compliant": self.compliant, "reason": self.reason}


@dataclass(frozen=True)
class CheckReport:
    rpo_s: float
    checked_at: float
    required_copy_regions: tuple[str, ...]
    verdicts: tuple[Verdict, ...]

    @property
    def compliant(self) -> bool:
        return all(v.compliant for v in self.verdicts)

    @property
    def violations(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.compliant]

    def to_json(self) -> dict[str, Any]:
        return {"rpo_s": self.rpo_s, "resources": [v.to_json() for v in self.verdicts]}


def _newest(points: Sequence[RecoveryPoint]) -> RecoveryPoint | None:
    return max(points, key=lambda p: p.at, default=None)


def judge_resource(resource: ProtectedResource, points: Sequence[RecoveryPoint], *, rpo_s: float, now: float,
                   copy_regions: Sequence[str] = ()) -> Verdict:
    """The verdict for one resource from all its recovery points (local and copies)."""
    local = [p for p in points if p.region == resource.region]
    copies: dict[str, list[RecoveryPoint]] = {}
    for point in points:
        if point.region != resource.region:
            copies.setdefault(point.region, []).append(point)
    newest = _newest(local)
    age = None if newest is None else max(0.0, now - newest.at)
    rpo = format_duration(rpo_s)
    problems: list[str] = []
    if newest is None:
        problems.append("no recovery point found")
    elif age is not None and age > rpo_s:
        problems.append(f"newest recovery point ({newest.kind}) is {format_duration(age)} old, over the RPO of {rpo}")
    for region in copy_regions:
        if region == resource.region:
            continue
        copy = _newest(copies.get(region, []))
        if copy is None:
            problems.append(f"no copy in {region}")
        elif now - copy.at > rpo_s:
            problems.append(f"newest copy in {region} is {format_duration(now - copy.at)} old, over the RPO of {rpo}")
    if problems:
        reason = "; ".join(problems)
    else:
        assert newest is not None and age is not None
        reason = f"newest recovery point ({newest.kind}) is {format_duration(age)} old, within the RPO of {rpo}"
        required = [r for r in copy_regions if r != resource.region]
        if required:
            reason += f"; copied to {', '.join(required)}"
    return Verdict(resource.id, resource.type, resource.region, None if newest is None else newest.at, age,
                   tuple(sorted(copies)), not problems, reason,
                   None if newest is None else newest.kind, None if newest is None else newest.ref)


def judge(inventory: Inventory, *, rpo_s: float, now: float, copy_regions: Sequence[str] | None = None) -> CheckReport:
    """Verdicts for every resource in the inventory (copy regions default to the inventory's)."""
    required = tuple(inventory.copy_regions if copy_regions is None else copy_regions)
    verdicts = tuple(judge_resource(r, inventory.points_for(r), rpo_s=rpo_s, now=now, copy_regions=required)
                     for r in inventory.resources)
    return CheckReport(rpo_s, now, required, verdicts)
