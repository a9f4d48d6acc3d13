"""A single self-contained HTML scorecard: inline CSS and SVG, no scripts, no fetches.

Order: executive summary, SRE timeline (SVG + table), objectives, run facts, targets,
rollback, follow-up, evidence for auditors, reviews, integrity.
"""

from __future__ import annotations

from html import escape
from typing import Any

from drtool.outputs import svg, view
from drtool.outputs.view import get, seconds, text
from drtool.scorecard import describe_remaining

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#212121;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}table.kv th{width:12rem}code{font-size:12px;word-break:break-all}
.verdict{display:inline-block;padding:.2rem .7rem;border-radius:4px;color:#fff;font-weight:700}
.passed{background:#2e7d32}.failed{background:#c62828}.aborted{background:#6a1b9a}.rollback-incomplete{background:#e65100}
.unknown{background:#607d8b}.missed{color:#c62828;font-weight:700}.met{color:#2e7d32;font-weight:700}
.svgwrap{overflow-x:auto;border:1px solid #eee;padding:.5rem}
.legend{font-size:12px;color:#555}.key{display:inline-block;width:.8rem;height:.8rem;margin:0 .25rem 0 .6rem;vertical-align:middle}
@media print{.svgwrap{overflow:visible}body{margin:0}}
"""


def _kv(rows: list[tuple[str, str]]) -> str:
    return '<table class="kv">' + "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows) + "</table>"


def _table(header: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<p>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>" if items else ""


def _legend() -> str:
    keys = "".join(f'<span class="key" style="background:{color}"></span>{escape(status)} '
                   for status, color in svg.COLORS.items())
    return (f'<p class="legend">{keys}<span class="key" style="background:#e3f2fd"></span>RTO budget from the '
            "fault; dashed lines: fault and recovery.</p>")


def _section(ident: str, title: str, body: str) -> str:
    return f'<section id="{ident}"><h2>{escape(title)}</h2>{body}</section>'


def _summary(scorecard: dict[str, Any]) -> str:
    rows = []
    for key, value in view.summary(scorecard):
        cls = ""
        if key in ("RTO", "RPO"):
            cls = ' class="missed"' if value.endswith("MISSED") else ' class="met"' if value.endswith(": met") else ""
        rows.append(f"<tr><th>{escape(key)}</th><td{cls}>{escape(value)}</td></tr>")
    return '<table class="kv">' + "".join(rows) + "</table>"


def _evidence(scorecard: dict[str, Any]) -> str:
    rows = []
    for r in view.evidence_rows(scorecard):
        fields = "".join(f"<li><code>{escape(p)}</code>: {escape(v)}</li>" for p, v in r.fields)
        rows.append(f"<tr><td><strong>{escape(r.framework)} {escape(r.control)}</strong><br>{escape(r.title)}</td>"
                    f"<td>{escape(r.requirement)}</td><td><ul>{fields}</ul></td><td>{escape(r.shows)}</td>"
                    f"<td>{escape(r.not_shown)}</td></tr>")
    intro = ("<p>Fields of this scorecard mapped to the controls they evidence (data file "
             "<code>drtool/outputs/controls.yaml</code>). Findings, corrective actions, risk acceptance and "
             "sign-off are recorded by people in a signed review attestation (<code>drtool attest</code>), "
             "never by editing this scorecard.</p>")
    head = "".join(f"<th>{h}</th>" for h in ("Control", "Requirement", "Scorecard fields", "Shows", "Not shown"))
    return intro + f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _meta(scorecard: dict[str, Any]) -> str:
    """The scorecard digest this report was rendered from (`drtool verify` reads it)."""
    from drtool import __version__

    digest = get(scorecard, "integrity.sha256")
    return (f'<meta name="drtool-scorecard-sha256" content="{escape(digest if isinstance(digest, str) else "none")}">'
            f'<meta name="drtool-renderer" content="{escape(__version__)}">')


def render(scorecard: dict[str, Any], attestations: list[dict[str, Any]] | None = None) -> str:
    drill = text(get(scorecard, "run.drill"))
    status = str(get(scorecard, "run.status") or "unknown")
    status_class = status if status in ("passed", "failed", "aborted", "rollback-incomplete") else "unknown"
    steps = view.timeline(scorecard)
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        _meta(scorecard),
        f"<title>DR drill {escape(drill)}: {escape(view.verdict(scorecard))}</title><style>{CSS}</style></head><body>",
        f'<header><h1>DR drill {escape(drill)}</h1><span class="verdict {status_class}">'
        f"{escape(view.verdict(scorecard))}</span></header>",
        _section("summary", "Executive summary", _summary(scorecard)),
        _section("timeline", "Timeline", f'<div class="svgwrap">{svg.render(scorecard)}</div>{_legend()}' + _table(
            ["Phase", "Step", "Kind", "Started", "Duration", "Status", "Detail"],
            [[text(s.get("phase")), text(s.get("step")), text(s.get("kind")), text(s.get("started_at")),
              view.step_duration(s), text(s.get("status")), text(s.get("detail"))] for s in steps],
            "No steps recorded.")),
        _section("objectives", "Objectives", _table(
            ["Objective", "Target", "Measured", "Met", "Method", "Detail"],
            [[name, seconds(o.get("target_s")), seconds(o.get("measured_s")), view.yes_no(o.get("met")),
              text(o.get("method", "fault to verified recovery" if name == "RTO" else None)), text(o.get("detail"))]
             for name, o in view.objectives(scorecard)], "No objectives recorded.") + _table(
            ["RPO method", "Measured", "Detail"],
            [[text(m.get("method")), seconds(m.get("measured_s")), text(m.get("detail"))]
             for m in view.rpo_measurements(scorecard)], "")),
        _section("run", "Run", _kv(view.run_facts(scorecard))),
        _section("targets", "Targets", _table(
            ["Resource", "Type", "Region", "Selected by"],
            [[text(t.get("arn") or t.get("id")), text(t.get("type")), text(t.get("region")), text(t.get("selected_by"))]
             for t in get(scorecard, "targets") or [] if isinstance(t, dict)], "None recorded.")),
        _section("rollback", "Rollback", f"<p>Status: <strong>{escape(text(get(scorecard, 'rollback.status')))}</strong></p>"
                 + _list([f"still changed: {describe_remaining(r)}" for r in get(scorecard, "rollback.remaining") or []])),
        _section("follow-up", "Follow-up", _table(
            ["Resource", "Summary", "How", "Step"],
            [[text(f.get("resource")), text(f.get("summary")), text(f.get("how")), text(f.get("step"))]
             for f in get(scorecard, "follow_up") or [] if isinstance(f, dict)], "Nothing to follow up.")),
        _section("evidence", "Evidence for auditors", _evidence(scorecard)),
    ]
    reviews = view.review_rows(attestations)
    if reviews:
        parts.append(_section("reviews", "Reviews", _table(
            ["Reviewer", "Reviewed at", "Sign-off", "Findings", "Corrective actions", "Risk acceptance"],
            [[text(a.get("reviewer")), text(a.get("reviewed_at")), view.yes_no(a.get("sign_off")),
              "; ".join(map(str, a.get("findings") or [])) or "-",
              "; ".join(f"{c.get('text')} (owner {c.get('owner')}, due {c.get('due')})"
                        for c in a.get("corrective_actions") or [] if isinstance(c, dict)) or "-",
              text(a.get("risk_acceptance"))] for a in reviews], "")))
    parts.append(_section("integrity", "Integrity", _kv(view.integrity_rows(scorecard))))
    parts.append(f"<footer><p>Written by drtool {escape(text(get(scorecard, 'run.tool_version')))} from "
                 f"scorecard schema {escape(text(scorecard.get('schema')))}.</p></footer></body></html>")
    return "".join(parts) + "\n"
