"""Turning validation errors into `file:line:col` problems; the one "did you mean" helper."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from pydantic import ValidationError

from drtool.errors import Problem
from drtool.loader import Loaded

# pydantic's union/validator branch names that are not keys of the document
_NOT_KEYS = {"function-after", "function-before", "function-plain", "str", "int", "float", "bool",
             "literal['all']", "SelectCount", "SelectPercent", "constrained-str", "lax-or-strict"}


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


def pydantic_problems(loaded: Loaded, exc: ValidationError, prefix: tuple = (),
                      skip_placeholders: bool = False) -> list[Problem]:
    """One problem per validation error, at the line of the key it concerns."""
    problems = []
    seen: set[tuple] = set()
    for err in exc.errors():
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and (x in _NOT_KEYS or x.startswith(
            ("function-", "constrained-")))))
        loc = tuple("with" if x == "with_" else x for x in loc)
        if skip_placeholders and err["type"] not in ("missing", "extra_forbidden") and "${" in repr(err.get("input")):
            continue
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        elif err["type"] == "missing":
            problem = loaded.problem((*prefix, *loc[:-1]), f"missing required key {loc[-1]!r}")
        elif loc:
            message = f"{'.'.join(str(x) for x in loc)}: {message}"
        if err["type"] != "missing":
            problem = loaded.problem((*prefix, *loc), _shorten(message))
        key = (problem.line, problem.col, problem.message)
        if key not in seen:                   # a union reports each branch; say it once
            seen.add(key)
            problems.append(problem)
    return problems
