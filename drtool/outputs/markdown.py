"""Markdown scorecard, one reader after another: business impact (management), objectives
and follow-up (owner), timeline and run facts (engineer), controls (auditors). A sandbox
run says so in the title and a banner."""

from __future__ import annotations

import re
from typing import Any

from drtool.outputs import readers, view
from drtool.outputs.card import describe_remaining
from drtool.outputs.view import seconds, text
from drtool.scorecard_model import Scorecard

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


def render(card: Scorecard, attestations: list[dict[str, Any]] | None = None, *,
           digest_problem: str | None) -> str:
    """`digest_problem`: the digest check of the scorecard as written (drtool.integrity)."""
    prefix = readers.title_prefix(card).strip()
    out = [f"# {esc(prefix) + ' ' if prefix else ''}DR drill {esc(text(card.run.drill))}: {esc(view.verdict(card))}", ""]
    banner = readers.sandbox_banner(card)
    if banner:
        out += [f"> **{esc(banner)}**", ""]
    out += ["## Business impact", "", f"**{esc(readers.headline(card))}**", ""]
    out += _table(["", ""], [list(row) for row in readers.management(card) + readers.objective_summary(card)])
    failed = readers.failed_by_service(card)
    if failed:
        out += ["Failed checks by service:", ""] + [f"- {esc(line)}" for line in failed] + [""]

    out += ["## Objectives and follow-up", ""]
    out += _table(["Objective", "Target", "Measured", "Result", "How measured", "Detail"], readers.objectives(card))
    measurements = view.rpo_measurements(card)
    if len(measurements) > 1:
        out += ["RPO measurements:", ""]
        out += _table(["Method", "Measured", "Detail"],
                      [[text(m.method), seconds(m.measured_s), text(m.detail)] for m in measurements])
    follow = card.follow_up or []
    out += ["### Follow-up", ""]
    out += _table(["Resource", "What is left", "How", "Step"],
                  [[text(f.resource), text(f.summary), text(f.how), text(f.step)]
                   for f in follow]) if follow else ["Nothing to follow up.", ""]
    remaining = card.rollback.remaining or []
    out += ["### Rollback", "", f"Status: {esc(text(card.rollback.status))}", ""]
    out += [f"- still changed: {esc(describe_remaining(r))}" for r in remaining]
    out += [""] if remaining else []
    if (failback := card.rollback.failback) is not None:
        out += [f"Failback, in order: {esc(failback.status)}" + (f" ({esc(failback.reason)})" if failback.reason else ""), ""]
        out += [f"{s.index + 1}. {esc(s.kind)} {esc(s.name)}: {esc(s.status)}" + (f" ({esc(s.detail)})" if s.detail else "")
                for s in failback.steps]
        out += [""] if failback.steps else []

    origin = card.run.started_at
    out += ["## Timeline", ""]
    out += _table(["Instant", "Since the start", "At"],
                  [[k, view.offset(v, origin), view.when(v) if v != "-" else "-"] for k, v in view.instants(card)])
    out += [f"RTO budget {esc(seconds(card.objectives.rto.target_s))}; the run began at "
            f"{esc(view.when(origin))}.", ""]
    out += _table(["Phase", "Step", "Kind", "Start", "Took", "Status", "Detail"],
                  [[text(s.phase), text(s.step), text(s.kind), view.offset(s.started_at, origin),
                    view.step_duration(s), text(s.status), text(s.detail)] for s in view.timeline(card)]
                  or [["-", "no steps recorded", "-", "-", "-", "-", "-"]])

    out += ["## Run", ""] + _table(["", ""], [list(r) for r in readers.run_facts(card)])
    files = readers.sources(card)
    if files:
        out += _table(["File", "Path", "SHA-256"], [list(f) for f in files])
    params = readers.parameters(card)
    out += ["Parameters as bound:", ""] + (_table(["Parameter", "Value"], [list(p) for p in params]) if params
                                           else ["None.", ""])
    header, targets = readers.target_rows(card)
    out += ["### Targets", ""]
    out += _table(header, targets) if targets else ["None recorded.", ""]

    out += ["## Controls", "",
            "Fields of this scorecard mapped to the controls they evidence "
            "(drtool/outputs/controls.yaml). Human parts (findings, corrective actions, "
            "sign-off) belong in a review attestation (`drtool attest`).", ""]
    if view.is_sandbox(card):
        out += ["**A sandbox rehearsal: these fields describe a simulated estate, not the production "
                "environment the controls are about.**", ""]
    out += _table(["Control", "Requirement", "Scorecard fields", "Shows", "Not shown"],
                  [[f"{r.framework} {r.control}: {r.title}", r.requirement,
                    "; ".join(f"{path} = {value}" for path, value in r.fields), r.shows, r.not_shown]
                   for r in view.evidence_rows(card)])

    reviews = view.review_rows(attestations)
    if reviews:
        out += ["## Reviews", ""]
        out += _table(["Reviewer", "Reviewed at", "Sign-off", "Findings", "Corrective actions", "Risk acceptance"],
                      [[text(a.get("reviewer")), text(a.get("reviewed_at")), view.yes_no(a.get("sign_off")),
                        "; ".join(map(str, a.get("findings") or [])) or "-",
                        "; ".join(f"{c.get('text')} (owner {c.get('owner')}, due {c.get('due')})"
                                  for c in a.get("corrective_actions") or [] if isinstance(c, dict)) or "-",
                        text(a.get("risk_acceptance"))] for a in reviews])

    out += ["## Integrity", ""] + _table(["", ""], [list(r) for r in view.integrity_rows(card, digest_problem)])
    return "\n".join(out).rstrip() + "\n\n" + marker(card) + "\n"


def marker(card: Scorecard) -> str:
    """Last line: the scorecard digest this report was rendered from (`drtool verify` reads it)."""
    from drtool import __version__

    digest = card.integrity.sha256 if card.integrity else None
    return f"<!-- drtool scorecard-sha256={digest if isinstance(digest, str) else 'none'} renderer={__version__} -->"
