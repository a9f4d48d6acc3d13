"""Inline SVG timeline: one bar per step, grouped by phase, over the RTO budget
(fault_at -> fault_at + target), with the fault and recovery instants marked."""

from __future__ import annotations

from html import escape

from drtool.outputs.view import seconds, ts
from drtool.scorecard_model import Scorecard, TimelineItem

PLOT, ROW, TOP = 640, 20, 34
COLORS = {"ok": "#2e7d32", "failed": "#c62828", "timeout": "#ef6c00", "skipped": "#9e9e9e", "aborted": "#6a1b9a"}
_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)


CHAR_W = 6.6   # upper bound of an 11px sans-serif character's advance, so a label never runs into the plot


def _label(step: TimelineItem) -> str:
    """The full label: phase and step (never cut; the label column widens instead)."""
    return f"{step.phase or '?'} · {step.step or '?'}"


def _left(steps: list[TimelineItem]) -> int:
    longest = max((len(_label(s)) for s in steps), default=10)
    return max(120, int(longest * CHAR_W) + 16)


def render(card: Scorecard) -> str:
    steps = list(card.timeline or [])
    rto = card.objectives.rto
    fault, recovered, impact = ts(rto.fault_at), ts(rto.recovered_at), ts(rto.impact_at)
    target = rto.target_s
    budget_end = fault + target if fault is not None and isinstance(target, int | float) else None
    instants = [t for s in steps for t in (ts(s.started_at), ts(s.ended_at)) if t is not None]
    instants += [t for t in (ts(card.run.started_at), ts(card.run.ended_at), fault, impact, recovered)
                 if t is not None]
    # A budget far longer than the run (15 min budget, 5 s drill) would squash every bar to
    # a sliver: then the chart spans the run and the budget is drawn to its right edge.
    off_scale = False
    if budget_end is not None and instants:
        run_span = max(max(instants) - min(instants), 1.0)
        off_scale = budget_end - min(instants) > 1.25 * run_span
        if not off_scale:
            instants.append(budget_end)
    left = _left(steps)
    height = TOP + ROW * max(len(steps), 1) + 30
    width = left + PLOT + 20
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" aria-labelledby="tl-title"><title id="tl-title">'
            "Timeline of the drill's steps against the RTO budget</title>")
    if not instants:
        return head + '<text x="10" y="24">No timestamps recorded.</text></svg>'
    t0, t1 = min(instants), max(instants)
    span = max(t1 - t0, 1.0)

    def x(t: float) -> float:
        return round(left + (t - t0) / span * PLOT, 1)

    parts = [head, f'<rect x="{left}" y="{TOP - 6}" width="{PLOT}" height="{height - TOP - 18}" fill="#fafafa"/>']
    if fault is not None and budget_end is not None:
        shown_end = min(budget_end, t1)
        note = " (continues past the chart)" if off_scale else ""
        parts.append(f'<rect class="budget" x="{x(fault)}" y="{TOP - 6}" width="{round(x(shown_end) - x(fault), 1)}" '
                     f'height="{height - TOP - 18}" fill="#e3f2fd"><title>RTO budget {escape(seconds(target))}{note}'
                     "</title></rect>")
        label_end = ' text-anchor="end"' if x(fault) > left + PLOT / 2 else ""
        label_x = left + PLOT if label_end else x(fault)
        parts.append(f'<text x="{label_x}" y="12" font-size="11"{label_end}>RTO budget {escape(seconds(target))}'
                     f"{note}</text>")
    step_s = next((s for s in _STEPS if span / s <= 8), _STEPS[-1])
    tick = 0.0
    while tick <= span:
        parts.append(f'<line x1="{x(t0 + tick)}" y1="{height - 24}" x2="{x(t0 + tick)}" y2="{height - 20}" stroke="#555"/>'
                     f'<text x="{x(t0 + tick)}" y="{height - 8}" font-size="10" '
                     f'text-anchor="{"end" if x(t0 + tick) > left + PLOT - 24 else "middle"}">'
                     f"+{escape(seconds(tick))}</text>")
        tick += step_s
    for i, step in enumerate(steps):
        y = TOP + i * ROW
        start = ts(step.started_at)
        end = ts(step.ended_at) or start
        status = str(step.status or "")
        label = f"{step.phase} {step.step}: {status} ({step.detail or ''})"
        parts.append(f'<text x="4" y="{y + 9}" font-size="11">{escape(_label(step))}</text>')
        if start is not None and end is not None:
            parts.append(f'<rect class="step {escape(status)}" x="{x(start)}" y="{y}" '
                         f'width="{max(round(x(end) - x(start), 1), 2)}" height="{ROW - 8}" '
                         f'fill="{COLORS.get(status, "#607d8b")}"><title>{escape(label)}</title></rect>')
    status = card.run.status
    stopped = ts(card.run.ended_at) if status in ("aborted", "rollback-incomplete") else None
    for instant, name, color in ((fault, "fault", "#37474f"), (impact, "impact", "#ef6c00"),
                                 (recovered, "recovered", "#2e7d32" if rto.met else "#c62828"),
                                 (stopped, str(status), "#6a1b9a")):
        if instant is not None:
            near_end = x(instant) > left + PLOT - 60
            anchor = ' text-anchor="end"' if near_end else ""
            parts.append(f'<line class="{name}" x1="{x(instant)}" y1="{TOP - 10}" x2="{x(instant)}" '
                         f'y2="{height - 24}" stroke="{color}" stroke-width="2" stroke-dasharray="4 2"/>'
                         f'<text x="{x(instant) + (-3 if near_end else 3)}" y="{TOP - 12}" font-size="10" '
                         f'fill="{color}"{anchor}>{name}</text>')
    if fault is not None and recovered is None:
        parts.append(f'<text x="{left + PLOT - 4}" y="12" font-size="11" text-anchor="end" fill="#c62828">'
                     "not recovered</text>")
    return "".join(parts) + "</svg>"
