"""AWS FIS experiment template -> drtool scenario + drill skeleton.

Template shape (FIS User Guide, "Experiment template components" / "Template syntax",
https://docs.aws.amazon.com/fis/latest/userguide/experiment-templates.html, and the
CreateExperimentTemplate API request syntax):
`{description, targets: {name: {resourceType, resourceArns | resourceTags, filters:
[{path, values}], selectionMode: ALL | COUNT(n) | PERCENT(n), parameters}}, actions: {name:
{actionId, description, parameters, targets: {Key: targetName}, startAfter: [action]}},
stopConditions: [{source: aws:cloudwatch:alarm | none, value: alarmArn}], roleArn, tags}`.

Native mapping only where the selection is exactly representable by a drtool selector
(never wider than FIS's): aws:ec2:terminate-instances, aws:ec2:stop-instances,
aws:network:disrupt-connectivity (scope `all`), aws:rds:failover-db-cluster (by ARN).
Every other action, and any action whose targets drtool cannot reproduce exactly, goes
into one `fis.experiment` step carrying the original actions and targets.
"""

from __future__ import annotations

import re
from typing import Any

from drtool.aws.az_ids import FIS_AZ_PATHS
from drtool.importers.output import ImportResult
from drtool.importers.steps import REGION, arn_parts, region_of, unusable

NATIVE = {  # FIS actionId -> (drtool action, target key, FIS resource type)
    "aws:ec2:terminate-instances": ("ec2.terminate-instances", "Instances", "aws:ec2:instance"),
    "aws:ec2:stop-instances": ("ec2.stop-instances", "Instances", "aws:ec2:instance"),
    "aws:network:disrupt-connectivity": ("ec2.blackhole-subnets", "Subnets", "aws:ec2:subnet"),
    "aws:rds:failover-db-cluster": ("rds.failover-cluster", "Clusters", "aws:rds:cluster"),
}
_MODE = re.compile(r"^(ALL|COUNT\((\d+)\)|PERCENT\((\d+(?:\.\d+)?)\))$")


class _Template:
    def __init__(self, data: dict[str, Any]) -> None:
        self.targets: dict[str, Any] = _mapping(data.get("targets"))
        self.actions: dict[str, Any] = _mapping(data.get("actions"))
        self.role_arn = data.get("roleArn") if isinstance(data.get("roleArn"), str) else None
        self.regions: set[str] = set()
        self.accounts: set[str] = set()
        self.notes: list[str] = []
        self.unmapped: list[str] = []

    def saw_arn(self, arn: str) -> tuple[str, str, str, str] | None:
        parts = arn_parts(arn)
        if parts:
            if parts[1]:
                self.regions.add(parts[1])
            if re.fullmatch(r"\d{12}", parts[2]):
                self.accounts.add(parts[2])
        return parts


def _mapping(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items() if isinstance(v, dict)} if isinstance(value, dict) else {}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _order(actions: dict[str, Any]) -> list[str]:
    """Action names with every `startAfter` before its dependants (file order otherwise)."""
    done: list[str] = []
    pending = list(actions)
    while pending:
        for name in pending:
            after = [str(a) for a in _list(actions[name].get("startAfter"))]
            if all(a in done or a not in actions for a in after):
                done.append(name)
                pending.remove(name)
                break
        else:                                   # a cycle: FIS would refuse it; keep file order
            done += pending
            break
    return done


