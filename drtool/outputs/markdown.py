"""Markdown scorecard, one reader after another: business impact (management), objectives
and follow-up (owner), timeline and run facts (engineer), controls (auditors). A sandbox
run says so in the title and a banner."""

from __future__ import annotations

import re
from typing import Any

from drtool.outputs import readers, view
from drtool.outputs.view import get, seconds, text
from drtool.scorecard import describe_remaining

_SPECIAL = re.compile(r"([\\`*_{}\[\]|~])")


def esc(value: Any) -> str:
    """Escape for a Markdown table cell or inline text (never a line start): no HTML, no
    emphasis, code, links or cell breaks; newlines folded into spaces."""
    shown = " ".join(str(value).split())
    shown = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", shown)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return lines + [""]


def render(scorecard: dict[str, Any], attestations: list[dict[str, Any]] | None = None) -> str:
    prefix = readers.title_prefix(scorecard).strip()
    out = [f"# {esc(prefix) + ' ' if prefix else ''}DR drill {esc(text(get(scorecard, 'run.drill')))}: {esc(view.verdict(scorecard))}", ""]
    banner = readers.sandbox_banner(scorecard)
    if banner:
        out += [f"> **{esc(banner)}**", ""]
    out += ["## Business impact", "", f"**{esc(readers.headline(scorecard))}**", ""]
    out += _table(["", ""], [list(row) for row in readers.management(scorecard) + readers.objective_summary(scorecard)])

    out += ["## Objectives and follow-up", ""]
    out += _table(["Objective", "Target", "Measured", "Result", "How measured", "Detail"], readers.objectives(scorecard))
    measurements = view.rpo_measurements(scorecard)
    if len(measurements) > 1:
        out += ["RPO measurements:", ""]
        out += _table(["Method", "Measured", "Detail"],
                      [[text(m.get("method")), seconds(m.get("measured_s")), text(m.get("detail"))]
                       for m in measurements])
    follow = [f for f in get(scorecard, "follow_up") or [] if isinstance(f, dict)]
    out += ["### Follow-up", ""]
    out += _table(["Resource", "What is left", "How", "Step"],
                  [[text(f.get("resource")), text(f.get("summary")), text(f.get("how")), text(f.get("step"))]
                   for f in follow]) if follow else ["Nothing to follow up.", ""]
    out += ["### Rollback", "", f"Status: {esc(text(get(scorecard, 'rollback.status')))}", ""]
    out += [f"- still changed: {esc(describe_remaining(r))}" for r in get(scorecard, "rollback.remaining") or []]
    out += [""] if get(scorecard, "rollback.remaining") else []

    origin = get(scorecard, "run.started_at")
    out += ["## Timeline", ""]
    out += _table(["Instant", "Since the start", "At"],
                  [[k, view.offset(v, origin), view.when(v) if v != "-" else "-"] for k, v in view.instants(scorecard)])
    out += [f"RTO budget {esc(seconds(get(scorecard, 'objectives.rto.target_s')))}; the run began at "
            f"{esc(view.when(origin))}.", ""]
    out += _table(["Phase", "Step", "Kind", "Start", "Took", "Status", "Detail"],
                  [[text(s.get("phase")), text(s.get("step")), text(s.get("kind")), view.offset(s.get("started_at"), origin),
                    view.step_duration(s), text(s.get("status")), text(s.get("detail"))] for s in view.timeline(scorecard)]
                  or [["-", "no steps recorded", "-", "-", "-", "-", "-"]])

    out += ["## Run", ""] + _table(["", ""], [list(r) for r in readers.run_facts(scorecard)])
    files = readers.sources(scorecard)
    if files:
        out += _table(["File", "Path", "SHA-256"], [list(f) for f in files])
    params = readers.parameters(scorecard)
    out += ["Parameters as bound:", ""] + (_table(["Parameter", "Value"], [list(p) for p in params]) if params
                                           else ["None.", ""])
    targets = [t for t in get(scorecard, "targets") or [] if isinstance(t, dict)]
    out += ["### Targets", ""]
    out += _table(["Resource", "Type", "Region", "Selected by"],
                  [[text(t.get("arn") or t.get("id")), text(t.get("type")), text(t.get("region")),
                    text(t.get("selected_by"))] for t in targets]) if targets else ["None recorded.", ""]

    out += ["## Controls", "",
            "Fields of this scorecard mapped to the controls they evidence "
            "(drtool/outputs/controls.yaml). Human parts (findings, corrective actions, "
            "sign-off) belong in a review attestation (`drtool attest`).", ""]
    if view.is_sandbox(scorecard):
        out += ["**A sandbox rehearsal: these fields describe a simulated estate, not the production "
                "environment the controls are about.**", ""]
    out += _table(["Control", "Requirement", "Scorecard fields", "Shows", "Not shown"],
                  [[f"{r.framework} {r.control}: {r.title}", r.requirement,
                    "; ".join(f"{path} = {value}" for path, value in r.fields), r.shows, r.not_shown]
                   for r in view.evidence_rows(scorecard)])

    reviews = view.review_rows(attestations)
    if reviews:
        out += ["## Reviews", ""]
        out += _table(["Reviewer", "Reviewed at", "Sign-off", "Findings", "Corrective actions", "Risk acceptance"],
                      [[text(a.get("reviewer")), text(a.get("reviewed_at")), view.yes_no(a.get("sign_off")),
                        "; ".join(map(str, a.get("findings") or [])) or "-",
                        "; ".join(f"{c.get('text')} (owner {c.get('owner')}, due {c.get('due')})"
                                  for c in a.get("corrective_actions") or [] if isinstance(c, dict)) or "-",
                        text(a.get("risk_acceptance"))] for a in reviews])

    out += ["## Integrity", ""] + _table(["", ""], [list(r) for r in view.integrity_rows(scorecard)])
    return "\n".join(out).rstrip() + "\n\n" + marker(scorecard) + "\n"


def marker(scorecard: dict[str, Any]) -> str:
    """Last line: the scorecard digest this report was rendered from (`drtool verify` reads it)."""
    from drtool import __version__

    digest = get(scorecard, "integrity.sha256")
    return f"<!-- drtool scorecard-sha256={digest if isinstance(digest, str) else 'none'} renderer={__version__} -->"
