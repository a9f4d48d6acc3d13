"""Coverage as text (gaps first, worst first) and as JSON for machines."""

from __future__ import annotations

from typing import Any

from drtool.durations import format_duration
from drtool.services.coverage import Cell, Coverage
from drtool.services.results import Result
from drtool.timing import rfc3339


def _s(value: float | None) -> str:
    return "-" if value is None else format_duration(value)


def cell_text(cell: Cell) -> str:
    """"met: RTO 3.2s/30m RPO 1.8s/5m (2026-03-01, live)" and the like."""
    if cell.state == "not-required":
        return "n/a"
    shown = cell.latest or cell.latest_sandbox
    if shown is None:
        return cell.state
    measured = f"RTO {_s(shown.rto_s)}/{_s(cell.rto_objective_s)}"
    if cell.rpo_objective_s is not None or shown.rpo_s is not None:
        measured += f" RPO {_s(shown.rpo_s)}/{_s(cell.rpo_objective_s)}"
    return f"{cell.state}: {measured} ({shown.started_at[:10]}, {shown.mode})"


def render_text(cov: Coverage) -> str:
    lines = []
    if cov.gaps:
        lines += [f"{'GATE' if g in cov.gating else 'gap '}  {g}" for g in cov.gaps]
    else:
        lines.append("no gaps: every required service x disruption type has a current live drill")
    for svc in cov.services:
        lines.append("")
        lines.append(f"{svc.name}  tier {svc.tier}  owner {svc.owner}  -  {svc.capability}")
        for cell in svc.cells:
            lines.append(f"  {cell.disruption:<16} {cell_text(cell)}")
        if svc.posture:
            p = svc.posture
            lines.append(f"  backups          {'compliant' if p['compliant'] else 'NOT compliant'}: "
                         f"{p['compliant_resources']}/{p['resources']} resource(s) within RPO {_s(p['rpo_s'])} "
                         f"({p['checked_at'][:10]}, {p['mode']})")
        else:
            lines.append("  backups          no posture recorded (give a drill `posture: {backups: ...}`)")
        for action in svc.actions:
            if action.status == "open":
                due = f" due {action.due}" if action.due else ""
                late = " OVERDUE" if action in cov.overdue_actions else ""
                lines.append(f"  {action.source:<16} {action.text}{' (' + action.owner + ')' if action.owner else ''}"
                             f"{due}{late}")
    return "\n".join(lines) + "\n"


def _result(result: Result | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {"drill": result.drill, "run_id": result.run_id, "started_at": result.started_at, "mode": result.mode,
            "status": result.status, "rto_measured_s": result.rto_s, "rpo_measured_s": result.rpo_s}


def to_json(cov: Coverage) -> dict[str, Any]:
    return {
        "now": rfc3339(cov.now), "exit_code": cov.exit_code, "gaps": cov.gaps, "gating": cov.gating,
        "services": [{
            "name": s.name, "tier": s.tier, "owner": s.owner, "capability": s.capability, "gate": s.gate,
            "posture": s.posture,
            "cells": [{"disruption": c.disruption, "required": c.required, "state": c.state,
                       "rto_objective_s": c.rto_objective_s, "rpo_objective_s": c.rpo_objective_s,
                       "rto_met": c.rto_met, "rpo_met": c.rpo_met, "due_at": c.due_at,
                       "latest": _result(c.latest), "latest_sandbox": _result(c.latest_sandbox)} for c in s.cells],
            "actions": [{"source": a.source, "drill": a.drill, "run_id": a.run_id, "text": a.text, "owner": a.owner,
                         "due": a.due, "status": a.status, "overdue": a in cov.overdue_actions} for a in s.actions],
        } for s in cov.services],
    }
