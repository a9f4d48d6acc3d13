"""Undo from the journal: what is still changed, and replaying its undos in reverse.

Used by the runner at the end of every run and by `drtool rollback` after a crash. An
intent counts as changed unless its undo already completed, whether or not the call was
seen to finish (a crash can land between the AWS call and the journal line), so undos
are idempotent by contract.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from drtool.context import StepContext
from drtool.resources import UndoSpec

HELD_BACK = "held back"        # the reason's start for a change a stopped failback did not reach


@dataclass
class PendingUndo:
    intent_seq: int
    step: str
    summary: str
    undo: UndoSpec
    reason: str = ""


def pending_undos(events: list[dict[str, Any]]) -> list[PendingUndo]:
    """Changes with an undo that has not completed, newest first; `reason` is why the
    latest attempt (if any) did not complete it, or why it was held back (`undo.held`)."""
    undone = {e["intent"] for e in events if e["event"] == "undo.done"}
    last_failure = {e["intent"]: e.get("error", "undo failed") if e["event"] == "undo.failed" else e["reason"]
                    for e in events if e["event"] in ("undo.failed", "undo.held")}
    pending = [PendingUndo(e["seq"], e.get("step", ""), e.get("summary", ""), UndoSpec.from_json(e["undo"]),
                           last_failure.get(e["seq"], "undo not attempted (the run stopped first)"))
               for e in events if e["event"] == "change.intent" and e.get("undo") and e["seq"] not in undone]
    return list(reversed(pending))


def undo_all(events: list[dict[str, Any]], make_context, journal, report=lambda _m: None,  # noqa: ANN001
             skip: frozenset[int] | set[int] = frozenset()) -> list[str]:
    """Replay every pending undo in reverse order (but those of the intents in `skip`,
    already attempted by this ending); return what remains changed."""
    items = [p for p in pending_undos(events) if p.intent_seq not in skip]
    return undo_items(items, make_context, journal, report)


def undo_items(items: list[PendingUndo], make_context, journal, report=lambda _m: None,  # noqa: ANN001
               stop_at_failure: bool = False) -> list[str]:
    """Replay these undos in the order given; return what failed (still changed).

    `make_context(region)` gives a StepContext for that region; every attempt and its
    outcome is journaled so a second `rollback` continues where this one stopped. With
    `stop_at_failure` (the ordered failback) the first failure ends the replay: the
    items after it are not attempted and stay pending.
    """
    from drtool.aws.errors import translate
    from drtool.errors import LEFT_AS_FOUND, ChangedSince
    from drtool.registry import UNDOS

    remaining: list[str] = []
    for item in items:
        label = f"{item.undo.name} (undoes: {item.summary})"
        journal.write("undo.started", intent=item.intent_seq, undo=item.undo.to_json(), summary=item.summary)
        try:
            entry = UNDOS.get(item.undo.name)
            ctx: StepContext = make_context(item.undo.region)
            if item.undo.account:                     # the account the change was made in
                ctx = replace(ctx, account=item.undo.account)
            ctx.step = f"undo {item.undo.name}"
            detail = entry.func(ctx, entry.params.model_validate(item.undo.params))
        except ChangedSince as exc:
            reason = f"{LEFT_AS_FOUND} ({exc.found})"
            journal.write("undo.failed", intent=item.intent_seq, error=reason, summary=item.summary,
                          left_as_found=True)
            remaining.append(f"{item.summary} [{item.undo.name}: {reason}]")
            report(f"  LEFT AS FOUND {label}: {exc.found}")
            if stop_at_failure:
                break
            continue
        except Exception as exc:  # noqa: BLE001 - every failure is reported, only the failback stops at one
            message = translate(exc, item.undo.name).message   # never raises: anything not AWS is named
            journal.write("undo.failed", intent=item.intent_seq, error=f"undo failed: {message}",
                          summary=item.summary)
            remaining.append(f"{item.summary} [{item.undo.name} failed: {message}]")
            report(f"  undo FAILED  {label}: {message}")
            if stop_at_failure:
                break
            continue
        journal.write("undo.done", intent=item.intent_seq, detail=str(detail), summary=item.summary)
        report(f"  undone       {item.summary}: {detail}")
    return remaining


def rollback_run(journal_path: Path, session: Any, clock: Any = None,
                 report: Callable[[str], None] = lambda _l: None,
                 previous_sha256: Callable[[str], Any] | None = None) -> tuple[list[str], dict[str, Any]]:
    """Undo whatever a crashed run left changed; return (remaining, rewritten scorecard)."""
    from drtool.errors import DrillAborted
    from drtool.journal import read_journal
    from drtool.scorecard import write_scorecard
    from drtool.timing import SystemClock

    clock = clock or SystemClock()
    with exclusive(journal_path):             # one rollback of a run at a time (its waits may take minutes)
        events = read_journal(journal_path)
        started = next((e for e in events if e["event"] == "run.started"), None)
        if started is None:
            raise DrillAborted(f"{journal_path}: no run.started event; not a drtool journal")
        if hasattr(session, "configure_accounts"):
            session.configure_accounts({**getattr(session, "accounts", {}), **journal_accounts(events, started)})
        remaining = _replay(journal_path, events, started, session, clock, report)
    card = write_scorecard(journal_path.parent, started["drill"], previous_sha256)
    return remaining, card


@contextlib.contextmanager
def exclusive(journal_path: Path) -> Iterator[None]:
    """Hold an advisory lock on the run's journal (flock: released if the process dies), so
    a `drtool rollback RUN` and a sweep on this machine never append to it at once."""
    from drtool.errors import DrToolError

    with open(journal_path, "rb") as held:
        try:
            fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DrToolError(f"{journal_path}: another drtool rollback is undoing this run right now",
                              "wait for it to finish, then run drtool rollback again to see what is left") from None
        try:
            yield
        finally:
            fcntl.flock(held.fileno(), fcntl.LOCK_UN)


def _replay(journal_path: Path, events: list[dict[str, Any]], started: dict[str, Any], session: Any, clock: Any,
            report: Callable[[str], None]) -> list[str]:
    from drtool.journal import Journal

    journal = Journal(journal_path, clock)
    try:
        default = started.get("aws", {}).get("default_region")

        def make_context(region: str | None) -> StepContext:
            return StepContext(aws=session, clock=clock, region=region or default or session.default_region,
                               run_id=started["run_id"], journal=journal, drill=started["drill"])

        from drtool.failback_replay import replay_in_order

        remaining, handled = replay_in_order(events, make_context, journal, report)
        remaining += undo_all(events, make_context, journal, report, skip=handled)
        if not any(e["event"] == "run.finished" for e in events):
            journal.write("run.finished", status="aborted",
                          reason="the run stopped without finishing (crash or kill); rolled back by drtool rollback")
    finally:
        journal.close()
    return remaining


def journal_accounts(events: list[dict[str, Any]], started: dict[str, Any]) -> dict[str, Any]:
    """The named accounts a run changed, as `AccountRole`s: the role ARN from each change's
    intent line, the external id (kept out of the journal) from the drill file."""
    from drtool.aws.session import AccountRole

    roles: dict[str, str] = {str(e["account"]): str(e["account_role_arn"]) for e in events
             if e["event"] == "change.intent" and e.get("account") and e.get("account_role_arn")}
    plan: dict[str, Any] = next((e for e in events if e["event"] == "failback.plan"), {"steps": []})
    for probe in (s.get("probe") or {} for s in plan["steps"]):     # a failback wait asked in another account
        if probe.get("account") and probe.get("account_role_arn"):
            roles.setdefault(str(probe["account"]), str(probe["account_role_arn"]))
    if not roles:
        return {}
    external = _external_ids(started.get("drill_path"))
    return {name: AccountRole(arn, external.get(name)) for name, arn in roles.items()}


def _external_ids(drill_path: str | None) -> dict[str, str]:
    if not drill_path:
        return {}
    from drtool.documents import DrillDoc, read_document
    from drtool.errors import DrToolError

    try:
        _loaded, doc = read_document(drill_path)
    except (DrToolError, OSError):
        return {}
    if not isinstance(doc, DrillDoc):
        return {}
    return {name: a.external_id for name, a in doc.aws.accounts.items() if a.external_id}
