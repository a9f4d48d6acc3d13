"""`drtool plan --matrix DRILLS... [--org --role NAME]`: the options, as one decorator, so
`plan` keeps its own signature (its callback is called unchanged without --matrix)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click


def matrix_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Adds `MORE...` drills, `--matrix`, `--org` and `--role` to `plan`."""

    @functools.wraps(func)
    def wrapper(*args: Any, more: tuple[str, ...], matrix: bool, org: bool, role: str | None,
                **kwargs: Any) -> Any:
        from drtool.errors import UsageError

        if not matrix:
            if more or org or role:
                raise UsageError("several drills, --org and --role are for --matrix",
                                 "drtool plan --matrix drills/ [--org --role NAME]")
            return func(*args, **kwargs)
        return print_matrix([kwargs["drill"], *more], org=org, role=role,
                            profile=kwargs.get("profile"), region=kwargs.get("region"))

    wrapper = click.argument("more", nargs=-1, type=click.Path(), metavar="[DRILLS]...")(wrapper)
    wrapper = click.option("--role", metavar="NAME", default=None, help=(
        "With --matrix: role name each job assumes in its account (entry role_arn)."))(wrapper)
    wrapper = click.option("--org", is_flag=True, help=(
        "With --matrix: fan out to every ACTIVE account of the AWS Organization (organizations:ListAccounts) "
        "that the drill's guardrails.accounts allows."))(wrapper)
    return click.option("--matrix", is_flag=True, help=(
        "Print a JSON job matrix {\"include\": [...]}: one entry per drill x account, for GitHub Actions "
        "strategy.matrix, Argo withParam, GitLab child pipelines or CronJobs. No AWS call without --org."))(wrapper)


def print_matrix(paths: list[str], *, org: bool, role: str | None, profile: str | None, region: str | None) -> int:
    import json

    from drtool.matrix import build, list_org_accounts

    accounts = None
    if org:
        from drtool.api import make_session

        accounts = list_org_accounts(make_session(profile=profile, region=region))
    click.echo(json.dumps(build(paths, org_accounts=accounts, role=role), indent=2))
    return 0
