"""Helpers both importers share: ARNs, region placeholders and registry checks."""

from __future__ import annotations

from typing import Any

REGION = "${region}"


def arn_parts(arn: str) -> tuple[str, str, str, str] | None:
    """(service, region, account, resource id) of an ARN, or None if it is not one.

    `instance/i-1` -> `i-1`, `cluster:orders` -> `orders`, `alarm:high-5xx` -> `high-5xx`
    (ARN formats: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
    """
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) != 6 or parts[0] != "arn":
        return None
    resource = parts[5]
    rid = resource.split("/", 1)[1] if "/" in resource else resource.split(":", 1)[-1]
    return parts[2], parts[3], parts[4], rid


def unusable(kind: str, name: str, params: dict[str, Any]) -> str | None:
    """Why a step `name` with `params` would not validate in this drtool, or None.

    Checked against the live registry, so an importer never emits a step the running
    drtool cannot bind (e.g. `fis.experiment` before that action exists)."""
    from pydantic import ValidationError

    from drtool.registry import ACTIONS, PROBES, UnknownEntry

    registry = ACTIONS if kind == "action" else PROBES
    try:
        entry = registry.get(name)
    except UnknownEntry:
        return f"this drtool has no {kind} {name!r}"
    try:
        entry.params.model_validate(params)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{name} does not take these parameters ({where}: {first['msg']})"
    return None


def region_of(regions: set[str], fallback: str | None) -> tuple[str, str | None]:
    """The drill's `region` parameter and, when it had to be guessed, a note saying so."""
    if fallback:
        return fallback, None
    if len(regions) == 1:
        return next(iter(regions)), None
    if regions:
        chosen = sorted(regions)[0]
        return chosen, f"resources span regions {', '.join(sorted(regions))}: the drill binds region={chosen}"
    return "us-east-1", "the source names no region: the drill binds region=us-east-1 (pass --region)"
