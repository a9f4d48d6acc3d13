"""JUnit XML for CI: one testsuite per drill run, a testcase per objective and per verify
check, plus `run` (error when aborted) and `rollback` (error when incomplete).

A missed objective is a <failure> naming measured vs target; anything the drill could
not measure because it was aborted is an <error>. Timestamps are UTC.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from drtool.outputs import readers
from drtool.outputs.card import describe_remaining, field_at
from drtool.outputs.view import has_objective, seconds, text, ts
from drtool.scorecard_model import Rpo, Rto, Scorecard, TimelineItem

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ABORTED = ("aborted", "rollback-incomplete")


def _clean(value: Any) -> str:
    return _INVALID_XML.sub("\ufffd", str(value))


def _secs(value: Any) -> str:
    return f"{float(value):.3f}" if isinstance(value, int | float) and not isinstance(value, bool) else "0.000"


def _figure(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "none"
    return f"{seconds(value)} ({value:g} s)"


def _case(suite: ET.Element, classname: str, name: str, time: Any = None) -> ET.Element:
    return ET.SubElement(suite, "testcase", {"classname": _clean(classname), "name": _clean(name), "time": _secs(time)})


def _outcome(case: ET.Element, tag: str, message: str, kind: str, body: str | None = None) -> None:
    element = ET.SubElement(case, tag, {"message": _clean(message), "type": kind})
    element.text = _clean(body if body is not None else message)


def _objective(suite: ET.Element, drill: str, name: str, objective: Rto | Rpo, status: str, reason: str) -> None:
    measured, target = objective.measured_s, objective.target_s
    case = _case(suite, f"drtool.{drill}.objectives", name, measured)
    figures = f"measured {_figure(measured)} vs target {_figure(target)}"
    if objective.met is True or (target is None and measured is not None):
        return  # met, or measured without a target to judge it against
    if measured is None and status in _ABORTED:
        _outcome(case, "error", f"{name} not measured: drill {status}" + (f": {reason}" if reason else ""),
                 "DrillAborted", figures)
    elif measured is None:
        detail = objective.detail if isinstance(objective, Rpo) else None
        _outcome(case, "failure", f"{name} not measured: {detail or 'service not recovered'}",
                 "ObjectiveMissed", figures)
    else:
        _outcome(case, "failure", f"{name} {seconds(measured)} exceeds target {seconds(target)}", "ObjectiveMissed",
                 figures)


def _duration(step: TimelineItem) -> float | None:
    start, end = ts(step.started_at), ts(step.ended_at)
    return end - start if start is not None and end is not None else None


def render(card: Scorecard) -> str:
    run = card.run
    drill = text(run.drill)
    status = str(run.status or "unknown")
    reason = str(run.reason or "")
    started, ended = ts(run.started_at), ts(run.ended_at)
    root = ET.Element("testsuites", {"name": "drtool"})
    suite = ET.SubElement(root, "testsuite", {"name": _clean(drill), "id": _clean(text(run.id))})
    if run.started_at:
        suite.set("timestamp", str(run.started_at)[:19])
    props = ET.SubElement(suite, "properties")
    for key in ("run.id", "run.scenario", "run.mode", "run.status", "run.started_at", "run.ended_at",
                "service.name", "service.tier", "service.owner", "integrity.sha256", "integrity.previous_sha256"):
        ET.SubElement(props, "property", {"name": key, "value": _clean(text(field_at(card, key)))})
    from drtool import __version__  # `drtool verify` re-renders with the same renderer to check this file

    ET.SubElement(props, "property", {"name": "drtool.renderer", "value": __version__})

    run_case = _case(suite, f"drtool.{drill}", "run", (ended - started) if started and ended else None)
    if status in _ABORTED or status == "unknown":
        _outcome(run_case, "error", f"drill {status}" + (f": {reason}" if reason else ""), "DrillAborted")
    for name, objective in (("RTO", card.objectives.rto), ("RPO", card.objectives.rpo)):
        if has_objective(objective):
            _objective(suite, drill, name, objective, status, reason)
    seen: dict[str, int] = {}
    for index, step in enumerate(card.timeline or []):
        if step.phase != "verify":
            continue
        name = text(step.step)
        seen[name] = seen.get(name, 0) + 1
        case = _case(suite, f"drtool.{drill}.verify", name if seen[name] == 1 else f"{name} #{seen[name]}",
                     _duration(step))
        step_status, detail = str(step.status or ""), text(step.detail)
        if step_status in ("failed", "timeout"):
            _outcome(case, "failure", f"check {step_status}: {readers.check_by_service(card, index) or detail}",
                     "CheckFailed")
        elif step_status == "skipped":
            ET.SubElement(case, "skipped", {"message": _clean(detail)})
        elif step_status == "aborted":
            _outcome(case, "error", f"check aborted: {detail}", "DrillAborted")
    if "rollback" in card.model_fields_set:
        case = _case(suite, f"drtool.{drill}", "rollback")
        if card.rollback.status == "incomplete":
            remaining = [describe_remaining(r) for r in card.rollback.remaining or []]
            _outcome(case, "error", f"rollback incomplete: {len(remaining)} change(s) remain", "RollbackIncomplete",
                     "\n".join(remaining))

    cases = suite.findall("testcase")
    counts = {"tests": len(cases), "failures": sum(1 for c in cases if c.find("failure") is not None),
              "errors": sum(1 for c in cases if c.find("error") is not None),
              "skipped": sum(1 for c in cases if c.find("skipped") is not None)}
    for element in (suite, root):
        for key, value in counts.items():
            element.set(key, str(value))
        element.set("time", _secs((ended - started) if started and ended else None))
    out = ET.SubElement(suite, "system-out")
    rto = card.objectives.rto
    out.text = _clean(f"drill {drill}: {status.upper()}; RTO {seconds(rto.measured_s)} "
                      f"(target {seconds(rto.target_s)}); scorecard sha256 "
                      f"{text(card.integrity.sha256 if card.integrity else None)}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
