"""Selector -> resources: resolve with a registered target type, then apply `select`."""

from __future__ import annotations

import dataclasses
import math
import random

from drtool.context import StepContext
from drtool.errors import DrToolError
from drtool.registry import TARGETS
from drtool.resources import Resource
from drtool.selectors import SelectCount, TargetSelector


def select(resources: list[Resource], selector: TargetSelector, rng: random.Random) -> list[Resource]:
    """Apply `selector.select`: all, a count, or a percent (rounded up).

    The input is sorted by id first, so the pick depends only on the resources and the
    rng's seed. A random pick says so in each chosen resource's `selected_by`.
    """
    ordered = sorted(resources, key=lambda r: (r.id, r.region))
    spec = selector.select
    if spec == "all" or not ordered:
        return ordered
    if isinstance(spec, SelectCount):
        n, how = min(spec.count, len(ordered)), f"count={spec.count}"
    else:
        # round() first so 30% of 10 is 3, not ceil(3.0000000000000004) = 4
        n, how = math.ceil(round(len(ordered) * spec.percent / 100, 9)), f"percent={spec.percent:g}"
    picked = sorted(rng.sample(ordered, n), key=lambda r: (r.id, r.region))
    note = f"random {n} of {len(ordered)} ({how})"
    return [dataclasses.replace(r, selected_by=f"{r.selected_by}; {note}" if r.selected_by else note)
            for r in picked]


def resolve(ctx: StepContext, target_type: str, selector: TargetSelector, rng: random.Random) -> list[Resource]:
    """Resolve `selector` with the registered target type (read-only), then apply `select`.

    Targets live in `selector.region or ctx.region`; a resolver that strays is a bug. AZ IDs
    in `az` are translated to the acting account's zone names first.
    """
    region = selector.region or ctx.region
    if selector.azs:   # AZ IDs and letters -> this account's zone names (drtool.aws.az_ids)
        from drtool.aws.az_ids import resolve_az

        zones = [resolve_az(ctx, az, region) for az in selector.azs]
        selector = selector.with_zone_names([(z.name, z.zone_id) for z in zones])
    found = TARGETS.get(target_type).func(ctx, selector)
    stray = sorted(r.id for r in found if r.region != region)
    if stray:
        raise DrToolError(f"target type {target_type} returned resources outside {region}: {', '.join(stray)}")
    return select(found, selector, rng)
