"""Tamper evidence: canonical JSON and digests of scorecards."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8 (RFC 8785 style for the values drtool writes)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def scorecard_digest(scorecard: dict[str, Any]) -> str:
    """sha256 over the canonical scorecard without its `integrity` block."""
    body = {k: v for k, v in scorecard.items() if k != "integrity"}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def seal(scorecard: dict[str, Any], previous_sha256: str | None) -> dict[str, Any]:
    """Return the scorecard with `integrity` filled in."""
    sealed = {k: v for k, v in scorecard.items() if k != "integrity"}
    sealed["integrity"] = {"sha256": scorecard_digest(sealed), "previous_sha256": previous_sha256}
    return sealed
