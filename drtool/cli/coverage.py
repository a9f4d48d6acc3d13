"""`drtool coverage`: service x disruption type coverage, posture and open actions."""

from __future__ import annotations

from typing import Any

import click

from drtool.cli.common import aws_options, echo_err


def load_results(results: str | None, profile: str | None, region: str | None) -> tuple[Any, list[Any], list[str]]:
    """(store, Results oldest first, warnings) from a results store; shared with `dashboard`."""
    from pathlib import Path

    from drtool.errors import UsageError
    from drtool.outputs.store import LocalStore, open_store, session_factory_for
    from drtool.services.results import read_results

    store = open_store(results, session_factory_for(profile, region))
    if isinstance(store, LocalStore) and not Path(store.root).is_dir():
        raise UsageError(f"results folder {store.root} does not exist", "pass --results DIR|s3://bucket/prefix")
    warnings: list[str] = []
    return store, read_results(store.list_runs(), warnings), warnings


def parse_now(now: str | None) -> float:
    import time

    from drtool.errors import UsageError
    from drtool.timing import parse_rfc3339

    try:
        instant = parse_rfc3339(now) if now else None
    except ValueError:
        raise UsageError(f"--now {now!r} is not an RFC 3339 timestamp") from None
    return instant if instant is not None else time.time()


@click.command("coverage", short_help="Service x disruption coverage, backup posture, open actions.")
@click.option("--services", "services_file", required=True, metavar="FILE", help="The services file (kind: services).")
@click.option("--results", default=None, metavar="DIR|s3://bucket/prefix", help="Results store (default ./drill-results).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--now", hidden=True, help="Evaluate as of this RFC 3339 instant (tests).")
@aws_options
@click.pass_context
def command(ctx: click.Context, services_file: str, results: str | None, as_json: bool, now: str | None,
            profile: str | None, region: str | None) -> None:
    """For every service x disruption type (instance, az, region, data-corruption): the
    newest live drill result against the service's objective, or why the cell is a gap
    (never drilled, sandbox only, overdue against the tier's `every`). Gaps come first,
    worst first (tier order, then region loss). Then backup posture per service and open
    follow-ups and review actions with their due dates. Sandbox runs are shown but never
    count as coverage.

    Exit 1 when a service of a tier with `gate: true` has an untested or overdue cell.
    """
    import json

    from drtool.services.coverage import coverage
    from drtool.services.estate import load_services
    from drtool.services.report import render_text, to_json

    estate = load_services(services_file)
    _store, found, warnings = load_results(results, profile, region)
    for warning in warnings:
        echo_err(f"warning: {warning}")
    cov = coverage(estate, found, parse_now(now))
    if as_json:
        click.echo(json.dumps(to_json(cov), indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(cov), nl=False)
    ctx.exit(cov.exit_code)
