"""JUnit XML for CI: one testsuite per drill run, a testcase per objective and per verify
check, plus `run` (error when aborted) and `rollback` (error when incomplete).

A missed objective is a <failure> naming measured vs target; anything the drill could
not measure because it was aborted is an <error>. Timestamps are UTC.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from drtool.outputs.view import get, has_objective, seconds, text, ts
from drtool.scorecard import describe_remaining

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


def _objective(suite: ET.Element, drill: str, name: str, objective: dict[str, Any], status: str, reason: str) -> None:
    measured, target = objective.get("measured_s"), objective.get("target_s")
    case = _case(suite, f"drtool.{drill}.objectives", name, measured)
    figures = f"measured {_figure(measured)} vs target {_figure(target)}"
    if objective.get("met") is True or (target is None and measured is not None):
        return  # met, or measured without a target to judge it against
    if measured is None and status in _ABORTED:
        _outcome(case, "error", f"{name} not measured: drill {status}" + (f": {reason}" if reason else ""),
                 "DrillAborted", figures)
    elif measured is None:
        _outcome(case, "failure", f"{name} not measured: {objective.get('detail') or 'service not recovered'}",
                 "ObjectiveMissed", figures)
    else:
        _outcome(case, "failure", f"{name} {seconds(measured)} exceeds target {seconds(target)}", "ObjectiveMissed",
                 figures)


def _duration(step: dict[str, Any]) -> float | None:
    start, end = ts(step.get("started_at")), ts(step.get("ended_at"))
    return end - start if start is not None and end is not None else None


def render(scorecard: dict[str, Any]) -> str:
    drill = text(get(scorecard, "run.drill"))
    status = str(get(scorecard, "run.status") or "unknown")
    reason = str(get(scorecard, "run.reason") or "")
    started, ended = ts(get(scorecard, "run.started_at")), ts(get(scorecard, "run.ended_at"))
    root = ET.Element("testsuites", {"name": "drtool"})
    suite = ET.SubElement(root, "testsuite", {"name": _clean(drill), "id": _clean(text(get(scorecard, "run.id")))})
    if get(scorecard, "run.started_at"):
        suite.set("timestamp", str(get(scorecard, "run.started_at"))[:19])
    props = ET.SubElement(suite, "properties")
    for key in ("run.id", "run.scenario", "run.mode", "run.status", "run.started_at", "run.ended_at",
                "service.name", "service.tier", "service.owner", "integrity.sha256", "integrity.previous_sha256"):
        ET.SubElement(props, "property", {"name": key, "value": _clean(text(get(scorecard, key)))})
    from drtool import __version__  # `drtool verify` re-renders with the same renderer to check this file

    ET.SubElement(props, "property", {"name": "drtool.renderer", "value": __version__})

    run_case = _case(suite, f"drtool.{drill}", "run", (ended - started) if started and ended else None)
    if status in _ABORTED or status == "unknown":
        _outcome(run_case, "error", f"drill {status}" + (f": {reason}" if reason else ""), "DrillAborted")
    for name in ("rto", "rpo"):
        objective = get(scorecard, f"objectives.{name}")
        if has_objective(objective):
            _objective(suite, drill, name.upper(), objective, status, reason)
    seen: dict[str, int] = {}
    for step in get(scorecard, "timeline") or []:
        if not isinstance(step, dict) or step.get("phase") != "verify":
            continue
        name = text(step.get("step"))
        seen[name] = seen.get(name, 0) + 1
        case = _case(suite, f"drtool.{drill}.verify", name if seen[name] == 1 else f"{name} #{seen[name]}",
                     _duration(step))
        step_status, detail = str(step.get("status") or ""), text(step.get("detail"))
        if step_status in ("failed", "timeout"):
            _outcome(case, "failure", f"check {step_status}: {detail}", "CheckFailed")
        elif step_status == "skipped":
            ET.SubElement(case, "skipped", {"message": _clean(detail)})
        elif step_status == "aborted":
            _outcome(case, "error", f"check aborted: {detail}", "DrillAborted")
    rollback = get(scorecard, "rollback")
    if isinstance(rollback, dict):
        case = _case(suite, f"drtool.{drill}", "rollback")
        if rollback.get("status") == "incomplete":
            remaining = [describe_remaining(r) for r in rollback.get("remaining") or []]
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
    out.text = _clean(f"drill {drill}: {status.upper()}; RTO {seconds(get(scorecard, 'objectives.rto.measured_s'))} "
                      f"(target {seconds(get(scorecard, 'objectives.rto.target_s'))}); scorecard sha256 "
                      f"{text(get(scorecard, 'integrity.sha256'))}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
