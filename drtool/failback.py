"""Ordered failback (issue 12.4): a scenario's `failback:` entries, run instead of plain
reverse-order undo once the fault was injected.

Reverse journal order undoes a region-loss drill's DNS switch before its network
black-hole, sending clients back to a region that is still cut off. A scenario can say the
order instead: network first, wait for the primary, DNS back, wait out the record's TTL,
then the DR region down. An `undo:` entry replays the journaled undos of one step
(compare and swap, as `undo_all` does); `wait:`/`check:` entries poll probes as `recover`
does. The steps the failback does not name are undone after it, in reverse order.

The first failure (an undo that fails or finds its resource changed, a wait that times
out, a check that does not hold, an AWS error, a signal during a wait) STOPS the
failback: nothing it had not reached is undone, the steps it does not name included, so
traffic stays on the DR side instead of going back to a primary that may not serve. Each
change left is journaled as held back (`undo.held`) and stays pending: the run ends
rollback-incomplete (exit 5) and `drtool rollback RUN` finishes it once the primary serves
again. The plan is journaled at run start (`failback.plan`, each wait and check with its probe)
so `drtool rollback` and the expiry sweeper keep the order, ask the waits and checks
again and stop the same way (drtool/failback_replay.py). A run whose fault was never injected, or a scenario without a
failback, is undone in plain reverse order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drtool.documents import Drill, Step
from drtool.documents.binding import UNDOABLE_PHASES
from drtool.rollback import HELD_BACK, PendingUndo, pending_undos, undo_items
from drtool.run_types import DEFAULT_WAIT_TIMEOUT, error_text
from drtool.signals import HeldSignals
from drtool.timing import PollTimeout, rfc3339, wait_until

if TYPE_CHECKING:
    from drtool.drill_run import DrillRun

EXPIRY_RESERVE_S = 5 * 60.0    # kept before the run's expiry: the rest of the failback and the run's ending


@dataclass(frozen=True)
class FailbackEntry:
    """One failback entry as the journal records it."""

    index: int
    kind: str                  # undo | wait | check
    name: str
    undoes: str | None = None  # undo: the label of the step whose changes it undoes
    probe: dict[str, Any] | None = None   # wait/check: {name, with, region, account, timeout, poll},
                                          # so `drtool rollback` can ask it again (None: older journal)

    def to_json(self) -> dict[str, Any]:
        data = {"index": self.index, "kind": self.kind, "name": self.name, "undoes": self.undoes}
        return {**data, "probe": self.probe} if self.probe is not None else data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FailbackEntry:
        return cls(int(data["index"]), str(data["kind"]), str(data["name"]), data.get("undoes"), data.get("probe"))


@dataclass
class FailbackOutcome:
    stopped: str | None = None                           # why the failback stopped; None: all ran
    status: str = "failed"                               # the run's status if it had passed: failed
                                                         # (an entry did not hold) or aborted (an error)
    attempted: set[int] = field(default_factory=set)     # intents whose undo the failback ran
    left: int = 0                                        # stopped: changes still pending (held or failed)


class FailbackStopped(Exception):
    """A failback entry failed: the failback stops and holds back what it had not reached."""


def held_reason(label: str, run_id: str) -> str:
    """`rollback.remaining[].reason` of a change the stopped failback did not reach."""
    return (f"{HELD_BACK}: the ordered failback stopped at {label!r}; run `drtool rollback {run_id}` "
            "once the primary serves again")


def hold_back(events: list[dict[str, Any]], journal: Any, reason: str, since: int,
              report: Callable[[str], None]) -> tuple[list[str], set[int]]:
    """Journal every change still pending as held back (`undo.held`), but those whose undo
    failed after journal seq `since` (they keep their failure as reason). Returns (their
    `remaining` lines, their intents)."""
    failed = {e["intent"] for e in events if e["event"] == "undo.failed" and e["seq"] > since}
    lines: list[str] = []
    intents: set[int] = set()
    for item in pending_undos(events):
        if item.intent_seq in failed:
            continue
        journal.write("undo.held", intent=item.intent_seq, summary=item.summary, reason=reason)
        report(f"  held back    {item.summary} ({item.undo.name})")
        lines.append(f"{item.summary} [{item.undo.name}: {reason}]")
        intents.add(item.intent_seq)
    return lines, intents


def stopped_reason(outcome: FailbackOutcome, run_id: str, expires_at: float | None) -> str:
    """The run's reason once its failback stopped: what failed, what was left and how to
    finish it."""
    if not outcome.left:
        return f"{outcome.stopped}; nothing was left changed"
    sweeper = (f" (if nobody does, the expiry sweeper tries it in the failback order, its waits asked again, "
               f"after {rfc3339(expires_at)})" if expires_at is not None else "")
    return (f"{outcome.stopped}; the rest was left on the DR side ({outcome.left} change(s) still changed): "
            f"run `drtool rollback {run_id}` once the primary serves again{sweeper}")


def planned(drill: Drill, default_region: str | None = None) -> list[FailbackEntry]:
    return [FailbackEntry(s.index, s.form, s.label, s.ref if s.form == "undo" else None,
                          None if s.form == "undo" else _probe_record(drill, s, default_region))
            for s in drill.steps.get("failback", [])]


def _probe_record(drill: Drill, step: Step, default_region: str | None) -> dict[str, Any]:
    params = step.params.model_dump(mode="json", exclude_none=True) if step.params is not None else {}
    role = drill.doc.aws.accounts[step.account].role_arn if step.account in drill.doc.aws.accounts else None
    return {"name": step.ref, "with": params, "region": step.region(default_region), "account": step.account,
            "account_role_arn": role, "timeout": step.timeout if step.timeout is not None else DEFAULT_WAIT_TIMEOUT,
            "poll": drill.doc.poll}


def left_to_reverse(drill: Drill) -> list[str]:
    """Labels of the steps with undoable changes the failback does not name: they are
    undone afterwards, in reverse order (only once the failback ran through)."""
    named = {s.ref for s in drill.steps.get("failback", []) if s.form == "undo"}
    return [s.label for phase in UNDOABLE_PHASES for s in drill.steps.get(phase, [])
            if s.form == "action" and s.entry is not None and s.entry.undo and s.label not in named]


def record_plan(run: DrillRun) -> None:
    """Journal the failback order at run start (only for a scenario that has one)."""
    if run.drill.steps.get("failback"):
        run.journal.write("failback.plan", steps=[e.to_json() for e in planned(run.drill, run.plan.default_region)],
                          then_reverse=left_to_reverse(run.drill))


def _entry_done(run: DrillRun, step: Step, status: str, detail: str) -> None:
    run.journal.write("failback.step", index=step.index, kind=step.form, name=step.label,
                      undoes=step.ref if step.form == "undo" else None, status=status, detail=detail)
    if step.form == "undo":             # waits and checks report as steps (DrillRun.finish_step)
        run.opts.report(f"  failback {step.label:<34} {'ok' if status == 'ok' else status.upper():<7} {detail}")


def run_failback(run: DrillRun, held: HeldSignals) -> FailbackOutcome:
    """Run the failback entries in order. The first failure stops them: every change still
    pending is held back (journaled, left for `drtool rollback`) and the caller undoes
    nothing more. Otherwise the caller undoes the rest in reverse order."""
    from drtool.journal import read_journal

    outcome = FailbackOutcome()
    since = read_journal(run.journal.path)[-1]["seq"]
    run.opts.report("  failback, in order")
    for step in run.drill.steps.get("failback", []):
        run.where = f"failback {step.label}"
        try:
            if step.form == "undo":
                items = [p for p in pending_undos(read_journal(run.journal.path)) if p.step == step.ref]
                outcome.attempted.update(p.intent_seq for p in items)
                left = undo_items(items, lambda region: run.context(region), run.journal, run.opts.report,
                                  stop_at_failure=True)
                if left:
                    raise FailbackStopped("; ".join(left))
                detail = f"{len(items)} change(s) undone" if items else "nothing to undo (no change journaled)"
            else:
                detail = _probe(run, step, held)
        except BaseException as exc:  # noqa: BLE001 - any failure stops the failback where it is
            message = str(exc) if isinstance(exc, FailbackStopped) else error_text(exc)
            outcome.status = "failed" if isinstance(exc, FailbackStopped) else "aborted"
            if (step.phase, step.label, step.index) in run.open_steps():
                run.finish_step(step, "failed", message)
            _entry_done(run, step, "failed", message)
            outcome.stopped = f"failback step {step.label!r} failed: {message}"
            run.opts.report("  failback STOPPED: nothing after it is undone (traffic stays on the DR side)")
            events = read_journal(run.journal.path)
            hold_back(events, run.journal, held_reason(step.label, run.run_id), since, run.opts.report)
            outcome.left = len(pending_undos(events))
            break
        _entry_done(run, step, "ok", detail)
    run.journal.write("failback.finished", status="stopped" if outcome.stopped else "complete",
                      reason=outcome.stopped)
    return outcome


def _probe(run: DrillRun, step: Step, held: HeldSignals) -> str:
    """One `check:` (a single probe) or `wait:` (poll until true) of the failback. Signals
    received meanwhile are held: they end the wait (and so stop the failback), never an undo."""

    def tick() -> None:
        if held:
            raise FailbackStopped(f"{', '.join(held.names)} received: the ordered failback stops waiting")

    tick()
    run.start_step(step)
    ctx = run.context(step.region(run.plan.default_region), step.label, read_only=True, account=step.account)
    if step.form == "check":
        result = step.entry.func(ctx, step.params)
        run.finish_step(step, "ok" if result.ok else "failed", result.detail)
        if not result.ok:
            raise FailbackStopped(result.detail)
        return str(result.detail)
    timeout = step.timeout if step.timeout is not None else DEFAULT_WAIT_TIMEOUT
    if run.expires_at is not None:     # the run must have ended before the expiry sweeper may act
        timeout = min(timeout, run.expires_at - run.clock.now() - EXPIRY_RESERVE_S)
        if timeout <= 0:
            run.finish_step(step, "failed", "no time left before the run expires")
            raise FailbackStopped("no time left before the run expires")

    def probe() -> tuple[bool, Any]:
        result = step.entry.func(ctx, step.params)
        if run.opts.on_poll is not None:
            run.opts.on_poll(step.label, result)
        return result.ok, result

    try:
        _at, result = wait_until(probe, clock=run.clock, interval=run.drill.doc.poll, timeout=timeout,
                                 on_tick=tick)
    except PollTimeout as exc:
        detail = exc.describe(timeout)
        run.finish_step(step, "timeout", detail)
        raise FailbackStopped(detail) from None
    run.finish_step(step, "ok", getattr(result, "detail", ""))
    return str(getattr(result, "detail", ""))


# --- drtool rollback after a crash ------------------------------------------------------

def recorded_plan(events: list[dict[str, Any]]) -> list[FailbackEntry]:
    planned_event = next((e for e in events if e["event"] == "failback.plan"), None)
    return [FailbackEntry.from_json(s) for s in planned_event["steps"]] if planned_event else []


def undo_order(events: list[dict[str, Any]]) -> tuple[list[PendingUndo], bool]:
    """What `drtool rollback` will undo, in the order it will (the failback order first when
    `replay_in_order` applies, then the rest newest first), and whether that order applies."""
    pending = pending_undos(events)
    plan = recorded_plan(events)
    named = [e.undoes for e in plan if e.kind == "undo"]
    if not plan or not any(e["event"] == "fault" for e in events) or not pending:
        return pending, False
    first = [p for step in named for p in pending if p.step == step]
    return first + [p for p in pending if p not in first], True
