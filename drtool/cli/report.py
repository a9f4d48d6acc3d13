"""`drtool report SCORECARD --format md|html|junit|json`: render a stored scorecard."""

from __future__ import annotations

import click

from drtool.cli.common import aws_options, echo_err

FORMAT_CHOICE = click.Choice(["md", "html", "junit", "json"])


@click.command("report", short_help="Render a stored scorecard as md, html, junit or json.")
@click.argument("scorecard")
@click.option("--format", "formats", type=FORMAT_CHOICE, multiple=True,
              help="Output format (default md). Repeatable with --write.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
@click.option("--write", is_flag=True, help="Write each format next to scorecard.json "
              "(scorecard.md, scorecard.html, junit.xml).")
@aws_options
def command(scorecard: str, formats: tuple[str, ...], output: str | None, write: bool,
            profile: str | None, region: str | None) -> None:
    """Render SCORECARD (a scorecard.json, its run folder or an s3:// URL). Review
    attestations found next to it are shown in md and html. Never touches AWS for local files."""
    import json
    from pathlib import Path

    from drtool.errors import UsageError
    from drtool.integrity import digest_problem
    from drtool.outputs import FILENAMES, render
    from drtool.outputs.attest import is_attestation
    from drtool.outputs.locate import locate
    from drtool.outputs.store import session_factory_for

    chosen = list(dict.fromkeys(formats or ("md",)))
    if len(chosen) > 1 and not write:
        raise UsageError("several --format values need --write (one format goes to standard output or --output)")
    if write and output:
        raise UsageError("--write and --output cannot be combined")
    located = locate([scorecard], session_factory_for(profile, region))
    if len(located.given) != 1:
        raise UsageError(f"{scorecard}: holds {len(located.given)} scorecards; name one run folder or file")
    record = located.given[0]
    doc = record.scorecard or {}
    problem = digest_problem(doc)
    if problem:
        echo_err(f"warning: {record.location}: {problem}; run `drtool verify` before relying on it")
    reviews = []
    for name in record.files:
        if is_attestation(name):
            try:
                reviews.append(json.loads(record.read_file(name).decode("utf-8")))
            except (UnicodeDecodeError, json.JSONDecodeError):
                echo_err(f"warning: {name} is not readable JSON; left out of the report")
    if write:
        for fmt in chosen:
            click.echo(record.write_file(FILENAMES[fmt], render(doc, fmt, reviews).encode("utf-8")))
    elif output:
        Path(output).write_text(render(doc, chosen[0], reviews), encoding="utf-8")
        click.echo(output)
    else:
        click.echo(render(doc, chosen[0], reviews), nl=False)
