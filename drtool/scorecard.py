"""Fold a run's journal into its scorecard (spec section 6). Pure: events in, dict out.

The scorecard is never assembled from in-memory state, only from the journal, so a
crashed run, a finished run and a rolled-back run are all described the same way.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drtool.estimate import NO_ESTIMATE, Bounds, rto_bounds
from drtool.rollback import HELD_BACK, pending_undos
from drtool.services.ownership import (
    Failed,
    Ownership,
    Targeted,
    attribute,
    failed_entries,
    impaired_services,
)
from drtool.timing import rfc3339

SCHEMA = "drtool.scorecard/v1"
SCORECARD_NAME = "scorecard.json"

STATUS_EXIT = {"passed": 0, "failed": 1, "aborted": 3, "rollback-incomplete": 5}


def _workaround(events: list[dict[str, Any]], fault_at: float | None,
                recovered_at: float | None) -> dict[str, Any]:
    """The workaround track (issue 15): when the business continued, degraded, and which
    came first, the workaround or the full recovery. Absent when the scenario has none."""
    done = _first(events, "workaround")
    if done is None and not any(e["event"] == "step.started" and e.get("phase") == "workaround" for e in events):
        return {}
    at = done["t"] if done else None
    first = None
    if at is not None or recovered_at is not None:
        first = "workaround" if at is not None and (recovered_at is None or at < recovered_at) else "recovery"
    return {"workaround_at": rfc3339(at), "workaround_s": _span(fault_at, at), "first": first}


def _rto_estimate(fault_at: float | None, recovered_at: float | None,
                  recovered: dict[str, Any] | None) -> dict[str, float | None]:
    """The midpoint of the last failing and the first passing poll (and its half-width)."""
    resolution = recovered.get("resolution_s") if recovered else None
    bounds = rto_bounds(fault_at, recovered_at, resolution if isinstance(resolution, int | float) else None)
    return bounds.fields() if bounds else dict(NO_ESTIMATE)


def _round(value: float | None) -> float | None:
    return round(value, 3) if isinstance(value, int | float) else None


def _span(start: float | None, end: float | None) -> float | None:
    return round(end - start, 3) if start is not None and end is not None else None


def _first(events: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((e for e in events if e["event"] == name), None)


def _timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    timeline: list[dict[str, Any]] = []
    open_steps: dict[tuple[str, str, int], dict[str, Any]] = {}
    for e in events:
        kind = e["event"]
        if kind == "step.started":
            item = {"phase": e["phase"], "step": e["step"], "kind": e["kind"], "started_at": e["at"],
                    "ended_at": None, "status": "running", "detail": ""}
            open_steps[(e["phase"], e["step"], e.get("index", 0))] = item
            timeline.append(item)
        elif kind == "step.finished":
            finished = open_steps.pop((e["phase"], e["step"], e.get("index", 0)), None)
            if finished is not None:
                finished.update(ended_at=e["at"], status=e["status"], detail=e.get("detail", ""))
        elif kind == "undo.started":
            item = {"phase": "rollback", "step": e["undo"]["name"], "kind": "undo", "started_at": e["at"],
                    "ended_at": None, "status": "running", "detail": e.get("summary", "")}
            open_steps[("undo", str(e["intent"]), 0)] = item
            timeline.append(item)
        elif kind in ("undo.done", "undo.failed"):
            undone = open_steps.pop(("undo", str(e["intent"]), 0), None)
            if undone is not None:
                ok = kind == "undo.done"
                undone.update(ended_at=e["at"], status="ok" if ok else "failed",
                              detail=f"{undone['detail']}: {e.get('detail') if ok else e.get('error')}")
    for item in timeline:
        if item["status"] == "running":
            item["status"] = "interrupted"
    return timeline


def _unmeasured(events: list[dict[str, Any]], sources: list[str] | None, target: float | None) -> str:
    """Why no RPO was measured, from what the journal knows (a crash folds here too)."""
    if not sources:
        return "no RPO source configured (add an `rpo:` block)" if target is not None else "no RPO objective"
    written = [e for e in events if e["event"] == "note" and "canaries_written" in e]
    canaries = "; ".join(f"{e['canaries_written']} canar{'y' if e['canaries_written'] == 1 else 'ies'} written to "
                         f"{e.get('canary_store') or e.get('step')}" for e in written)
    started = any(e["event"] == "change.intent" and str(e.get("step", "")).startswith("rpo.canary") for e in events)
    if not canaries and started:
        canaries = "canaries were being written"
    return (f"not measured: the run stopped before the RPO measurement (sources {', '.join(sources)}"
            + (f"; {canaries}" if canaries else "") + ")")


def _rpo(events: list[dict[str, Any]], target: float | None,
         sources: list[str] | None = None) -> dict[str, Any]:
    measurements: list[dict[str, Any]] = []
    for e in events:
        if e["event"] == "rpo.measured":
            measurements.extend(e.get("measurements", []))
    measured = [m["measured_s"] for m in measurements if m.get("measured_s") is not None]
    worst = max(measured) if measured else None
    methods = sorted({m["method"] for m in measurements})
    headline: dict[str, Any] | None
    if worst is not None:
        headline = next(m for m in measurements if m.get("measured_s") == worst)
    else:
        headline = measurements[0] if measurements else None
    met = None if target is None else worst is not None and worst <= target
    detail = headline["detail"] if headline else _unmeasured(events, sources, target)
    canaries = [m for m in measurements if m.get("method") == "canary" and m.get("measured_s") is not None
                or m.get("method") == "canary" and "lost_writes" in (m.get("evidence") or {})]
    lost = sum(int((m.get("evidence") or {}).get("lost_writes") or 0) for m in canaries) if canaries else None
    bounds = (Bounds(headline["lower_bound_s"], worst) if worst is not None and headline is not None
              and isinstance(headline.get("lower_bound_s"), int | float) else None)
    out = {"target_s": target, "measured_s": worst, "met": met, "lost_canaries": lost,
           **(bounds.fields() if bounds else NO_ESTIMATE),
           "method": "+".join(methods) if methods else None, "detail": detail,
           "evidence": headline.get("evidence", {}) if headline else {}, "measurements": measurements}
    if sources is not None:
        out["sources"] = list(sources)
    return out


def _attribution(events: list[dict[str, Any]], started: dict[str, Any], timeline: list[dict[str, Any]],
                 targets: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Root cause to service (issue 15): each failed check (the impact the steady state saw,
    then each timeline entry that did not end ok) and each targeted resource, with the
    services that own it and those it impairs, from the services file journalled at
    run.started. None when the drill names no services file."""
    recorded = started.get("ownership")
    if not isinstance(recorded, dict):
        return None
    ownership = Ownership.from_json(recorded)
    own = (started.get("service") or {}).get("name")
    impact = _first(events, "impact")
    failed = ([Failed(None, "failed", str(impact.get("detail") or ""), None)] if impact else [])
    failed += failed_entries(timeline)
    found = attribute(ownership, own, failed, [Targeted(t["id"], t["arn"], t["type"], t["selected_by"] or "", t["step"])
                                               for t in targets])
    return {"services_file": ownership.file, "impaired": impaired_services(ownership, own, found),
            "items": [{"kind": a.kind, "what": a.what, "step": a.step, "timeline_index": a.timeline_index,
                       "owners": list(a.owners), "impaired": list(a.impaired)} for a in found]}


