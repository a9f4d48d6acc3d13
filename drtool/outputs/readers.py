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
    get,
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
)

SANDBOX_TITLE = "SANDBOX"


def service(scorecard: dict[str, Any]) -> str:
    return str(get(scorecard, "service.name") or get(scorecard, "run.drill") or "the service")


def sandbox_banner(scorecard: dict[str, Any]) -> str | None:
    """The banner of a sandbox run, None for a run against AWS."""
    if not is_sandbox(scorecard):
        return None
    where = get(scorecard, "run.endpoint")
    at = f" at {where}" if where else ""
    return (f"SANDBOX REHEARSAL: this drill ran against a simulated estate{at}, not AWS. It is no evidence "
            "about the real environment and does not count as a test for the schedule.")


def title_prefix(scorecard: dict[str, Any]) -> str:
    return f"{SANDBOX_TITLE}: " if is_sandbox(scorecard) else ""


def _downtime(scorecard: dict[str, Any]) -> str:
    svc, rto = service(scorecard), get(scorecard, "objectives.rto") or {}
    if get(scorecard, "objectives.rto.fault_at") is None:
        return f"no fault was injected; {svc} was not affected"
    if rto.get("impact_observed") is False:
        return f"{svc} stayed up: no user-facing check failed after the fault"
    if rto.get("recovered_at") is None:
        return (f"{svc} went down and did not recover during the drill" if rto.get("impact_at")
                else f"{svc} did not recover during the drill")
    if rto.get("downtime_s") is not None:
        return f"{svc} was down {seconds(rto.get('downtime_s'))}"
    return f"{svc} recovered {seconds(rto.get('measured_s'))} after the fault"


def _data_lost(scorecard: dict[str, Any]) -> str | None:
    rpo = get(scorecard, "objectives.rpo") or {}
    lost, measured = rpo.get("lost_canaries"), rpo.get("measured_s")
    window = f" (up to {seconds(measured)} of data)" if isinstance(measured, int | float) and measured > 0 else ""
    if isinstance(lost, int) and not isinstance(lost, bool):
        if lost == 0:
            return "no test write lost" + window
        return f"{lost} test write{'' if lost == 1 else 's'} lost{window}"
    if isinstance(measured, int | float) and not isinstance(measured, bool):
        return "no data lost" if measured == 0 else f"up to {seconds(measured)} of data lost"
    if has_objective(rpo) or rpo.get("sources"):
        return "data loss not measured"
    return None


def headline(scorecard: dict[str, Any]) -> str:
    """Business impact in one sentence: downtime, then data lost."""
    parts = [_downtime(scorecard)]
    data = _data_lost(scorecard)
    if data:
        parts.append(data)
    return "; ".join(parts) + "."


def verdict_line(scorecard: dict[str, Any]) -> str:
    status, reason = verdict(scorecard), get(scorecard, "run.reason")
    meaning = {"PASSED": "every objective met", "FAILED": "an objective was missed",
               "ABORTED": "the drill stopped early and was rolled back",
               "ROLLBACK-INCOMPLETE": "some changes are still in place"}.get(status, "")
    return status + (f": {reason}" if reason else f": {meaning}" if meaning else "")


def management(scorecard: dict[str, Any]) -> list[tuple[str, str]]:
    svc = get(scorecard, "service") or {}
    started, ended = get(scorecard, "run.started_at"), get(scorecard, "run.ended_at")
    span = ts(ended) - ts(started) if ts(ended) is not None and ts(started) is not None else None  # type: ignore[operator]
    rows = [("Service", f"{text(svc.get('name'))} (tier {text(svc.get('tier'))}, owner {text(svc.get('owner'))})"),
            ("Verdict", verdict_line(scorecard)),
            ("Downtime", impact_line(scorecard)),
            ("Data lost", _data_lost(scorecard) or "not assessed (no RPO objective)"),
            ("When", f"{when(started)}, the drill took {seconds(span)}" if span is not None else when(started)),
            ("Next drill due", next_due(scorecard))]
    return rows


def objectives(scorecard: dict[str, Any]) -> list[list[str]]:
    """Owner's rows: objective, target, measured, result, how measured, detail."""
    rows = []
    for name in ("rto", "rpo"):
        o = get(scorecard, f"objectives.{name}")
        if not has_objective(o):
            continue
        met = o.get("met")
        result = "met" if met is True else "MISSED" if met is False else "not judged"
        how = o.get("method") or ("fault to verified recovery" if name == "rto" else None)
        rows.append([name.upper(), seconds(o.get("target_s")), seconds(o.get("measured_s")), result, text(how),
                     text(o.get("detail"))])
    if not has_objective(get(scorecard, "objectives.rpo")):
        rows.append(["RPO", NONE, NONE, "no objective", NONE, text(get(scorecard, "objectives.rpo.detail"))])
    return rows


def objective_summary(scorecard: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [("RTO", objective_line(get(scorecard, "objectives.rto")))]
    if has_objective(get(scorecard, "objectives.rpo")):
        rows.append(("RPO", objective_line(get(scorecard, "objectives.rpo"))))
    return rows


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def parameters(scorecard: dict[str, Any]) -> list[tuple[str, str]]:
    params = get(scorecard, "run.parameters")
    return [(str(k), _value(v)) for k, v in sorted(params.items())] if isinstance(params, dict) else []


def sources(scorecard: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, path, sha256) of the drill and scenario files the run read."""
    found = get(scorecard, "run.sources")
    if not isinstance(found, dict):
        return []
    return [(kind, text(item.get("path")), text(item.get("sha256")))
            for kind, item in sorted(found.items()) if isinstance(item, dict)]


def run_facts(scorecard: dict[str, Any]) -> list[tuple[str, str]]:
    scale = get(scorecard, "run.time_scale")
    rows = [("Run id", text(get(scorecard, "run.id"))),
            ("Scenario", text(get(scorecard, "run.scenario"))),
            ("Mode", "sandbox (simulated estate, not AWS)" if is_sandbox(scorecard) else text(get(scorecard, "run.mode"))),
            ("Endpoint", text(get(scorecard, "run.endpoint") or ("AWS" if get(scorecard, "run.mode") == "live" else None))),
            ("Started", when(get(scorecard, "run.started_at"))),
            ("Ended", when(get(scorecard, "run.ended_at"))),
            ("Operator", text(get(scorecard, "run.operator"))),
            ("Accounts", ", ".join(map(str, get(scorecard, "run.account_ids") or [])) or NONE),
            ("Regions", ", ".join(map(str, get(scorecard, "run.regions") or [])) or NONE),
            ("Exit code", text(get(scorecard, "run.exit_code"))),
            ("Seed", text(get(scorecard, "run.seed"))),
            ("drtool", text(get(scorecard, "run.tool_version")))]
    if isinstance(scale, int | float) and not isinstance(scale, bool) and scale != 1:
        rows.append(("Time scale", f"1/{round(1 / scale):g} (AWS-sized waits shortened)" if scale > 0 else str(scale)))
    return rows
