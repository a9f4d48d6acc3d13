"""Options shared by commands. Imports only click."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def aws_options(func: Callable[..., Any] | None = None, *, multiple_regions: bool = False) -> Any:
    """`--profile` and `--region`, which every AWS-facing command takes (spec section 1).

    `@aws_options`, or `@aws_options(multiple_regions=True)` where one call spans regions."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        help_text = ("Region to check; repeat for several (default: AWS_REGION / profile)." if multiple_regions
                     else "AWS region (default: AWS_REGION / profile).")
        f = click.option("--region", multiple=multiple_regions, metavar="REGION", help=help_text)(f)
        return click.option("--profile", default=None, help="AWS profile (default: AWS_PROFILE).")(f)

    return decorate(func) if func is not None else decorate


def echo_err(message: str) -> None:
    click.echo(message, err=True)