def _verdict(finished: dict[str, Any] | None, events: list[dict[str, Any]], rto_met: bool,
             rpo_met: bool | None) -> tuple[str, str | None, str]:
    """(status, reason, ended_at): a run that completed passes only if every objective is met."""
    if finished is None:
        return "aborted", "the run stopped without finishing (crash or kill); see the journal", events[-1]["at"]
    status, reason = finished["status"], finished.get("reason")
    if status == "passed":
        missed = [name for name, met in (("RTO", rto_met), ("RPO", rpo_met)) if met is False]
        if missed:
            status, reason = "failed", f"objective missed: {', '.join(missed)}"
    return status, reason, finished["at"]


def build_scorecard(events: list[dict[str, Any]], *, now: float | None = None) -> dict[str, Any]:
    """The scorecard of one run, without `integrity` (see `drtool.integrity.seal`)."""
    started = _first(events, "run.started")
    if started is None:
        raise ValueError("the journal has no run.started event")
    finished = _first(events, "run.finished")
    fault = _first(events, "fault")
    recovered = _first(events, "recovered")

    fault_at = fault["t"] if fault else None
    recovered_at = recovered["t"] if recovered else None
    rto_measured = round(recovered_at - fault_at, 3) if fault_at is not None and recovered_at is not None else None
    rto_target = started["objectives"]["rto_s"]
    impact = _first(events, "impact")
    impact_at = impact["t"] if impact else None
    has_steady_state = bool(started.get("steady_state_checks"))
    rto = {"target_s": rto_target, "measured_s": rto_measured,
           "met": rto_measured is not None and rto_measured <= rto_target,
           "fault_at": rfc3339(fault_at), "recovered_at": rfc3339(recovered_at),
           "impact_at": rfc3339(impact_at),
           "impact_observed": (impact is not None) if has_steady_state else None,
           "detection_s": _span(fault_at, impact_at), "downtime_s": _span(impact_at, recovered_at),
           "resolution_s": _round(recovered.get("resolution_s")) if recovered else None,
           **_rto_estimate(fault_at, recovered_at, recovered),
           **_workaround(events, fault_at, recovered_at)}
    rpo = _rpo(events, started["objectives"].get("rpo_s"), started.get("rpo_sources"))

    had_changes = any(e["event"] == "change.intent" and e.get("undo") for e in events)
    pending = pending_undos(events)
    remaining = [{"summary": p.summary, "undo": p.undo.name, "region": p.undo.region, "step": p.step,
                  "reason": p.reason} for p in pending]
    rollback_status = "incomplete" if remaining else ("complete" if had_changes else "not-needed")

    status, reason, ended_at = _verdict(finished, events, rto["met"], rpo["met"])
    if remaining:
        status = "rollback-incomplete"
        held = sum(1 for p in pending if p.reason.startswith(HELD_BACK))
        left = ([f"{len(remaining) - held} change(s) could not be undone"] if len(remaining) > held else []) + \
            ([f"{held} change(s) held back by the stopped failback"] if held else [])
        reason = (reason + "; " if reason else "") + ", ".join(left)

    targets = []
    for e in events:
        if e["event"] == "targets.resolved":
            for t in e["targets"]:
                targets.append({"id": t["id"], "arn": t.get("arn"), "type": t["type"], "region": t["region"],
                                "selected_by": t.get("selected_by", ""), "step": e.get("step")})

    timeline = _timeline(events)
    attribution = _attribution(events, started, timeline, targets)
    return {
        "schema": SCHEMA,
        "run": {
            "id": started["run_id"], "drill": started["drill"], "scenario": started["scenario"],
            "disruption": started.get("disruption"),
            "mode": started["mode"], "status": status, "exit_code": STATUS_EXIT[status], "reason": reason,
            "started_at": started["at"], "ended_at": ended_at, "tool_version": started["tool_version"],
            "account_ids": started["account_ids"], "regions": started["regions"], "seed": started.get("seed"),
            "operator": started.get("operator"), "sources": started.get("sources"),
            "parameters": started.get("parameters"), "time_scale": started.get("time_scale"),
            "endpoint": started.get("endpoint"),
        },
        "service": started["service"],
        "objectives": {"rto": rto, "rpo": rpo},
        "timeline": timeline,
        "targets": targets,
        "rollback": {"status": rollback_status, "remaining": remaining, **_failback(events)},
        "follow_up": [{k: e.get(k) for k in ("resource", "summary", "how", "step")}
                      for e in events if e["event"] == "follow_up"],
        "manual": [{k: e.get(k) for k in ("step", "text", "acknowledged_by", "at", "assumed")}
                   for e in events if e["event"] == "manual.acknowledged"],
        "schedule": {"every_s": started.get("schedule_every_s")},
        "posture": next((e["posture"] for e in events if e["event"] == "posture"), None),
        "journal": {"events": len(events), "file": "journal.jsonl"},
        **({"attribution": attribution} if attribution is not None else {}),
    }


