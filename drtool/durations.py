"""Durations (spec section 3): `90s`, `15m`, `2h`, `7d`, decimals, or bare seconds.

Every duration is finite, non-negative and at most `MAX_SECONDS` (3660 days: ten years
covers a scorecard retention). Documents are untrusted (spec 7.4): `.inf`, `.nan` or a
400-digit number must be an error, not a drill that never ends or a crash deep in a run.
"""

from __future__ import annotations

import math
import re

MAX_SECONDS = 3660 * 86400.0
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*(\d{1,15}(?:\.\d{1,9})?|\.\d{1,9})\s*(ms|s|m|h|d)?\s*$")
_EXPECTED = "expected a duration like 90s, 15m, 2h, 7d or 0.25s"


def parse_duration(value: object) -> float:
    """Return seconds as a float; raise ValueError with a readable message otherwise."""
    seconds: float | None = None
    if isinstance(value, bool):
        raise ValueError(f"{_EXPECTED}, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value!r}")
        seconds = float(value) if value <= MAX_SECONDS else math.inf
    elif isinstance(value, float):
        if math.isnan(value):
            raise ValueError(f"{_EXPECTED}, got .nan")
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value!r}")
        seconds = value
    elif isinstance(value, str) and len(value) <= 64:
        match = _PATTERN.match(value)
        if match:
            seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds is None:
        shown = value if not isinstance(value, str) or len(value) <= 64 else value[:40] + "..."
        raise ValueError(f"{_EXPECTED}, got {shown!r}")
    if not seconds <= MAX_SECONDS:
        raise ValueError(f"a duration must be at most 3660d (ten years), got {_short(value)}")
    return seconds


def _short(value: object) -> str:
    text = repr(value) if not isinstance(value, int) or value < 10**20 else "a number with more than 20 digits"
    return text if len(text) <= 40 else text[:37] + "..."


def format_duration(seconds: float | None) -> str:
    """Short human form: 0.42s, 12.3s, 4m05s, 2h03m."""
    if seconds is None:
        return "-"
    if not math.isfinite(seconds):
        return str(seconds)
    if seconds < 60:
        return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours // 24}d{hours % 24:02d}h"