def _selector(tpl: _Template, target: dict[str, Any], rtype: str) -> dict[str, Any] | str:
    """A drtool `targets:` selector matching exactly what FIS would select, or why not."""
    if target.get("resourceType") != rtype:
        return f"resource type {target.get('resourceType')!r} is not {rtype}"
    if target.get("parameters") or target.get("resourceArns") and not isinstance(target["resourceArns"], list):
        return "target parameters are FIS-only"
    selector: dict[str, Any] = {"region": REGION}
    arns = _list(target.get("resourceArns"))
    if arns:
        ids = []
        for arn in arns:
            parts = tpl.saw_arn(arn)
            if parts is None:
                return f"{arn!r} is not an ARN"
            ids.append(parts[3])
        selector["ids"] = ids
    tags = _dict(target.get("resourceTags"))
    if tags:
        selector["tags"] = {str(k): str(v) for k, v in tags.items()}
    for flt in _list(target.get("filters")):
        path, values = (flt.get("path"), flt.get("values")) if isinstance(flt, dict) else (None, None)
        if path in FIS_AZ_PATHS and isinstance(values, list) and values and all(isinstance(v, str) for v in values):
            selector["az"] = values[0] if len(values) == 1 else list(values)
        elif path == "State.Name" and rtype == "aws:ec2:instance" and set(map(str, _list(values))) <= {"running", "pending"}:
            continue                            # drtool acts on pending/running instances only anyway
        else:
            return f"filter {path!r} has no drtool selector"
    if len(selector) == 1:
        return "no resourceArns, resourceTags or zone filter"
    match = _MODE.match(str(target.get("selectionMode", "ALL")))
    if not match:
        return f"selectionMode {target.get('selectionMode')!r}"
    if match.group(2):
        selector["select"] = {"count": int(match.group(2))}
    elif match.group(3):
        percent = float(match.group(3))
        selector["select"] = {"percent": int(percent) if percent.is_integer() else percent}
    return selector


def _native(tpl: _Template, name: str, action: dict[str, Any]) -> dict[str, Any] | None:
    """The drtool step for one FIS action, or None (it then goes to fis.experiment)."""
    mapped = NATIVE.get(str(action.get("actionId")))
    if not mapped:
        return None
    drtool_action, key, rtype = mapped
    params = _dict(action.get("parameters"))
    targets = _dict(action.get("targets"))
    target = tpl.targets.get(str(targets.get(key)))
    selector: dict[str, Any] | str
    if target is None or set(targets) != {key}:
        selector = f"its targets {targets!r} are not one `{key}` target"
    elif drtool_action == "ec2.blackhole-subnets" and params.get("scope", "all") != "all":
        selector = f"scope {params.get('scope')!r} (drtool black-holes all traffic only)"
    else:
        selector = _selector(tpl, target, rtype)
    if isinstance(selector, str):
        tpl.notes.append(f"FIS action {name!r} ({action.get('actionId')}) kept in fis.experiment: {selector}")
        return None
    step: dict[str, Any] = {"action": drtool_action, "name": f"{name} (from FIS {action['actionId']})"}
    if drtool_action == "rds.failover-cluster":
        ids = selector.get("ids") or []
        if len(ids) != 1 or set(selector) - {"region", "ids"}:
            tpl.notes.append(f"FIS action {name!r} kept in fis.experiment: rds.failover-cluster takes one "
                             "cluster by identifier (give one resourceArn)")
            return None
        step["with"] = {"cluster": ids[0], "region": REGION}
    else:
        step["targets"] = selector
    if "duration" in params or "startInstancesAfterDuration" in params:
        tpl.notes.append(f"{name!r}: FIS ends the fault after {params.get('duration') or params.get('startInstancesAfterDuration')}; "
                         "drtool holds it until verify passes (or the drill aborts), then undoes it")
    return step


def _fis_step(tpl: _Template, names: list[str]) -> dict[str, Any]:
    """One fis.experiment step carrying the original actions and the targets they use."""
    actions = {}
    for name in names:
        action = dict(tpl.actions[name])
        if "startAfter" in action:
            action["startAfter"] = [a for a in _list(action["startAfter"]) if a in names]
            if not action["startAfter"]:
                del action["startAfter"]
        actions[name] = action
    used = {str(t) for a in actions.values() for t in _dict(a.get("targets")).values()}
    for target in (tpl.targets[t] for t in sorted(used) if t in tpl.targets):
        for arn in _list(target.get("resourceArns")):
            tpl.saw_arn(arn)
    step: dict[str, Any] = {"action": "fis.experiment", "name": "FIS actions drtool has no native step for",
                            "with": {"region": REGION, "actions": actions,
                                     "targets": {t: tpl.targets[t] for t in sorted(used) if t in tpl.targets}}}
    if tpl.role_arn:
        step["with"]["role_arn"] = tpl.role_arn
        tpl.saw_arn(tpl.role_arn)
    return step


