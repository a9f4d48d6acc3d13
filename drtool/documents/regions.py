"""AWS region and availability-zone names, checked against botocore's partition data.

botocore ships `data/partitions.json` (older releases: `data/endpoints.json`), the same
table the SDKs use to build endpoints (https://docs.aws.amazon.com/general/latest/gr/rande.html).
A region it does not list is refused with a "did you mean" hint: a typo or a trailing
space would otherwise only fail mid-drill. Without botocore a strict pattern is used.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

# Fallback when botocore's data is unavailable: us-east-1, us-gov-west-1, us-iso-east-1, ...
REGION_PATTERN = re.compile(r"^[a-z]{2,4}(-gov|-iso[a-z]?|-isoe|-de)?-[a-z]+-\d{1,2}$")
# AZ IDs (use1-az1, usw2-lax1-az1) are the same in every account; names are region + letter,
# or region + "-" + zone group for Local and Wavelength Zones (us-west-2-lax-1a).
AZ_ID_PATTERN = re.compile(r"^[a-z]{2,6}\d{1,2}(-[a-z0-9]+)*-az\d{1,2}$")
_AZ_SUFFIX = re.compile(r"^([a-z]|-[a-z0-9]+(-[a-z0-9]+)*[a-z]?)$")


@functools.lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region in botocore's partition data (empty if botocore is not installed)."""
    try:
        import botocore
    except ImportError:  # pragma: no cover - botocore is a dependency
        return frozenset()
    data = Path(botocore.__file__).parent / "data"
    regions: set[str] = set()
    try:
        if (data / "partitions.json").is_file():
            for part in json.loads((data / "partitions.json").read_text())["partitions"]:
                regions.update(part.get("regions", {}))
        else:
            for part in json.loads((data / "endpoints.json").read_text())["partitions"]:
                regions.update(part.get("regions", {}))
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()
    return frozenset(r for r in regions if not r.endswith("-global"))


def _placeholder(value: str) -> bool:
    return "${" in value


def check_region(value: str) -> str | None:
    """None if `value` is a known region name, else a message saying why not."""
    if _placeholder(value):
        return None
    known = known_regions()
    if value in known or (not known and REGION_PATTERN.fullmatch(value)):
        return None
    shown = value if len(value) <= 40 else value[:37] + "..."
    hint = ""
    if value.strip() != value and value.strip() in known:
        hint = f"; remove the spaces around {value.strip()!r}"
    elif known:
        close = difflib.get_close_matches(value.strip().lower(), sorted(known), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown AWS region {shown!r}{hint}"


def check_az(value: str) -> str | None:
    """None if `value` is an AZ letter, an AZ name in a known region, or an AZ ID."""
    if _placeholder(value) or re.fullmatch(r"[a-z]", value) or AZ_ID_PATTERN.fullmatch(value):
        return None
    regions = known_regions()
    for region in regions or ():
        if value.startswith(region) and _AZ_SUFFIX.fullmatch(value[len(region):]):
            return None
    if not regions and re.fullmatch(r"[a-z]{2,4}(-[a-z]+)+-\d{1,2}[a-z]", value):
        return None
    shown = value if len(value) <= 40 else value[:37] + "..."
    return f"unknown availability zone {shown!r} (expected e.g. us-east-1a, or an AZ ID like use1-az1)"


def _is_region_field(name: str) -> bool:
    return name in ("region", "regions") or name.endswith(("_region", "_regions"))


def location_problems(model: Any, base: tuple = ()) -> list[tuple[tuple, str]]:
    """(path, message) for every bad region or AZ in a model tree (step `with:` and
    `targets:`, the `rpo:` block: models the document models do not own)."""
    found: list[tuple[tuple, str]] = []
    if not isinstance(model, BaseModel):
        return found
    for name, info in type(model).model_fields.items():
        value = getattr(model, name, None)
        key = info.alias or name
        if _is_region_field(name) or name in ("az", "azs"):
            check = check_region if _is_region_field(name) else check_az
            items = [(value, ())] if isinstance(value, str) else (
                [(v, (i,)) for i, v in enumerate(value)] if isinstance(value, list) else [])
            for item, sub in items:
                message = check(item) if isinstance(item, str) else None
                if message:
                    found.append(((*base, key, *sub), message))
        elif isinstance(value, BaseModel):
            found.extend(location_problems(value, (*base, key)))
    return found
