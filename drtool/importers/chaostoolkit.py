"""Chaos Toolkit experiment -> drtool scenario + drill skeleton.

Experiment shape (Chaos Toolkit docs, https://chaostoolkit.org/reference/api/experiment/
and the tolerance tutorial https://chaostoolkit.org/reference/tutorials/tolerance/):
`{title, description, configuration, steady-state-hypothesis: {title, probes: [...]},
method: [...], rollbacks: [...]}`; each activity is `{type: action|probe, name, provider:
{type: python, module, func, arguments} | {type: http, url, method, timeout} | {type:
process, path, arguments}, tolerance, pauses}`.

Mapped: http GET probes -> `http.ok` (status from an integer tolerance) in `steady_state`
and `verify` (Chaos Toolkit re-checks its hypothesis after the method); the chaosaws
functions below (signatures from chaostoolkit-aws, chaosaws/*/actions.py, probes.py);
rollbacks that only undo what drtool undoes by itself. Everything else is listed.
"""

from __future__ import annotations

import re
from typing import Any

from drtool.importers.output import ImportResult
from drtool.importers.steps import REGION, region_of, unusable

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
_EC2 = {"stop_instances": "ec2.stop-instances", "stop_instance": "ec2.stop-instances",
        "terminate_instances": "ec2.terminate-instances", "terminate_instance": "ec2.terminate-instances"}
_ASG = {"stop_random_instances": "ec2.stop-instances", "terminate_random_instances": "ec2.terminate-instances"}
_UNDONE_BY_DRTOOL = {("chaosaws.ec2.actions", "start_instances"): "ec2.stop-instances"}


