"""`drtool rollback RUN|JOURNAL`"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from drtool.cli.common import aws_options
from drtool.cli.execute import events_option


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


def verified_events(journal: Path, ref: str, allow_unchained: bool = False) -> list[dict[str, Any]]:
    """The journal's events once its hash chain, its run identity and (when the run was
    signed) the signed head check out; UsageError (exit 2, nothing changed) otherwise."""
    from drtool.errors import UsageError
    from drtool.journal import chain_digests, is_chained, read_journal, verify_journal

    refuse = "nothing was changed; inspect the journal, or undo by hand"
    data = journal.read_bytes()
    if not is_chained(data):
        if not allow_unchained:
            raise UsageError(f"{journal} carries no hash chain, so it cannot be checked for tampering",
                             "a journal from an older drtool: pass --allow-unchained after reading it; " + refuse)
    else:
        problems = verify_journal(journal)
        if problems:
            raise UsageError(f"{journal} was altered, refusing to undo from it: " + "; ".join(problems[:5]), refuse)
    events = read_journal(journal)
    started = next((e for e in events if e.get("event") == "run.started"), None)
    if started is None:
        raise UsageError(f"{journal}: no run.started event; not a drtool journal", refuse)
    run_id, drill = str(started.get("run_id")), str(started.get("drill"))
    folder = journal.parent
    if journal.name == "journal.jsonl" and folder.parent.name == drill and folder.name != run_id:
        raise UsageError(f"{journal} records run {run_id}, but sits in the folder of run {folder.name}", refuse)
    if not Path(ref).exists() and ref != run_id:
        raise UsageError(f"{journal} records run {run_id}, not {ref}", refuse)
    _check_signed_head(journal, events, chain_digests(data), run_id)
    return events


def _check_signed_head(journal: Path, events: list[dict[str, Any]], heads: list[str], run_id: str) -> None:
    """A signed scorecard pins the journal as it was when the run ended: the signature must
    verify, name this run, and its head must be a line of this journal, after which only
    undo events and the replayed failback's entries (what `drtool rollback` appends) may
    follow: a failback that stopped is finished by more than one `drtool rollback`."""
    from drtool.errors import UsageError
    from drtool.signing import signature_path, verify_offline

    path = signature_path(journal.parent / "scorecard.json")
    if not path.is_file():
        return
    refuse = "nothing was changed"
    try:
        signature = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path} is not readable ({exc})", refuse) from None
    problem = verify_offline(signature) if isinstance(signature, dict) else "not a signature document"
    statement = signature.get("statement") if isinstance(signature, dict) else None
    if problem or not isinstance(statement, dict):
        raise UsageError(f"{path}: {problem or 'no statement'}", refuse)
    signed_head = statement.get("journal_sha256")
    if statement.get("run_id") != run_id:
        raise UsageError(f"{path} was signed for run {statement.get('run_id')}, not {run_id}", refuse)
    if signed_head is None:
        return                  # signed before journals were chained: nothing to pin
    if signed_head not in heads:
        raise UsageError(f"{journal} is not the journal that was signed (its signed head is missing: rewritten)",
                         refuse)
    after = events[heads.index(signed_head) + 1:]
    added = [e for e in after if not str(e.get("event", "")).startswith(("undo.", "run.finished"))
             and e.get("event") not in ("failback.step", "failback.finished")]
    if added:
        raise UsageError(f"{journal} has {len(added)} event(s) added after it was signed "
                         f"({', '.join(sorted({str(e.get('event')) for e in added}))}): refusing them", refuse)


def confirm_undo(pending: list[Any], journal: Path, yes: bool, err: bool = False, *,
                 failback: bool = False) -> None:
    """Show every change that will be undone, in the order it will be (on stderr when `err`),
    then ask (unless --yes)."""
    from drtool.errors import GuardrailRefusal
    from drtool.redact import redact_text

    order = ("the scenario's failback order, stopping at the first failed undo, then newest first" if failback
             else "newest first")
    click.echo(f"{len(pending)} change(s) to undo from {journal} ({order}):", err=err)
    for item in pending:
        click.echo(redact_text(f"  - {item.summary} ({item.undo.name} in {item.undo.region}) "
                               f"params {json.dumps(item.undo.params, sort_keys=True, default=str)}"), err=err)
    if yes:
        return
    if not sys.stdin.isatty():
        raise GuardrailRefusal("confirmation", "stdin is not a terminal and --yes was not given",
                               "pass --yes; nothing was changed")
    if not click.confirm("Undo them now?", default=False):
        raise GuardrailRefusal("confirmation", "the operator declined", "nothing was changed")


def external_id(started: dict[str, Any]) -> str | None:
    """The role's external id: never in the journal (a secret), so read from the drill file."""
    aws = started.get("aws") or {}
    if aws.get("external_id") or not aws.get("role_arn") or not started.get("drill_path"):
        return aws.get("external_id")       # older journals still carry it
    from drtool.documents import DrillDoc, read_document
    from drtool.errors import DrToolError

    try:
        _loaded, doc = read_document(started["drill_path"])
    except (DrToolError, OSError):
        return None
    return doc.aws.external_id if isinstance(doc, DrillDoc) else None


