"""Turning validation errors into `file:line:col` problems; the one "did you mean" helper."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from drtool.errors import Problem
from drtool.loader import Loaded


def closest(name: str, options: Iterable[str]) -> str | None:
    """The option most like `name`, if one is close enough to suggest."""
    found = difflib.get_close_matches(str(name), [str(o) for o in options], n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """"; did you mean 'x'?" or ""."""
    suggestion = closest(name, options)
    return f"; did you mean {suggestion!r}?" if suggestion else ""


def _shorten(message: str) -> str:
    return message if len(message) <= 300 else message[:297] + "..."


def _document_loc(data: Any, loc: tuple, keep_last: bool) -> tuple:
    """`loc` without pydantic's union-branch and validator labels: only the keys and
    indexes that exist in the document at that point (and the missing key itself)."""
    kept = []
    for i, part in enumerate(loc):
        part = "with" if part == "with_" else part
        last = i == len(loc) - 1
        present = (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data))
        if present:
            data = data[part]
        elif not (keep_last and last):
            continue
        kept.append(part)
    return tuple(kept)


def pydantic_problems(loaded: Loaded, exc: ValidationError, prefix: tuple = (),
                      skip_placeholders: bool = False, data: Any = None) -> list[Problem]:
    """One problem per validation error, at the line of the key it concerns. `data` is
    what was validated (default: the document at `prefix`)."""
    if data is None:
        data = loaded.data
        for part in prefix:
            data = data.get(part) if isinstance(data, dict) else (
                data[part] if isinstance(data, list) and isinstance(part, int) and part < len(data) else None)
    problems = []
    seen: set[tuple] = set()
    for err in exc.errors():
        kind = err["type"]
        loc = _document_loc(data, tuple(err["loc"]), keep_last=kind in ("missing", "extra_forbidden"))
        if skip_placeholders and kind not in ("missing", "extra_forbidden") and "${" in repr(err.get("input")):
            continue
        message = err["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden" and loc:
            problem = loaded.problem((*prefix, *loc), f"unknown key {loc[-1]!r}")
        elif kind == "missing" and loc:
            problem = loaded.problem((*prefix, *loc[:-1]), f"missing required key {loc[-1]!r}")
        else:
            if loc:
                message = f"{'.'.join(str(x) for x in loc)}: {message}"
            problem = loaded.problem((*prefix, *loc), _shorten(message))
        key = (problem.line, problem.col, problem.message)
        if key not in seen:                   # a union reports each branch; say it once
            seen.add(key)
            problems.append(problem)
    return problems