def _failback(events: list[dict[str, Any]]) -> dict[str, Any]:
    """`rollback.failback` when the run recorded a failback plan. The newest attempt wins
    (`drtool rollback` replaying the order after a crash comes after the run's own)."""
    if not any(e["event"] == "failback.plan" for e in events):
        return {}
    attempt: list[dict[str, Any]] = []
    status, reason = "not-run", None
    for e in events:
        if e["event"] == "failback.step":
            if status != "interrupted":         # the first step of a new attempt
                attempt, status, reason = [], "interrupted", None
            attempt.append({"index": e.get("index"), "kind": e.get("kind"), "name": e.get("name"),
                            "undoes": e.get("undoes"), "status": e.get("status"), "detail": e.get("detail") or ""})
        elif e["event"] == "failback.finished":
            status, reason = e.get("status") or "complete", e.get("reason")
    return {"failback": {"status": status, "reason": reason, "steps": attempt}}


def describe_remaining(item: dict[str, Any] | str) -> str:
    """One line for a `rollback.remaining[]` entry (plain strings come from older scorecards)."""
    if isinstance(item, str):
        return item
    return f"{item.get('summary', '?')} [{item.get('undo', '?')}]: {item.get('reason', '')}"


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to a temp file in the same folder, fsync, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_scorecard(run_dir: Path, drill_name: str,
                    previous_sha256: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """Fold the journal in `run_dir`, seal it into the hash chain (with the journal's head
    digest) and write it atomically; then point the drill's HEAD.json at it.
    `previous_sha256(drill)` gives the previous run's integrity block (store.previous_integrity)
    or only its sha256."""
    from drtool.integrity import seal
    from drtool.journal import JOURNAL_NAME, journal_head, read_journal
    from drtool.outputs.head import write_head

    events = read_journal(run_dir / JOURNAL_NAME)
    card = build_scorecard(events)
    previous = previous_sha256(drill_name) if previous_sha256 else None
    sealed = seal(card, previous, journal_sha256=journal_head(run_dir / JOURNAL_NAME))
    write_json_atomic(run_dir / SCORECARD_NAME, sealed)
    write_head(run_dir.parent, sealed)
    return sealed
