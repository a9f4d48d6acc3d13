"""The dashboard's three static pages: one self-contained HTML file each (inline CSS and
SVG, no script, no external asset), escaped throughout."""

from __future__ import annotations

from html import escape

from drtool.durations import format_duration
from drtool.services.dashboard import WORDING, Dashboard, Row, missed, objective, safe
from drtool.services.model import DISRUPTIONS
from drtool.services.results import Result
from drtool.timing import rfc3339

CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff}
header{background:#102a43;color:#fff;padding:14px 24px}header a{color:#cde;margin-right:18px}
main{padding:16px 24px;max-width:1180px}h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:22px 0 8px}
table{border-collapse:collapse;width:100%;margin:6px 0 14px}th,td{border-bottom:1px solid #ddd;padding:6px 8px;
text-align:left;vertical-align:top}th{background:#f3f5f7;font-weight:600}
.missed{background:#fdecea}.gap{background:#fff4e5}.unproven{background:#fffbe6}.ok{background:#edf7ed}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;font-weight:600}
.b-missed{background:#c62828;color:#fff}.b-gap{background:#ef6c00;color:#fff}.b-unproven{background:#f9a825}
.b-ok{background:#2e7d32;color:#fff}.measures{display:flex;gap:16px;flex-wrap:wrap}
.measure{border:1px solid #ccd;border-radius:6px;padding:10px 16px;min-width:200px}
.measure b{font-size:26px;display:block}.muted{color:#666;font-size:12px}.sandbox{color:#6a1b9a;font-weight:600}
.charts{display:flex;gap:12px;flex-wrap:wrap}"""
ARROW = {"better": ("&#8600;", "faster than the previous run"), "worse": ("&#8599;", "slower than the previous run"),
         "same": ("&#8594;", "about the same as the previous run")}
CELL_CLASS = {"met": "ok", "missed": "missed", "untested": "gap", "sandbox-only": "unproven", "overdue": "gap",
              "not-required": ""}


def _s(value: float | None) -> str:
    return "-" if value is None else format_duration(value)


def _page(title: str, board: Dashboard, body: str) -> str:
    nav = "".join(f'<a href="{href}">{label}</a>' for href, label in
                  (("index.html", "Management"), ("owners.html", "Service owners"), ("engineers.html", "Engineers")))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{CSS}</style></head><body>'
            f'<header><h1>{escape(title)}</h1><nav>{nav}</nav></header><main>'
            f'<p class="muted">Generated {escape(rfc3339(board.now) or "")} from {len(board.results)} drill run(s).</p>'
            f"{body}</main></body></html>")


def _mode(result: Result | None) -> str:
    if result is None:
        return ""
    return ' <span class="sandbox">(sandbox rehearsal)</span>' if not result.live else " (live)"


def _vs(measured: float | None, objective: float | None, what: str) -> str:
    if measured is None:
        return f"{what}: not measured" + (f" (objective {_s(objective)})" if objective is not None else "")
    verdict = "" if objective is None else " - within objective" if measured <= objective else " - OVER objective"
    return f"{what} {_s(measured)} vs objective {_s(objective)}{verdict}"


def _row(row: Row) -> str:
    latest = row.latest
    arrow = ARROW.get(row.trend or "")
    trend = f'<span title="{arrow[1]}">{arrow[0]}</span>' if arrow else ""
    when = f"{escape(latest.started_at[:10])} {escape(latest.drill)}{_mode(latest)}" if latest else "never drilled"
    down = escape(_vs(latest.rto_s, row.rto_objective_s, "Downtime")) if latest else "-"
    loss = escape(_vs(latest.rpo_s, row.rpo_objective_s, "Data loss")) if latest else "-"
    late = [f"{row.gaps} required drill(s) missing or overdue"] if row.gaps else []
    late += [f"{row.overdue_actions} action(s) past due"] if row.overdue_actions else []
    return (f'<tr class="{row.state}"><td><b>{escape(row.capability)}</b><br><span class="muted">'
            f'{escape(", ".join(row.services))} &middot; tier {escape(row.tier)}</span></td>'
            f'<td><span class="badge b-{row.state}">{escape(WORDING[row.state])}</span></td>'
            f"<td>{down} {trend}<br>{loss}</td><td>{when}</td><td>{escape('; '.join(late)) or 'none'}</td></tr>")


def _pct(done: int, total: int, none: str) -> str:
    return f"<b>{round(100 * done / total)}%</b>{done} of {total}" if total else f"<b>-</b>{none}"


def management(board: Dashboard) -> str:
    m = board.measures
    lead = (f'<div class="measures"><div class="measure" id="lead-schedule">Drills run on schedule (live){_pct(*m.on_schedule, "no drills yet")}</div>'
            f'<div class="measure" id="lead-backups">Backups within their RPO{_pct(*m.backups, "no backup posture recorded")}</div>'
            f'<div class="measure" id="lead-followups">Follow-ups closed{_pct(*m.follow_ups, "no follow-ups")}</div></div>')
    rows = "".join(_row(r) for r in board.rows)
    table = ('<table id="capabilities"><tr><th>Business capability</th><th>State</th><th>Measured vs objective '
             "(lag measures)</th><th>Latest drill</th><th>Overdue</th></tr>" + rows + "</table>")
    lag = '<div class="charts">' + "".join(_chart(board, name) for name in _services(board)) + "</div>"
    return _page("Resilience: business view", board,
                 f"<h2>Lead measures</h2>{lead}<h2>Business capabilities, worst first</h2>{table}"
                 f"<h2>Lag measures over time: measured downtime against objective</h2>{lag}")


def _services(board: Dashboard) -> list[str]:
    names = list(board.estate.services) if board.estate is not None else []
    return names + sorted({r.service for r in board.results} - set(names))


def _chart(board: Dashboard, service: str, kind: str = "rto") -> str:
    """Measured RTO (or RPO) of each run of `service` as a line, its objectives dashed."""
    runs = [r for r in board.results if r.service == service and r.counts]
    points = [(r, v) for r in runs for v in [r.rto_s if kind == "rto" else r.rpo_s] if v is not None]
    label = "RTO (downtime)" if kind == "rto" else "RPO (data loss)"
    width, height, pad = 340, 130, 30
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-service="{escape(service)}" data-kind="{kind}" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f"<title>{escape(service)}: measured {label} per drill run</title>"
            f'<rect width="{width}" height="{height}" fill="#fafafa" stroke="#ccd"/>'
            f'<text x="8" y="16" font-size="12">{escape(service)} - {label}</text>')
    if not points:
        return head + f'<text x="8" y="{height // 2}" font-size="12" fill="#666">no measured runs</text></svg>'
    objectives = [v for r, _ in points for v in [_objective(board, r, kind)] if v is not None]
    top = max([v for _, v in points] + objectives) * 1.15 or 1.0

    def y(value: float) -> float:
        return round(height - pad / 2 - (value / top) * (height - pad - 14), 1)

    step = (width - 2 * pad) / max(len(points) - 1, 1)
    coords = [(round(pad + i * step, 1), y(v)) for i, (_, v) in enumerate(points)]
    parts = [head]
    for value in sorted(set(objectives)):
        parts.append(f'<line x1="{pad}" x2="{width - 8}" y1="{y(value)}" y2="{y(value)}" stroke="#c62828" '
                     f'stroke-dasharray="5,4"/><text x="{width - 8}" y="{y(value) - 3}" font-size="10" '
                     f'text-anchor="end" fill="#c62828">objective {escape(_s(value))}</text>')
    if len(coords) > 1:
        parts.append('<polyline fill="none" stroke="#1565c0" stroke-width="2" points="'
                     + " ".join(f"{x},{yy}" for x, yy in coords) + '"/>')
    for (x, yy), (r, v) in zip(coords, points, strict=True):
        color = "#c62828" if missed(board.estate, r) else "#1565c0"
        parts.append(f'<circle cx="{x}" cy="{yy}" r="4" fill="{color}"><title>{escape(r.drill)} '
                     f'{escape(r.started_at[:19])} {escape(r.mode)}: {escape(_s(v))}</title></circle>')
    return "".join(parts) + "</svg>"


def _objective(board: Dashboard, result: Result, kind: str) -> float | None:
    rto, rpo = objective(board.estate, result)
    return rto if kind == "rto" else rpo


def owners(board: Dashboard) -> str:
    from drtool.services.report import cell_text

    by_owner: dict[str, list[str]] = {}
    for name in _services(board):
        svc = board.estate.services.get(name) if board.estate is not None else None
        by_owner.setdefault(svc.owner if svc else "unknown owner", []).append(name)
    cov = {s.name: s for s in (board.coverage.services if board.coverage else [])}
    body = []
    for owner, names in sorted(by_owner.items()):
        body.append(f'<h2 id="owner-{escape(owner)}">Owner: {escape(owner)}</h2>')
        for name in names:
            head = "".join(f"<th>{escape(d)}</th>" for d in DISRUPTIONS)
            matrix = cov.get(name)
            cells = "".join(f'<td class="{CELL_CLASS.get(c.state, "")}">{escape(cell_text(c))}</td>'
                            for c in matrix.cells) if matrix else '<td colspan="4">no services file given</td>'
            body.append(f'<h3>{escape(name)}</h3><table class="matrix" data-service="{escape(name)}">'
                        f"<tr>{head}</tr><tr>{cells}</tr></table>")
            body.append(f'<div class="charts">{_chart(board, name, "rto")}{_chart(board, name, "rpo")}</div>')
            actions = [a for a in board.actions if a.service == name]
            items = "".join(f"<li>[{escape(a.status)}] {escape(a.source)}: {escape(a.text)}"
                            f"{' - ' + escape(a.owner) if a.owner else ''}{' - due ' + escape(a.due) if a.due else ''}</li>"
                            for a in actions)
            body.append(f"<h4>Follow-ups</h4><ul>{items or '<li>none</li>'}</ul>")
    return _page("Resilience: service owners", board, "".join(body))


def engineers(board: Dashboard) -> str:
    from drtool.services.attribution import impaired_services

    rows = []
    for r in reversed(board.results):
        base = f"runs/{r.drill}/{r.run_id}/" if safe(r.drill) and safe(r.run_id) else None
        card = "scorecard.html" if "scorecard.html" in r.files else "scorecard.json"
        links = (f'<a href="{escape(base + card)}">scorecard</a> &middot; <a href="{escape(base)}journal.jsonl">journal</a>'
                 if base else "-")
        # What the run recorded (its services file as it was then) wins over today's file.
        recorded = r.card.attribution
        impaired = (", ".join(recorded.impaired) if recorded is not None
                    else ", ".join(impaired_services(r.card, board.estate)) if board.estate is not None else "-")
        rows.append(f"<tr><td>{escape(r.started_at[:19])}</td><td>{escape(r.drill)}</td><td>{escape(r.service)}</td>"
                    f"<td>{escape(r.disruption)}</td><td>{escape(r.mode)}</td><td>{escape(r.status)}</td>"
                    f"<td>{escape(_s(r.rto_s))} / {escape(_s(r.rto_target_s))}</td>"
                    f"<td>{escape(_s(r.rpo_s))} / {escape(_s(r.rpo_target_s))}</td><td>{escape(impaired or '-')}</td>"
                    f"<td>{links}</td></tr>")
    table = ('<table id="runs"><tr><th>Started</th><th>Drill</th><th>Service</th><th>Disruption</th><th>Mode</th>'
             "<th>Status</th><th>RTO measured / target</th><th>RPO measured / target</th><th>Services impaired</th>"
             "<th>Evidence</th></tr>" + "".join(rows) + "</table>")
    return _page("Resilience: every drill run", board, table)
