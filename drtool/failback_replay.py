"""`drtool rollback` and the expiry sweeper after a run that left changes: the journaled
failback order, its waits and checks asked again (issue 12.4).

The run journals its failback at start (`failback.plan`), each `wait:`/`check:` with the
probe, its parameters, region, account, timeout and poll interval. A replay undoes the
named steps in that order and asks each wait and check again before going on: a wait is
polled until it holds or its timeout passes, a check is asked once. So neither an
operator's `drtool rollback` nor the unattended sweeper sends traffic back to a primary
that does not serve. The first entry that does not hold (an undo that fails, a wait that
times out, a check that fails or errs) stops the replay as it stops the run's failback:
every change after it, the steps the failback does not name included, is held back for
the next `drtool rollback`. A journal written before probes were recorded skips its
waits (and says so).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from drtool.failback import FailbackEntry, held_reason, hold_back, recorded_plan
from drtool.rollback import PendingUndo, pending_undos, undo_items
from drtool.run_types import error_text
from drtool.signals import Interrupted
from drtool.timing import PollTimeout, wait_until


def replay_in_order(events: list[dict[str, Any]], make_context: Callable[[str | None], Any], journal: Any,
                    report: Callable[[str], None]) -> tuple[list[str], set[int]]:
    """Undo in the journaled failback order what a run left changed once its fault was
    injected, asking the waits and checks again. Returns (what remains changed, the intents
    attempted or held back); the caller undoes the rest in reverse."""
    from drtool.journal import read_journal

    plan = recorded_plan(events)
    if not plan or not any(e["event"] == "fault" for e in events):
        return [], set()
    pending = pending_undos(events)
    if not pending:
        return [], set()
    unrecorded = [e.name for e in plan if e.kind != "undo" and e.probe is None]
    report("  failback order from the journal, its waits and checks asked again"
           + (f"; skipped (not recorded in this older journal): {', '.join(unrecorded)}" if unrecorded else ""))
    remaining: list[str] = []
    handled: set[int] = set()
    since = events[-1]["seq"]
    stopped: tuple[FailbackEntry, str] | None = None
    for entry in plan:
        if entry.kind == "undo":
            items: list[PendingUndo] = [p for p in pending if p.step == entry.undoes]
            handled.update(p.intent_seq for p in items)
            left = undo_items(items, make_context, journal, report, stop_at_failure=True)
            remaining += left
            status, detail = ("failed" if left else "ok"), "; ".join(left) or f"{len(items)} change(s) undone"
        elif not pending_undos(read_journal(journal.path)):
            status, detail = "skipped", "nothing left to undo after it"
        elif entry.probe is None:
            status, detail = "skipped", "not recorded in this older journal; not asked again"
        else:
            held, detail = ask_again(entry, make_context)
            status = "ok" if held else "failed"
            report(f"  failback {entry.name:<34} {'ok' if held else 'FAILED':<7} {detail}")
        journal.write("failback.step", index=entry.index, kind=entry.kind, name=entry.name,
                      undoes=entry.undoes, status=status, detail=detail)
        if status == "failed":
            stopped = (entry, detail)
            break
    if stopped is None:
        journal.write("failback.finished", status="replayed",
                      reason="drtool rollback kept the failback order and asked its waits and checks again"
                             + (f" ({len(unrecorded)} not recorded: skipped)" if unrecorded else ""))
        return remaining, handled
    entry, detail = stopped
    report(f"  failback STOPPED at {entry.name}: nothing after it is undone")
    run_id = str(next((e["run_id"] for e in events if e["event"] == "run.started"), "RUN"))
    lines, held_intents = hold_back(read_journal(journal.path), journal, held_reason(entry.name, run_id), since,
                                    report)
    journal.write("failback.finished", status="stopped",
                  reason=f"drtool rollback stopped at failback step {entry.name!r}: {detail}; "
                         f"{len(lines)} change(s) held back")
    return remaining + lines, handled | held_intents


def left_to_a_person(events: list[dict[str, Any]]) -> str | None:
    """The failback entry a replay would stop at because its change was left as found
    (someone changed the resource since the drill did), or None. Trying again cannot get
    past it, so the unattended sweeper leaves such a run to a person."""
    from drtool.errors import LEFT_AS_FOUND

    plan = recorded_plan(events)
    if not plan or not any(e["event"] == "fault" for e in events):
        return None
    pending = pending_undos(events)
    for entry in (e for e in plan if e.kind == "undo"):
        items = [p for p in pending if p.step == entry.undoes]
        if any(p.reason.startswith(LEFT_AS_FOUND) for p in items):
            return entry.name
        if items:
            return None                   # the replay has other work to try first
    return None


def ask_again(entry: FailbackEntry, make_context: Callable[[str | None], Any]) -> tuple[bool, str]:
    """Ask a recorded wait (polled until its timeout) or check (once); (held, detail). An
    error (AWS, an unknown probe, parameters that no longer validate) does not hold."""
    from drtool.registry import PROBES

    probe = entry.probe or {}
    try:
        registered = PROBES.get(str(probe["name"]))
        params = registered.params.model_validate(probe.get("with") or {})
        ctx = dataclasses.replace(make_context(probe.get("region")), step=entry.name, read_only=True,
                                  account=probe.get("account"))

        def once() -> tuple[bool, Any]:
            result = registered.func(ctx, params)
            return bool(result.ok), result

        if entry.kind == "check":
            ok, result = once()
            return ok, str(result.detail)
        timeout = float(probe.get("timeout") or 0)
        try:
            _at, result = wait_until(once, clock=ctx.clock, interval=float(probe.get("poll") or 5), timeout=timeout)
        except PollTimeout as exc:
            return False, exc.describe(timeout)
        return True, str(getattr(result, "detail", ""))
    except (KeyboardInterrupt, Interrupted):
        return False, "interrupted (Ctrl-C or SIGTERM) while asking it: the replay stops here"
    except Exception as exc:  # noqa: BLE001 - whatever the probe raised, the failback does not go on
        return False, error_text(exc)
