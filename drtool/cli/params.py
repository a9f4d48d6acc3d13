"""`--param NAME=VALUE` (repeatable): the option and its parsing; typing is in
`drtool.overrides`. Imports only click at module level."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def param_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--param NAME=VALUE`, repeatable, collected as `params`."""
    return click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
                        help="Override a drill parameter (typed by the scenario). Repeatable.")(func)


def split_params(raw: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`("a=1", "b=x=y")` -> `{"a": "1", "b": "x=y"}`; UsageError for a missing `=` or name."""
    from drtool.errors import UsageError

    out: dict[str, str] = {}
    for item in raw:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--param {item!r}: expected NAME=VALUE", "e.g. --param dr_capacity=3")
        out[name] = value
    return out


