"""Drill history: the last runs per drill, RTO/RPO trend, next due date, overdue flag.

Pure logic over scorecards and an injected `now` (epoch seconds).

Rules:
- A run *counts as a test* (resets the schedule clock) when it passed or failed, or ended
  rollback-incomplete after recovering. Aborted runs do not count: the frameworks require
  a test, not an attempt.
- next due = start of the newest counted run + schedule.every_s (the newest run's
  schedule). A drill never tested is due one interval after its first attempt.
- overdue = now > next due. Overdue drills make `drtool history` exit 1.
- Sandbox runs (`run.mode: sandbox`) are rehearsals: they never count as a test, never
  anchor the schedule unless the drill has no other run, never open or close a retest, and
  are listed apart (`sandbox_runs`).
- retest open: the newest counted run failed or missed an objective; a later passed run
  closes it (FFIEC VII.K: retest corrective actions for a failed recovery objective).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from drtool.outputs.card import read_scorecard
from drtool.outputs.view import is_sandbox, resets_clock, seconds, ts
from drtool.scorecard_model import Scorecard
from drtool.timing import rfc3339

ARROWS = {"better": "↓", "worse": "↑", "same": "→", None: " "}


@dataclass
class RunRow:
    run_id: str
    started_at: str
    status: str
    rto_measured_s: float | None
    rto_target_s: float | None
    rto_met: bool | None
    rpo_measured_s: float | None
    rpo_target_s: float | None
    rpo_met: bool | None
    rto_trend: str | None = None     # "better" | "worse" | "same" vs the previous measured run
    rpo_trend: str | None = None
    counts_as_test: bool = True
    mode: str = "live"
    endpoint: str | None = None


@dataclass
class DrillHistory:
    drill: str
    service: str | None
    tier: str | None
    every_s: float | None
    state: str                       # "ok" | "overdue" | "never-tested" | "unscheduled"
    overdue: bool
    last_tested_at: str | None
    last_tested_run: str | None
    next_due_at: str | None
    due_in_s: float | None           # negative when overdue
    retest_open: bool
    retest_of: str | None
    runs: list[RunRow] = field(default_factory=list)   # newest first, live runs only
    sandbox_runs: list[RunRow] = field(default_factory=list)   # newest first; never count


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _trend(current: float | None, previous: float | None) -> str | None:
    if current is None or previous is None:
        return None
    if abs(current - previous) <= max(0.01 * abs(previous), 0.05):
        return "same"
    return "better" if current < previous else "worse"


def _row(sc: Scorecard) -> RunRow:
    rto, rpo = sc.objectives.rto, sc.objectives.rpo
    return RunRow(run_id=str(sc.run.id), started_at=str(sc.run.started_at or ""), status=str(sc.run.status or "unknown"),
                  rto_measured_s=_num(rto.measured_s), rto_target_s=_num(rto.target_s), rto_met=rto.met,
                  rpo_measured_s=_num(rpo.measured_s), rpo_target_s=_num(rpo.target_s), rpo_met=rpo.met,
                  counts_as_test=resets_clock(sc), mode=str(sc.run.mode or "live"), endpoint=sc.run.endpoint)


def _missed(sc: Scorecard) -> bool:
    return sc.run.status == "failed" or sc.objectives.rto.met is False or sc.objectives.rpo.met is False


def _trends(rows: list[RunRow]) -> None:
    for kind in ("rto", "rpo"):
        previous: float | None = None
        for row in rows:
            current = getattr(row, f"{kind}_measured_s")
            setattr(row, f"{kind}_trend", _trend(current, previous))
            previous = current if current is not None else previous


def drill_history(drill: str, scorecards: Sequence[Scorecard | Mapping[str, Any]], now: float,
                  last: int = 5) -> DrillHistory:
    """One drill's history; dicts (files as read) are read into the typed model first."""
    cards = [read_scorecard(sc) for sc in scorecards]
    everything = sorted(cards, key=lambda sc: (str(sc.run.started_at or ""), str(sc.run.id)))
    rehearsals = [sc for sc in everything if is_sandbox(sc)]
    runs = [sc for sc in everything if not is_sandbox(sc)] or everything[:1]   # the first rehearsal anchors
    rows = [_row(sc) for sc in runs if not is_sandbox(sc)]
    sandbox_rows = [_row(sc) for sc in rehearsals]
    for group in (rows, sandbox_rows):
        _trends(group)
    newest = everything[-1]
    tested = [sc for sc in runs if resets_clock(sc)]
    every = _num(newest.schedule.every_s)
    every = every if every and every > 0 else None
    anchor = tested[-1] if tested else runs[0]
    anchor_at = ts(anchor.run.started_at)
    due_at = anchor_at + every if every is not None and anchor_at is not None else None
    overdue = due_at is not None and now > due_at
    state = "unscheduled" if every is None else "overdue" if overdue else "never-tested" if not tested else "ok"
    retest = bool(tested) and _missed(tested[-1])
    return DrillHistory(
        drill=drill, service=newest.service.name, tier=newest.service.tier, every_s=every,
        state=state, overdue=overdue,
        last_tested_at=tested[-1].run.started_at if tested else None,
        last_tested_run=tested[-1].run.id if tested else None,
        next_due_at=rfc3339(due_at), due_in_s=None if due_at is None else round(due_at - now, 3),
        retest_open=retest, retest_of=tested[-1].run.id if retest else None,
        runs=list(reversed(rows))[:last], sandbox_runs=list(reversed(sandbox_rows))[:last])


