"""`drtool rollback RUN|JOURNAL`"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from drtool.cli.common import aws_options


def find_journal(ref: str, results: str) -> Path:
    from drtool.errors import UsageError

    path = Path(ref)
    if path.is_file():
        return path
    if path.is_dir() and (path / "journal.jsonl").is_file():
        return path / "journal.jsonl"
    matches = sorted(Path(results).glob(f"*/{ref}/journal.jsonl"))
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise UsageError(f"run id {ref} matches several runs: {', '.join(map(str, matches))}")
    raise UsageError(f"no journal for {ref!r} (looked for a file, a run folder, and {results}/*/{ref}/journal.jsonl)",
                     "pass the run id, the run folder or the journal.jsonl path; see --results")


@click.command("rollback")
@click.argument("run", required=False)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (required when stdin is not a terminal).")
@click.option("--results", default="drill-results", show_default=True,
              help="Where run folders are (a folder, or s3://bucket/prefix with --expired).")
@click.option("--expired", is_flag=True,
              help="Roll back every run in --results past its expiry whose runner died (for a scheduler).")
@aws_options
def command(run: str | None, yes: bool, results: str, expired: bool, profile: str | None,
            region: str | None) -> int:
    """Undo what an interrupted or crashed run left changed, from its journal.

    Idempotent: exit 0 when nothing is left to undo, 5 when something remains changed.
    With --expired (and no RUN), sweep the results store for abandoned runs.
    """
    if expired or run is None:
        from drtool.errors import UsageError

        if run is not None or not expired:
            raise UsageError("give either a RUN or --expired", "drtool rollback RUN, or drtool rollback --expired")
        from drtool.sweeper import sweep_command

        return sweep_command(results, yes=yes, profile=profile, region=region)
    from drtool.aws.session import AwsSession
    from drtool.cli.execute import report
    from drtool.errors import GuardrailRefusal, RollbackIncomplete
    from drtool.journal import read_journal
    from drtool.outputs.store import open_store
    from drtool.rollback import pending_undos, rollback_run

    journal = find_journal(run, results)
    chain = open_store(str(journal.parent.parent.parent)).previous_digest
    events = read_journal(journal)
    started = next((e for e in events if e["event"] == "run.started"), None)
    aws = (started or {}).get("aws", {})
    session = AwsSession(profile=profile or aws.get("profile"), region=region or aws.get("default_region"),
                         role_arn=aws.get("role_arn"), external_id=aws.get("external_id"))
    pending = pending_undos(events)
    if not pending:
        click.echo(f"nothing to undo in {journal}")
        if started and not (journal.parent / "scorecard.json").exists():
            rollback_run(journal, session, previous_sha256=chain)   # a crashed run still gets its scorecard
        return 0
    click.echo(f"{len(pending)} change(s) to undo from {journal}:")
    for item in pending:
        click.echo(f"  - {item.summary} ({item.undo.name} in {item.undo.region})")
    if not yes:
        if not sys.stdin.isatty():
            raise GuardrailRefusal("confirmation", "stdin is not a terminal and --yes was not given",
                                   "pass --yes; nothing was changed")
        if not click.confirm("Undo them now?", default=False):
            raise GuardrailRefusal("confirmation", "the operator declined", "nothing was changed")
    remaining, _card = rollback_run(journal, session, report=report, previous_sha256=chain)
    if remaining:
        raise RollbackIncomplete(remaining, str(journal))
    click.echo(f"rollback complete: {len(pending)} change(s) undone; scorecard {journal.parent / 'scorecard.json'}")
    return 0
