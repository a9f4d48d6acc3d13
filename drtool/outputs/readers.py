"""The same scorecard for three readers, in plain text (each renderer escapes):

- management: what the business saw, in words ("checkout was down 3m12s; 7 canary
  writes lost") and whether the drill passed;
- the service owner: objectives against what was measured, what is left to do;
- the engineer: the instants, the steps, the run's facts (timeline and targets elsewhere).

A sandbox run says so first: it rehearses a simulated estate and is no test of AWS.
"""

from __future__ import annotations

import json
from typing import Any

from drtool.outputs.view import (
    NONE,
    has_objective,
    impact_line,
    is_sandbox,
    next_due,
    objective_line,
    seconds,
    text,
    ts,
    verdict,
    when,
    workaround_line,
)
from drtool.scorecard_model import Scorecard

SANDBOX_TITLE = "SANDBOX"


def service(card: Scorecard) -> str:
    return str(card.service.name or card.run.drill or "the service")


def sandbox_banner(card: Scorecard) -> str | None:
    """The banner of a sandbox run, None for a run against AWS."""
    if not is_sandbox(card):
        return None
    where = card.run.endpoint
    at = f" at {where}" if where else ""
    return (f"SANDBOX REHEARSAL: this drill ran against a simulated estate{at}, not AWS. It is no evidence "
            "about the real environment and does not count as a test for the schedule.")


def title_prefix(card: Scorecard) -> str:
    return f"{SANDBOX_TITLE}: " if is_sandbox(card) else ""


def _downtime(card: Scorecard) -> str:
    svc, rto = service(card), card.objectives.rto
    if rto.fault_at is None:
        return f"no fault was injected; {svc} was not affected"
    if rto.impact_observed is False:
        return f"{svc} stayed up: no user-facing check failed after the fault"
    if rto.recovered_at is None:
        return (f"{svc} went down and did not recover during the drill" if rto.impact_at
                else f"{svc} did not recover during the drill")
    if rto.downtime_s is not None:
        return f"{svc} was down {seconds(rto.downtime_s)}"
    return f"{svc} recovered {seconds(rto.measured_s)} after the fault"


def _data_lost(card: Scorecard) -> str | None:
    rpo = card.objectives.rpo
    lost, measured = rpo.lost_canaries, rpo.measured_s
    window = f" (up to {seconds(measured)} of data)" if isinstance(measured, int | float) and measured > 0 else ""
    if isinstance(lost, int) and not isinstance(lost, bool):
        if lost == 0:
            return "no test write lost" + window
        return f"{lost} test write{'' if lost == 1 else 's'} lost{window}"
    if isinstance(measured, int | float) and not isinstance(measured, bool):
        return "no data lost" if measured == 0 else f"up to {seconds(measured)} of data lost"
    if has_objective(rpo) or rpo.sources:
        return "data loss not measured"
    return None


def headline(card: Scorecard) -> str:
    """Business impact in one sentence: downtime, then data lost."""
    parts = [_downtime(card)]
    data = _data_lost(card)
    if data:
        parts.append(data)
    return "; ".join(parts) + "."


def verdict_line(card: Scorecard) -> str:
    status, reason = verdict(card), card.run.reason
    meaning = {"PASSED": "every objective met", "FAILED": "an objective was missed",
               "ABORTED": "the drill stopped early and was rolled back",
               "ROLLBACK-INCOMPLETE": "some changes are still in place"}.get(status, "")
    return status + (f": {reason}" if reason else f": {meaning}" if meaning else "")


def service_line(card: Scorecard) -> str:
    svc = card.service
    return f"{text(svc.name)} (tier {text(svc.tier)}, owner {text(svc.owner)})"


def management(card: Scorecard) -> list[tuple[str, str]]:
    started, ended = ts(card.run.started_at), ts(card.run.ended_at)
    span = ended - started if ended is not None and started is not None else None
    rows = [("Service", service_line(card)),
            ("Verdict", verdict_line(card)),
            ("Downtime", impact_line(card)),
            *([("Services impaired", line)] if (line := impaired_line(card)) else []),
            ("Data lost", _data_lost(card) or "not assessed (no RPO objective)"),
            ("When", f"{when(card.run.started_at)}, the drill took {seconds(span)}" if span is not None
             else when(card.run.started_at)),
            ("Next drill due", next_due(card))]
    return rows


