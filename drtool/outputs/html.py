"""A single self-contained HTML scorecard: inline CSS and SVG, no scripts, no fetches.

Order, one reader after another: business impact in words (management), objectives and
follow-up (the service owner), the timeline (the engineer), the run's facts and files,
the controls (auditors), reviews, integrity. A sandbox run says so in the title and in a
banner above everything else.
"""

from __future__ import annotations

from html import escape
from typing import Any

from drtool.outputs import readers, svg, view
from drtool.outputs.card import describe_remaining
from drtool.outputs.view import is_sandbox, seconds, text
from drtool.scorecard_model import Scorecard

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem auto;max-width:1100px;color:#212121;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:1.8rem}
h3{font-size:1rem;margin:1.2rem 0 .3rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f5f5f5}table.kv th{width:11rem}table.kv2 th{width:8rem}code{font-size:12px;overflow-wrap:anywhere}td.long{overflow-wrap:anywhere}
.verdict{display:inline-block;padding:.2rem .7rem;border-radius:4px;color:#fff;font-weight:700;vertical-align:middle}
.passed{background:#2e7d32}.failed{background:#c62828}.aborted{background:#6a1b9a}.rollback-incomplete{background:#e65100}
.unknown{background:#607d8b}.missed{color:#c62828;font-weight:700}.met{color:#2e7d32;font-weight:700}
.banner{background:#fff3e0;border:2px solid #e65100;color:#bf360c;font-weight:700;padding:.6rem .8rem;margin:.6rem 0;border-radius:4px}
.headline{font-size:1.35rem;font-weight:600;margin:.6rem 0}
.svgwrap{border:1px solid #eee;padding:.5rem}.svgwrap svg{max-width:100%;height:auto;display:block}
.legend{font-size:12px;color:#555}.key{display:inline-block;width:.8rem;height:.8rem;margin:0 .25rem 0 .6rem;vertical-align:middle}
td.num{white-space:nowrap}details summary{cursor:pointer;color:#37474f}
@media print{body{margin:0}details{display:block}}
"""


def _td(value: str) -> str:
    """A cell; an unbroken run of characters (an ARN, a URL) may wrap anywhere instead of overflowing."""
    long = any(len(word) > 28 for word in value.split())
    return f'<td class="long">{escape(value)}</td>' if long else f"<td>{escape(value)}</td>"


def _kv(rows: list[tuple[str, str]]) -> str:
    return '<table class="kv">' + "".join(f"<tr><th>{escape(k)}</th>{_td(v)}</tr>" for k, v in rows) + "</table>"


def _kv2(rows: list[tuple[str, str]]) -> str:
    """Key/value pairs two to a row (short facts take half the height)."""
    cells = [f"<th>{escape(k)}</th>{_td(v)}" for k, v in rows] + ([""] if len(rows) % 2 else [])
    pairs = zip(cells[::2], cells[1::2], strict=True)
    return '<table class="kv2">' + "".join(f"<tr>{a}{b}</tr>" for a, b in pairs) + "</table>"


def _table(header: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<p>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_td(c) for c in row) + "</tr>" for row in rows)
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


def _management(card: Scorecard) -> str:
    rows = []
    for key, value in readers.management(card) + readers.objective_summary(card):
        cls = ' class="missed"' if value.endswith("MISSED") else ' class="met"' if value.endswith(": met") else ""
        rows.append(f"<tr><th>{escape(key)}</th><td{cls}>{escape(value)}</td></tr>")
    failed = readers.failed_by_service(card)
    checks = f"<h3>Failed checks by service</h3>{_list(failed)}" if failed else ""
    return (f'<p class="headline">{escape(readers.headline(card))}</p><table class="kv">{"".join(rows)}</table>'
            + checks)


def _owner(card: Scorecard) -> str:
    rows = []
    for name, target, measured, result, how, detail in readers.objectives(card):
        cls = "missed" if result == "MISSED" else "met" if result == "met" else ""
        rows.append(f"<tr><td>{escape(name)}</td><td class=\"num\">{escape(target)}</td><td class=\"num\">"
                    f"{escape(measured)}</td><td class=\"{cls}\">{escape(result)}</td><td>{escape(how)}</td>"
                    f"<td>{escape(detail)}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("Objective", "Target", "Measured", "Result", "How measured", "Detail"))
    body = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    measurements = view.rpo_measurements(card)
    if len(measurements) > 1:
        body += "<h3>RPO measurements</h3>" + _table(
            ["Method", "Measured", "Detail"],
            [[text(m.method), seconds(m.measured_s), text(m.detail)] for m in measurements], "")
    body += "<h3>Follow-up</h3>" + _table(
        ["Resource", "What is left", "How", "Step"],
        [[text(f.resource), text(f.summary), text(f.how), text(f.step)] for f in card.follow_up or []],
        "Nothing to follow up.")
    body += (f"<h3>Rollback</h3><p>Status: <strong>{escape(text(card.rollback.status))}</strong></p>"
             + _list([f"still changed: {describe_remaining(r)}" for r in card.rollback.remaining or []]))
    if (failback := card.rollback.failback) is not None:
        body += (f'<p id="failback">Failback, in order: <strong>{escape(failback.status)}</strong>'
                 + (f" ({escape(failback.reason)})" if failback.reason else "") + "</p><ol>"
                 + "".join(f"<li>{escape(s.kind)} {escape(s.name)}: {escape(s.status)}"
                           + (f" ({escape(s.detail)})" if s.detail else "") + "</li>" for s in failback.steps)
                 + "</ol>")
    return body


def _timeline(card: Scorecard) -> str:
    origin = card.run.started_at
    instants = "".join(f"<tr><th>{escape(k)}</th><td>{escape(view.offset(v, origin))} "
                       f"<span class=\"legend\">({escape(view.when(v))})</span></td></tr>" if v != "-" else
                       f"<tr><th>{escape(k)}</th><td>-</td></tr>" for k, v in view.instants(card))
    rows = "".join(
        f"<tr><td>{escape(text(s.phase))}</td><td>{escape(text(s.step))}</td>"
        f"<td>{escape(text(s.kind))}</td><td class=\"num\" title=\"{escape(text(s.started_at))}\">"
        f"{escape(view.offset(s.started_at, origin))}</td><td class=\"num\">{escape(view.step_duration(s))}</td>"
        f"<td>{escape(text(s.status))}</td>{_td(text(s.detail))}</tr>"
        for s in view.timeline(card))
    head = "".join(f"<th>{h}</th>" for h in ("Phase", "Step", "Kind", "Start", "Took", "Status", "Detail"))
    steps = (f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>" if rows
             else "<p>No steps recorded.</p>")
    return (f'<table class="kv">{instants}</table><div class="svgwrap">{svg.render(card)}</div>{_legend()}'
            f"<p class=\"legend\">Start: time since the run began at {escape(view.when(origin))}.</p>{steps}")


def _run(card: Scorecard) -> str:
    body = _kv2(readers.run_facts(card))
    files = readers.sources(card)
    if files:
        body += "<h3>Files</h3>" + "".join(
            f"<p><strong>{escape(kind)}</strong> <code>{escape(path)}</code><br>sha256 <code>{escape(digest)}</code></p>"
            for kind, path, digest in files)
    params = readers.parameters(card)
    body += "<h3>Parameters as bound</h3>" + (_kv2(params) if params else "<p>None.</p>")
    header, targets = readers.target_rows(card)
    body += "<h3>Targets</h3>" + _table(header, targets, "None recorded.")
    return body


def _evidence(card: Scorecard) -> str:
    rows = []
    for r in view.evidence_rows(card):
        fields = "; ".join(f"<code>{escape(p)}</code> {escape(v)}" for p, v in r.fields)
        rows.append(f"<tr><td><strong>{escape(r.framework)} {escape(r.control)}</strong><br>{escape(r.title)}</td>"
                    f"<td>{escape(r.shows)}<details><summary>Fields, requirement, what this does not show"
                    f"</summary><p class=\"legend\">{fields}</p><p>{escape(r.requirement)}</p>"
                    f"<p><em>Not shown:</em> {escape(r.not_shown)}</p></details></td></tr>")
    intro = ("<p>Fields of this scorecard mapped to the controls they evidence (data file "
             "<code>drtool/outputs/controls.yaml</code>). Findings, corrective actions, risk acceptance and "
             "sign-off are recorded by people in a signed review attestation (<code>drtool attest</code>), "
             "never by editing this scorecard.</p>")
    if is_sandbox(card):
        intro = ('<p class="banner">A sandbox rehearsal: these fields describe a simulated estate, '
                 "not the production environment the controls are about.</p>") + intro
    return intro + ("<table><thead><tr><th>Control</th><th>What this run shows</th></tr></thead>"
                    f"<tbody>{''.join(rows)}</tbody></table>")


def _meta(card: Scorecard) -> str:
    """The scorecard digest this report was rendered from (`drtool verify` reads it)."""
    from drtool import __version__

    digest = card.integrity.sha256 if card.integrity else None
    return (f'<meta name="drtool-scorecard-sha256" content="{escape(digest if isinstance(digest, str) else "none")}">'
            f'<meta name="drtool-renderer" content="{escape(__version__)}">')


def render(card: Scorecard, attestations: list[dict[str, Any]] | None = None, *,
           digest_problem: str | None) -> str:
    """`digest_problem`: the digest check of the scorecard as written (drtool.integrity)."""
    drill = text(card.run.drill)
    status = str(card.run.status or "unknown")
    status_class = status if status in ("passed", "failed", "aborted", "rollback-incomplete") else "unknown"
    banner = readers.sandbox_banner(card)
    title = f"{readers.title_prefix(card)}DR drill {drill}: {view.verdict(card)}"
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        _meta(card),
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f'<header><h1>{escape(readers.title_prefix(card))}DR drill {escape(drill)} <span class="verdict '
        f'{status_class}">{escape(view.verdict(card))}</span></h1>'
        + (f'<p class="banner">{escape(banner)}</p>' if banner else "") + "</header>",
        _section("impact", "Business impact", _management(card)),
        _section("owner", "Objectives and follow-up", _owner(card)),
        _section("timeline", "Timeline", _timeline(card)),
        _section("run", "Run", _run(card)),
        _section("evidence", "Controls", _evidence(card)),
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
    parts.append(_section("integrity", "Integrity", _kv(view.integrity_rows(card, digest_problem))))
    parts.append(f"<footer><p>Written by drtool {escape(text(card.run.tool_version))} from "
                 f"scorecard schema {escape(text(card.schema_))}.</p></footer></body></html>")
    return "".join(parts) + "\n"
