"""Availability Zones given by AZ ID, resolved to the acting account's zone names.

AZ names (`us-east-1a`) are mapped to physical zones independently per account in the older
regions, so `us-east-1a` in the networking account may be another building than in the
workload account; AZ IDs (`use1-az1`) are the same physical zone in every account (AWS RAM
User Guide, "Availability Zone IDs for your AWS resources",
https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html; "AZ IDs",
https://docs.aws.amazon.com/global-infrastructure/latest/regions/az-ids.html). EC2 APIs take
names, so an AZ ID is translated with DescribeAvailabilityZones (its `ZoneId` -> `ZoneName`,
Amazon EC2 API Reference) once per (account, region) and cached on that account's session
for the run. A bare letter (`a`) means the step's region plus that letter.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from drtool.aws.session_cache import SessionCache
from drtool.documents.regions import AZ_ID_PATTERN
from drtool.errors import DrToolError

IAM = ["ec2:DescribeAvailabilityZones"]
# FIS target filter paths that hold a zone name: an instance's `Placement.AvailabilityZone`, a
# subnet's `AvailabilityZone` (FIS User Guide, "Targets for AWS FIS", resource filters,
# https://docs.aws.amazon.com/fis/latest/userguide/targets.html#target-filters). Shared by
# fis.experiment (AZ IDs there are translated) and the FIS importer (they become `az:`).
FIS_AZ_PATHS = frozenset({"Placement.AvailabilityZone", "AvailabilityZone"})
_LETTER = re.compile(r"^[a-z]$")

_MAPS: SessionCache[str, dict[str, str]] = SessionCache()   # region -> {AZ ID: zone name}
_lock = threading.Lock()      # held over the describe: concurrent lookups make one call


@dataclass(frozen=True)
class ZoneRef:
    """One zone as the document gave it and as the acting account names it."""

    given: str
    name: str                    # the zone name in the acting account (what EC2 APIs take)
    zone_id: str | None = None   # set when the document gave an AZ ID

    @property
    def label(self) -> str:
        """`use1-az1 (us-east-1b)` for an AZ ID, else just the name."""
        return f"{self.zone_id} ({self.name})" if self.zone_id else self.name


def is_az_id(value: str) -> bool:
    return bool(AZ_ID_PATTERN.fullmatch(value))


def zone_names(aws: Any, region: str) -> dict[str, str]:
    """AZ ID -> zone name in `aws`'s account and `region`: one DescribeAvailabilityZones per
    (session, region), cached while the session lives (one session per account per run)."""
    with _lock:
        cached = _MAPS.of(aws)
        if region not in cached:
            zones = aws.client("ec2", region).describe_availability_zones()["AvailabilityZones"]
            cached[region] = {z["ZoneId"]: z["ZoneName"] for z in zones if z.get("ZoneId") and z.get("ZoneName")}
        return cached[region]


def resolve_az(ctx: Any, value: str, region: str | None = None) -> ZoneRef:
    """`value` (zone name, AZ ID or letter) as a zone name in the context's account and
    `region` (default: the context's). An AZ ID the account lacks there is an error naming
    the IDs it has; the translation is journaled with both ID and name."""
    region = region or ctx.region
    if _LETTER.fullmatch(value):
        return ZoneRef(value, region + value)
    if not is_az_id(value):
        return ZoneRef(value, value)
    names = zone_names(ctx.aws, region)
    account = getattr(ctx, "account", None) or "the drill's own"
    if value not in names:
        known = ", ".join(sorted(names)) or "none"
        raise DrToolError(f"AZ ID {value} is not an Availability Zone of {region} in {account} account "
                          f"(its AZ IDs there: {known})", "name an AZ ID of the step's region (e.g. use1-az1 for "
                          "us-east-1), or the zone's name")
    ref = ZoneRef(value, names[value], value)
    if hasattr(ctx, "note"):
        ctx.note(f"AZ ID {value} is {ref.name} in {account} account ({region})", az_id=value, az=ref.name,
                 region=region, account=getattr(ctx, "account", None))
    return ref