def summarize(scorecards: Sequence[Scorecard | Mapping[str, Any]], now: float, last: int = 5) -> list[DrillHistory]:
    by_drill: dict[str, list[Scorecard]] = defaultdict(list)
    for sc in scorecards:
        card = read_scorecard(sc)
        by_drill[str(card.run.drill)].append(card)
    return [drill_history(drill, runs, now, last) for drill, runs in sorted(by_drill.items())]


def to_json(histories: list[DrillHistory], now: float) -> dict[str, Any]:
    return {"now": rfc3339(now), "overdue": [h.drill for h in histories if h.overdue],
            "drills": [asdict(h) for h in histories]}


def _objective(measured: float | None, target: float | None, trend: str | None) -> str:
    return f"{seconds(measured)} {ARROWS[trend]} / {seconds(target)}"


def _run_lines(runs: list[RunRow]) -> list[str]:
    lines = [f"    {'started':<25} {'run':<24} {'status':<20} {'RTO / target':<22} RPO / target"]
    for r in runs:
        note = "" if r.counts_as_test else "*"
        lines.append(f"    {r.started_at:<25} {r.run_id:<24} {r.status + note:<20} "
                     f"{_objective(r.rto_measured_s, r.rto_target_s, r.rto_trend):<22} "
                     f"{_objective(r.rpo_measured_s, r.rpo_target_s, r.rpo_trend)}")
    return lines


def render_text(histories: list[DrillHistory], now: float) -> str:
    if not histories:
        return "no drill runs found\n"
    lines = [f"as of {rfc3339(now)} (arrows: change vs the previous run, down is better; "
             "* = not a completed test, does not reset the schedule clock)", ""]
    for h in histories:
        every = f"every {seconds(h.every_s)}" if h.every_s else "no schedule"
        lines.append(f"{h.drill}  service {h.service or '-'} (tier {h.tier or '-'})  {every}")
        last = f"last tested {h.last_tested_at} (run {h.last_tested_run})" if h.last_tested_at else "never tested against AWS" if h.sandbox_runs else "never tested"
        if h.state == "overdue":
            lines.append(f"  OVERDUE: {last}; next was due {h.next_due_at}, {seconds(-(h.due_in_s or 0))} ago")
        elif h.state == "unscheduled":
            lines.append(f"  {last}; no schedule, so never overdue")
        else:
            lines.append(f"  {last}; next due {h.next_due_at} (in {seconds(h.due_in_s)})")
        if h.retest_open:
            lines.append(f"  RETEST OPEN: run {h.retest_of} failed or missed an objective; no passing run since")
        if h.runs:
            lines += _run_lines(h.runs)
        else:
            lines.append("    no run against AWS yet")
        if h.sandbox_runs:
            lines.append("  sandbox rehearsals (never count as a test):")
            lines += _run_lines(h.sandbox_runs)
        lines.append("")
    overdue = [h.drill for h in histories if h.overdue]
    lines.append(f"{len(overdue)} overdue: {', '.join(overdue)}" if overdue else "no drill is overdue")
    return "\n".join(lines) + "\n"
