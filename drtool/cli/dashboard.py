"""`drtool dashboard`: a static, self-contained HTML resilience site."""

from __future__ import annotations

import click

from drtool.cli.common import aws_options, echo_err


@click.command("dashboard", short_help="Write a static HTML resilience dashboard.")
@click.option("--results", default=None, metavar="DIR|s3://bucket/prefix", help="Results store (default ./drill-results).")
@click.option("--services", "services_file", default=None, metavar="FILE", help="The services file (kind: services).")
@click.option("-o", "--out", "out", required=True, metavar="DIR", help="Folder to write the site to.")
@click.option("--now", hidden=True, help="Evaluate as of this RFC 3339 instant (tests).")
@aws_options
def command(results: str | None, services_file: str | None, out: str, now: str | None,
            profile: str | None, region: str | None) -> int:
    """Write index.html (management: business capabilities worst-first, measured downtime
    and data loss against objectives, trends, lead and lag measures), owners.html (each
    service's coverage matrix, RTO/RPO trend charts, follow-ups) and engineers.html (every
    run, linked to copies of its scorecard and journal under runs/). No server, script
    or external asset: open it from a folder, a bucket or a CI artifact.
    """
    from pathlib import Path

    from drtool.cli.coverage import load_results, parse_now
    from drtool.services.dashboard import build, write_site

    estate = None
    if services_file:
        from drtool.services.estate import load_services

        estate = load_services(services_file)
    _store, found, warnings = load_results(results, profile, region)
    for warning in warnings:
        echo_err(f"warning: {warning}")
    board = build(found, estate, parse_now(now))
    written = write_site(board, Path(out))
    click.echo(f"wrote {len(written)} file(s) to {out}: {Path(out) / 'index.html'}")
    if board.rows:
        click.echo(f"worst first: {board.rows[0].capability} ({board.rows[0].state})")
    return 0
