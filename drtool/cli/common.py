"""Options shared by commands. Imports only click."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def aws_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--profile` and `--region`, which every AWS-facing command takes (spec section 1)."""
    func = click.option("--region", envvar=None, default=None,
                        help="AWS region (default: AWS_REGION / profile).")(func)
    func = click.option("--profile", default=None, help="AWS profile (default: AWS_PROFILE).")(func)
    return func


def echo_err(message: str) -> None:
    click.echo(message, err=True)