@click.command("rollback")
@click.argument("run", required=False)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (required when stdin is not a terminal).")
@click.option("--results", default="drill-results", show_default=True, envvar="DRTOOL_RESULTS",
              help="Where run folders are (a folder, or s3://bucket/prefix with --expired; env DRTOOL_RESULTS).")
@click.option("--allow-unchained", is_flag=True,
              help="Accept a journal written before journals were hash-chained (it cannot be checked).")
@click.option("--expired", is_flag=True,
              help="Roll back every run in --results past its expiry whose runner died (for a scheduler).")
@events_option("events_format")
@aws_options
def command(run: str | None, yes: bool, results: str, allow_unchained: bool, expired: bool,
            events_format: str | None,
            profile: str | None, region: str | None) -> int:
    """Undo what an interrupted or crashed run left changed, from its journal.

    The journal is checked first (hash chain, run identity, signed head when the run was
    signed); an altered journal is refused (exit 2, nothing changed). Every change to be
    undone is shown before asking. Idempotent: exit 0 when nothing is left to undo, 5 when
    something remains changed. With --expired (and no RUN), sweep the results store for
    abandoned runs. With --events json, every event appended to the journal is printed as
    a JSON line on stdout and the text goes to stderr.
    """
    if expired or run is None:
        from drtool.errors import UsageError

        if run is not None or not expired:
            raise UsageError("give either a RUN or --expired", "drtool rollback RUN, or drtool rollback --expired")
        if events_format:
            raise UsageError("--events is not supported with --expired yet", "roll back one RUN with --events json")
        from drtool.sweeper import sweep_command

        return sweep_command(results, yes=yes, profile=profile, region=region)
    from drtool.aws.session import AwsSession
    from drtool.cli.execute import report
    from drtool.errors import RollbackIncomplete
    from drtool.journal import observing
    from drtool.live import JsonEvents
    from drtool.outputs.store import open_store
    from drtool.rollback import pending_undos, rollback_run

    journal = find_journal(run, results)
    events = verified_events(journal, run, allow_unchained)
    chain = open_store(str(journal.parent.parent.parent)).previous_integrity
    started = next((e for e in events if e["event"] == "run.started"), None)
    aws = (started or {}).get("aws", {})
    session = AwsSession(profile=profile or aws.get("profile"), region=region or aws.get("default_region"),
                         role_arn=aws.get("role_arn"), external_id=external_id(started or {}),
                         run_id=(started or {}).get("run_id"))
    pending = pending_undos(events)
    err = events_format is not None
    watch = observing(JsonEvents().emit) if err else contextlib.nullcontext()
    if not pending:
        click.echo(f"nothing to undo in {journal}", err=err)
        if started and not (journal.parent / "scorecard.json").exists():
            with watch:
                rollback_run(journal, session, previous_sha256=chain)   # a crashed run still gets its scorecard
        return 0
    from drtool.failback import undo_order

    ordered, failback = undo_order(events)
    confirm_undo(ordered, journal, yes, err=err, failback=failback)
    with watch:
        remaining, _card = rollback_run(journal, session, report=report, previous_sha256=chain)
    if remaining:
        raise RollbackIncomplete(remaining, str(journal))
    click.echo(f"rollback complete: {len(pending)} change(s) undone; scorecard {journal.parent / 'scorecard.json'}",
               err=err)
    return 0
