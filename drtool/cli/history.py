"""`drtool history`: past runs per drill, RTO/RPO trend, next due, overdue (exit 1)."""

from __future__ import annotations

import click

from drtool.cli.common import aws_options, echo_err


@click.command("history", short_help="Past runs per drill: status, RTO/RPO trend, overdue drills.")
@click.option("--results", default=None, metavar="DIR|s3://bucket/prefix", envvar="DRTOOL_RESULTS",
              help="Results store (default ./drill-results; env DRTOOL_RESULTS).")
@click.option("--drill", "drills", multiple=True, help="Only these drills. Repeatable.")
@click.option("--last", default=5, show_default=True, type=click.IntRange(1, 1000), help="Runs shown per drill.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--now", hidden=True, help="Evaluate as of this RFC 3339 instant (tests).")
@aws_options
@click.pass_context
def command(ctx: click.Context, results: str | None, drills: tuple[str, ...], last: int, as_json: bool,
            now: str | None, profile: str | None, region: str | None) -> None:
    """Per drill: the last runs (status, RTO/RPO measured vs target, trend), when the
    next drill is due from its schedule, and whether it is overdue. Aborted runs do not
    reset the schedule; failed runs do, and open a retest flag until a run passes.

    Exit 1 when any drill is overdue, so CI can gate on it; exit 2 when a --drill has no
    runs in the store (a misspelt name would otherwise look like a clean bill).
    """
    import json
    import time
    from pathlib import Path

    from drtool.errors import UsageError
    from drtool.outputs import history
    from drtool.outputs.store import LocalStore, open_store, session_factory_for
    from drtool.timing import parse_rfc3339

    try:
        instant = parse_rfc3339(now) if now else time.time()
    except ValueError:
        raise UsageError(f"--now {now!r} is not an RFC 3339 timestamp") from None
    store = open_store(results, session_factory_for(profile, region))
    if isinstance(store, LocalStore) and not Path(store.root).is_dir():
        raise UsageError(f"results folder {store.root} does not exist", "pass --results DIR|s3://bucket/prefix")
    records = []
    for drill in drills or (None,):
        found = store.list_runs(drill)
        if drill is not None and not found:
            known = sorted({str((r.scorecard or {}).get("run", {}).get("drill") or (r.store_key or ("?",))[0])
                            for r in store.list_runs(None)})
            raise UsageError(f"no runs of drill {drill!r} in {results or 'drill-results'}",
                             f"drills with runs there: {', '.join(known) or 'none'}")
        records.extend(found)
    for record in records:
        if record.scorecard is None:
            echo_err(f"warning: skipped {record.error or record.location}")
    histories = history.summarize([r.scorecard for r in records if r.scorecard is not None], instant or 0.0, last)
    if as_json:
        click.echo(json.dumps(history.to_json(histories, instant or 0.0), indent=2, ensure_ascii=False))
    else:
        click.echo(history.render_text(histories, instant or 0.0), nl=False)
    ctx.exit(1 if any(h.overdue for h in histories) else 0)