def objectives(card: Scorecard) -> list[list[str]]:
    """Owner's rows: objective, target, measured, result, how measured, detail."""
    rows = []
    rto, rpo = card.objectives.rto, card.objectives.rpo
    for name, o, how, detail in (("RTO", rto, "fault to verified recovery", None), ("RPO", rpo, rpo.method, rpo.detail)):
        if not has_objective(o):
            continue
        result = "met" if o.met is True else "MISSED" if o.met is False else "not judged"
        rows.append([name, seconds(o.target_s), seconds(o.measured_s), result, text(how), text(detail)])
    if not has_objective(rpo):
        rows.append(["RPO", NONE, NONE, "no objective", NONE, text(rpo.detail)])
    return rows


def objective_summary(card: Scorecard) -> list[tuple[str, str]]:
    rows = [("RTO", objective_line(card.objectives.rto))]
    workaround = workaround_line(card)
    if workaround:
        rows.append(("Workaround", workaround))
    if has_objective(card.objectives.rpo):
        rows.append(("RPO", objective_line(card.objectives.rpo)))
    return rows


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def parameters(card: Scorecard) -> list[tuple[str, str]]:
    params = card.run.parameters
    return [(str(k), _value(v)) for k, v in sorted(params.items())] if isinstance(params, dict) else []


def sources(card: Scorecard) -> list[tuple[str, str, str]]:
    """(kind, path, sha256) of the drill and scenario files the run read."""
    found = card.run.sources
    if not isinstance(found, dict):
        return []
    return [(kind, text(item.get("path")), text(item.get("sha256")))
            for kind, item in sorted(found.items()) if isinstance(item, dict)]


def run_facts(card: Scorecard) -> list[tuple[str, str]]:
    run = card.run
    scale = run.time_scale
    rows = [("Run id", text(run.id)),
            ("Scenario", text(run.scenario)),
            ("Mode", "sandbox (simulated estate, not AWS)" if is_sandbox(card) else text(run.mode)),
            ("Endpoint", text(run.endpoint or ("AWS" if run.mode == "live" else None))),
            ("Started", when(run.started_at)),
            ("Ended", when(run.ended_at)),
            ("Operator", text(run.operator)),
            ("Accounts", ", ".join(map(str, run.account_ids or [])) or NONE),
            ("Regions", ", ".join(map(str, run.regions or [])) or NONE),
            ("Exit code", text(run.exit_code)),
            ("Seed", text(run.seed)),
            ("drtool", text(run.tool_version))]
    if isinstance(scale, int | float) and not isinstance(scale, bool) and scale != 1:
        rows.append(("Time scale", f"1/{round(1 / scale):g} (AWS-sized waits shortened)" if scale > 0 else str(scale)))
    return rows


def failed_by_service(card: Scorecard) -> list[str]:
    """Each failed check as the services it impairs: "checkout, shop-web impaired (<check>:
    <its detail>)" (issue 15); empty when the drill names no services file."""
    from drtool.services.ownership import reads

    found = card.attribution.items if card.attribution else []
    return [reads(a.impaired, a.what) for a in found if a.kind == "check"]


def impaired_line(card: Scorecard) -> str | None:
    """The services the run impaired, or None without a services file."""
    if card.attribution is None:
        return None
    return ", ".join(card.attribution.impaired) or "none of the services file's services"


def target_rows(card: Scorecard) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the targets table; with a services file, the services each impairs."""
    header = ["Resource", "Type", "Region", "Selected by"]
    rows = [[text(t.arn or t.id), text(t.type), text(t.region), text(t.selected_by)] for t in card.targets or []]
    if card.attribution is None:
        return header, rows
    impaired = [", ".join(a.impaired) or NONE for a in card.attribution.items if a.kind == "target"]
    if len(impaired) != len(rows):
        return header, rows
    return header + ["Services impaired"], [row + [who] for row, who in zip(rows, impaired, strict=True)]


def check_by_service(card: Scorecard, timeline_index: int) -> str | None:
    """The failed timeline entry at `timeline_index` as the services it impairs, if attributed."""
    from drtool.services.ownership import reads

    found = card.attribution.items if card.attribution else []
    return next((reads(a.impaired, a.what) for a in found if a.timeline_index == timeline_index), None)
