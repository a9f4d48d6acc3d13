"""Scenario parameters: type-checking drill values and `${name}` substitution."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from drtool.documents.models import ParameterSpec
from drtool.durations import parse_duration

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def coerce_parameter(spec: ParameterSpec, value: Any) -> Any:
    """Type-check one parameter value; raise ValueError with a readable message."""
    kind = spec.type
    if kind in ("string", "secret"):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"expected a string, got {_shown(value)}")
        return str(value)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer, got {_shown(value)}")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {_shown(value)}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {_shown(value)}")
        return value
    if kind == "duration":
        return parse_duration(value)
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {_shown(value)}")
    return value


def substitute(value: Any, params: dict[str, Any], on_missing: Callable[[str], None]) -> Any:
    """Replace `${name}` everywhere in `value`. A whole-string placeholder keeps its type;
    `on_missing(name)` hears of every placeholder with no value (it is left as written)."""
    if isinstance(value, dict):
        return {k: substitute(v, params, on_missing) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, params, on_missing) for v in value]
    if not isinstance(value, str):
        return value
    whole = PLACEHOLDER.fullmatch(value)
    if whole:
        name = whole.group(1)
        if name in params:
            return params[name]
        on_missing(name)
        return value

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in params:
            return str(params[name])
        on_missing(name)
        return match.group(0)

    return PLACEHOLDER.sub(replace, value)