class _Mapper:
    def __init__(self, data: dict[str, Any]) -> None:
        config = _dict(data.get("configuration"))
        self.config = {k: v for k, v in config.items() if isinstance(v, str | int | float) and not isinstance(v, bool)}
        region = self.config.get("aws_region")
        self.region = region if isinstance(region, str) else None
        self.unmapped: list[str] = []
        self.notes: list[str] = []
        self.free: set[str] = set()              # ${names} the experiment leaves to its runtime
        self.mapped_actions: set[str] = set()

    # --- values -------------------------------------------------------------------

    def value(self, value: Any) -> Any:
        """Configuration values substituted; other ${x} become scenario parameters."""
        if isinstance(value, str):
            def sub(match: re.Match[str]) -> str:
                if match.group(1) in self.config:
                    return str(self.config[match.group(1)])
                self.free.add(match.group(1))
                return match.group(0)
            return _PLACEHOLDER.sub(sub, value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    # --- probes -------------------------------------------------------------------

    def probe(self, where: str, act: dict[str, Any]) -> list[dict[str, Any]]:
        provider = _dict(act.get("provider"))
        label = f"{where} {act.get('name')!r}"
        kind = provider.get("type")
        if kind == "http":
            return self._http(label, act, provider)
        if kind == "python":
            args = _dict(self.value(provider.get("arguments")))
            func = f"{provider.get('module')}.{provider.get('func')}"
            tolerance = act.get("tolerance")
            if func == "chaosaws.cloudwatch.probes.get_alarm_state_value" and tolerance == "OK" and _names([args.get("alarm_name")]):
                return [{"check": "cloudwatch.alarm-ok", "name": str(act.get("name") or "alarm OK"),
                         "with": {"alarm": args["alarm_name"], "region": REGION}}]
            if func == "chaosaws.asg.probes.desired_equals_healthy" and tolerance is True and _names(args.get("asg_names")):
                return [{"check": "autoscaling.capacity-healthy", "name": f"{act.get('name')} ({group})",
                         "with": {"group": group, "region": REGION}} for group in _names(args["asg_names"])]
            self.unmapped.append(f"{label}: python probe {func} (tolerance {tolerance!r})")
            return []
        self.unmapped.append(f"{label}: {kind} probe")
        return []

    def _http(self, label: str, act: dict[str, Any], provider: dict[str, Any]) -> list[dict[str, Any]]:
        method = str(provider.get("method", "GET")).upper()
        url = self.value(provider.get("url"))
        if method != "GET" or not isinstance(url, str):
            self.unmapped.append(f"{label}: http {method} probe (http.ok only GETs a URL)")
            return []
        params: dict[str, Any] = {"url": url}
        tolerance = act.get("tolerance")
        if isinstance(tolerance, list) and len(tolerance) == 1:
            tolerance = tolerance[0]
        if isinstance(tolerance, int) and not isinstance(tolerance, bool) and 100 <= tolerance <= 599:
            params["status"] = tolerance
        else:
            params["status"] = 200
            self.notes.append(f"{label}: tolerance {tolerance!r} is not carried; http.ok expects status 200")
        timeout = provider.get("timeout")
        if isinstance(timeout, list) and timeout and all(isinstance(t, int | float) for t in timeout):
            timeout = max(timeout)                 # [connect, read]
        if isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 0:
            params["timeout"] = float(timeout)
        if provider.get("headers"):
            self.notes.append(f"{label}: request headers are not carried")
        return [{"check": "http.ok", "name": str(act.get("name") or "service answers"), "with": params}]

    # --- actions ------------------------------------------------------------------

    def action(self, where: str, act: dict[str, Any]) -> list[dict[str, Any]]:
        provider = _dict(act.get("provider"))
        label = f"{where} {act.get('name')!r}"
        if act.get("type") == "probe":
            self.unmapped.append(f"{label}: a probe inside the method (drtool polls steady_state and verify "
                                 "checks throughout the fault instead)")
            return []
        if provider.get("type") != "python":
            self.unmapped.append(f"{label}: {provider.get('type')} action")
            return []
        module, func = str(provider.get("module")), str(provider.get("func"))
        args = _dict(self.value(provider.get("arguments")))
        try:
            steps = self._python(label, module, func, args)
        except (TypeError, ValueError):         # e.g. instance_count: "many"
            steps = None
        if steps is None:
            self.unmapped.append(f"{label}: python {module}.{func}")
            return []
        if act.get("pauses"):
            self.notes.append(f"{label}: pauses {act['pauses']!r} are not carried")
        named = []
        for step in steps:
            self.mapped_actions.add(step["action"])
            named.append({"action": step.pop("action"), "name": f"{act.get('name')} (from {module}.{func})", **step})
        return named

    def _python(self, label: str, module: str, func: str, args: dict[str, Any]) -> list[dict[str, Any]] | None:
        if module == "chaosaws.ec2.actions" and func in _EC2:
            if args.get("filters"):
                return None                      # describe_instances filters: never select wider than asked
            ids = _names(args.get("instance_ids")) or _names([args.get("instance_id")])
            selector: dict[str, Any] = {"region": REGION}
            if ids:
                selector["ids"] = list(ids)
            elif isinstance(args.get("az"), str) and args["az"]:
                selector["az"] = args["az"]
                if func.endswith("_instance"):   # the singular form picks one random instance
                    selector["select"] = {"count": 1}
            else:
                return None
            return [{"action": _EC2[func], "targets": selector}]
        if module == "chaosaws.asg.actions" and func in _ASG and _names(args.get("asg_names")) and not args.get("tags"):
            steps = []
            for group in _names(args["asg_names"]):
                selector = {"region": REGION, "group": group}
                if args.get("instance_count"):
                    selector["select"] = {"count": int(args["instance_count"])}
                elif args.get("instance_percent"):
                    percent = float(args["instance_percent"])
                    selector["select"] = {"percent": int(percent) if percent.is_integer() else percent}
                if args.get("az"):
                    selector["az"] = str(args["az"])
                steps.append({"action": _ASG[func], "targets": selector})
            self.notes.append(f"{label}: chaosaws picks InService instances only; drtool picks among the "
                              "group's running instances")
            return steps
        if module == "chaosaws.rds.actions" and func == "failover_db_cluster" and _names([args.get("db_cluster_identifier")]):
            params = {"cluster": args["db_cluster_identifier"], "region": REGION}
            if _names([args.get("target_db_instance_identifier")]):
                params["target_instance"] = args["target_db_instance_identifier"]
            return [{"action": "rds.failover-cluster", "with": params}]
        if module == "chaosaws.fis.actions" and func == "start_experiment" and _names([args.get("experiment_template_id")]):
            params = {"template_id": args["experiment_template_id"], "region": REGION}
            why = unusable("action", "fis.experiment", params)
            if why:
                self.notes.append(f"{label}: {why}")
                return None
            return [{"action": "fis.experiment", "with": params}]
        return None

    def rollback(self, where: str, act: dict[str, Any]) -> None:
        provider = _dict(act.get("provider"))
        key = (str(provider.get("module")), str(provider.get("func")))
        undone = _UNDONE_BY_DRTOOL.get(key)
        if undone and undone in self.mapped_actions:
            self.notes.append(f"{where} {act.get('name')!r}: dropped; drtool undoes {undone} by itself")
        else:
            self.unmapped.append(f"{where} {act.get('name')!r}: {provider.get('type')} "
                                 f"{'.'.join(key) if provider.get('type') == 'python' else 'rollback'}")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _names(value: Any) -> list[str]:
    """A list of non-empty strings, or [] when `value` is anything else."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        return []
    return list(value)


def _activities(value: Any) -> list[dict[str, Any]]:
    return [a for a in value if isinstance(a, dict)] if isinstance(value, list) else []


def from_chaostoolkit(data: dict[str, Any], *, name: str, source: str, region: str | None = None) -> ImportResult:
    """Map one Chaos Toolkit experiment (already parsed) to a scenario and a drill."""
    m = _Mapper(data)
    hypothesis = _dict(data.get("steady-state-hypothesis"))
    checks: list[dict[str, Any]] = []
    for i, act in enumerate(_activities(hypothesis.get("probes"))):
        checks += m.probe(f"steady-state-hypothesis.probes[{i}]", act)
    inject: list[dict[str, Any]] = []
    for i, act in enumerate(_activities(data.get("method"))):
        if "ref" in act and "provider" not in act:
            m.unmapped.append(f"method[{i}]: reference to {act['ref']!r} (repeat the activity instead)")
            continue
        inject += m.action(f"method[{i}]", act)
    for i, act in enumerate(_activities(data.get("rollbacks"))):
        m.rollback(f"rollbacks[{i}]", act)
    if not inject:
        m.unmapped.append("no method action could be mapped: the scenario injects nothing")
    if not checks:
        m.notes.append("no steady-state probe could be mapped: add verify checks so the drill can measure RTO")
    bound_region, note = region_of(set(), region or m.region)
    if note:
        m.notes.append(note)
    parameters: dict[str, Any] = {"region": {"type": "string"}}
    drill_params: dict[str, Any] = {"region": bound_region}
    for free in sorted(m.free - {"region"}):
        parameters[free] = {"type": "string", "description": "left to the experiment's runtime in Chaos Toolkit"}
        drill_params[free] = "CHANGE-ME"
        m.notes.append(f"${{{free}}} was not in the experiment's configuration: the drill binds it to CHANGE-ME")
    description = str(data.get("description") or data.get("title") or f"Imported from {source}")
    scenario: dict[str, Any] = {"kind": "scenario", "name": name, "description": description,
                                "parameters": parameters, "steady_state": checks, "inject": inject,
                                "recover": [], "verify": [dict(c) for c in checks], "rollback": []}
    drill: dict[str, Any] = {"kind": "drill", "name": name, "description": description, "scenario": "",
                             "service": {"name": name}, "parameters": drill_params,
                             "objectives": {"rto": "15m"}, "guardrails": {"time_limit": "1h"}}
    if checks:
        drill["impact"] = {"expect": True, "within": "5m"}
    return ImportResult(name=name, source=source, scenario=scenario, drill=drill,
                        unmapped=m.unmapped, notes=m.notes)