def _stop_conditions(tpl: _Template, data: dict[str, Any]) -> list[dict[str, str]]:
    found = []
    for cond in _list(data.get("stopConditions")):
        if not isinstance(cond, dict) or cond.get("source") == "none":
            continue
        parts = arn_parts(str(cond.get("value", "")))
        if cond.get("source") == "aws:cloudwatch:alarm" and parts and parts[0] == "cloudwatch":
            tpl.saw_arn(str(cond["value"]))
            found.append({"alarm": parts[3], "region": parts[1]} if parts[1] else {"alarm": parts[3]})
        else:
            tpl.unmapped.append(f"stop condition {cond!r}: only aws:cloudwatch:alarm ARNs map to guardrails")
    return found


def from_fis(data: dict[str, Any], *, name: str, source: str, region: str | None = None) -> ImportResult:
    """Map one FIS experiment template (already parsed) to a scenario and a drill."""
    if isinstance(data.get("experimentTemplate"), dict):   # `aws fis get-experiment-template` output
        data = data["experimentTemplate"]
    tpl = _Template(data)
    if not tpl.actions:
        tpl.unmapped.append("the template has no actions: nothing to inject")
    inject: list[dict[str, Any]] = []
    rest: list[str] = []
    pending: list[dict[str, Any]] = []
    order = _order(tpl.actions)
    for action_name in order:
        step = _native(tpl, action_name, tpl.actions[action_name])
        if step is None:
            rest.append(action_name)
        else:
            inject.append(step)
    parallel = [n for n in order if not _list(tpl.actions[n].get("startAfter"))]
    if len(parallel) > 1:
        tpl.notes.append(f"FIS starts {', '.join(parallel)} together; drtool runs inject steps one after "
                         "another in the order above (actions inside fis.experiment keep FIS's timing)")
    if rest:
        step = _fis_step(tpl, rest)
        why = unusable("action", "fis.experiment", step["with"])
        if why is None:
            inject.append(step)
        else:
            tpl.unmapped.append(f"FIS actions {', '.join(rest)} ({why}): not imported; the fis.experiment "
                                "step that would carry them is at the end of this file, commented out")
            pending.append(step)
    stops = _stop_conditions(tpl, data)
    tpl.notes.append("FIS templates have no steady-state or recovery checks: add `steady_state`/`verify` "
                     "checks (e.g. http.ok on the service) so the drill can measure RTO")
    bound_region, note = region_of(tpl.regions, region)
    if note:
        tpl.notes.append(note)
    description = str(data.get("description") or f"Imported from {source}")
    scenario: dict[str, Any] = {"kind": "scenario", "name": name, "description": description,
                                "parameters": {"region": {"type": "string"}},
                                "steady_state": [], "inject": inject, "recover": [], "verify": [], "rollback": []}
    guardrails: dict[str, Any] = {}
    if tpl.accounts:
        guardrails["accounts"] = sorted(tpl.accounts)
    if stops:
        guardrails["stop_conditions"] = stops
    guardrails["time_limit"] = "1h"
    drill: dict[str, Any] = {"kind": "drill", "name": name, "description": description, "scenario": "",
                             "service": {"name": name}, "parameters": {"region": bound_region},
                             "objectives": {"rto": "15m"}, "guardrails": guardrails}
    return ImportResult(name=name, source=source, scenario=scenario, drill=drill,
                        unmapped=tpl.unmapped, notes=tpl.notes, pending=pending)
