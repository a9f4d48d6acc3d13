"""The AWS FIS fake's operations: request parameters in, response members out.

Served over HTTP by the sandbox server (restJson, `drtool.sandbox.fakes.rest_json`), so
boto3, the AWS CLI and `drtool run` against `drtool sandbox up` all see it; in-process
tests use `in_process.serving(fake, "fis")` (this module registers the FIS hook).
Each operation cites the API reference it follows; the states and timing are in
`fis_state`, the effects in `fis_effects`. Limits: no experiment options, log or report
configuration, target account configurations or safety lever; stop conditions other than
`none` are kept but not evaluated.
"""

from __future__ import annotations

from typing import Any

from botocore.handlers import BUILTIN_HANDLERS

from drtool.sandbox.fakes import in_process
from drtool.sandbox.fakes.fis_effects import SUPPORTED
from drtool.sandbox.fakes.fis_state import (
    LIVE,
    ActionRun,
    Experiment,
    FisError,
    FisState,
    Template,
    iso_seconds,
)
from drtool.timing import to_datetime

OPERATIONS = ("CreateExperimentTemplate", "GetExperimentTemplate", "DeleteExperimentTemplate",
              "ListExperimentTemplates", "StartExperiment", "GetExperiment", "StopExperiment", "ListExperiments")

if ("before-send.fis", in_process._dispatch) not in BUILTIN_HANDLERS:
    BUILTIN_HANDLERS.append(("before-send.fis", in_process._dispatch))


class FakeFis(FisState):
    """The service: `call(operation, region, params)` returns the response members or raises FisError."""

    operations = OPERATIONS

    def call(self, operation: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation not in self.operations:
            raise FisError("UnknownOperationException", f"{operation} is not served by the fake", 404)
        with self._lock:
            self.settle()
            result: dict[str, Any] = getattr(self, "_op_" + operation)(region, params)
            return result

    def _arn(self, region: str, kind: str, ident: str) -> str:
        return f"arn:aws:fis:{region}:{self.account}:{kind}/{ident}"

    # --- templates -------------------------------------------------------------------

    def _op_CreateExperimentTemplate(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/fis/latest/APIReference/API_CreateExperimentTemplate.html
        token = p.get("clientToken")
        if token and ("template", token) in self._tokens:
            return {"experimentTemplate": self._template_json(self.templates[self._tokens[("template", token)]])}
        body = {k: p.get(k) for k in ("description", "targets", "actions", "stopConditions", "roleArn")}
        _validate(body)
        ident = self._id("EXT")
        template = Template(ident, self._arn(region, "experiment-template", ident), region, body,
                            self.clock.now(), dict(p.get("tags") or {}))
        self.templates[ident] = template
        if token:
            self._tokens[("template", token)] = ident
        return {"experimentTemplate": self._template_json(template)}

    def _template(self, ident: str, region: str) -> Template:
        found = self.templates.get(ident)
        if found is None or found.region != region:
            raise FisError("ResourceNotFoundException", f"Experiment template {ident} not found", 404)
        return found

    def _template_json(self, t: Template) -> dict[str, Any]:
        return {"id": t.id, "arn": t.arn, **{k: v for k, v in t.body.items() if v is not None},
                "creationTime": to_datetime(t.created_at), "lastUpdateTime": to_datetime(t.created_at),
                "tags": t.tags}

    def _op_GetExperimentTemplate(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/fis/latest/APIReference/API_GetExperimentTemplate.html
        return {"experimentTemplate": self._template_json(self._template(p["id"], region))}

    def _op_DeleteExperimentTemplate(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/fis/latest/APIReference/API_DeleteExperimentTemplate.html
        template = self._template(p["id"], region)
        del self.templates[template.id]
        return {"experimentTemplate": self._template_json(template)}

    def _op_ListExperimentTemplates(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/fis/latest/APIReference/API_ListExperimentTemplates.html
        items = [{k: v for k, v in self._template_json(t).items() if k in
                  ("id", "arn", "description", "creationTime", "lastUpdateTime", "tags")}
                 for t in self.templates.values() if t.region == region]
        return {"experimentTemplates": items}

    # --- experiments -----------------------------------------------------------------

    def _op_StartExperiment(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/fis/latest/APIReference/API_StartExperiment.html
        token = p.get("clientToken")
        if token and ("experiment", token) in self._tokens:
            return {"experiment": self._experiment_json(self.experiments[self._tokens[("experiment", token)]])}
        template = self._template(p["experimentTemplateId"], region)
        ident = self._id("EXP")
        exp = Experiment(ident, self._arn(region, "experiment", ident), region, template, self.clock.now(),
                         dict(p.get("tags") or {}))
        exp.actions = {name: ActionRun(name, spec) for name, spec in (template.body["actions"] or {}).items()}
        self.experiments[ident] = exp
        if token:
            self._tokens[("experiment", token)] = ident
        return {"experiment": self._experiment_json(exp)}

    def _experiment(self, ident: str, region: str) -> Experiment:
        found = self.experiments.get(ident)
        if found is None or found.region != region:
            raise FisError("ResourceNotFoundException", f"Experiment {ident} not found", 404)
        return found

    def _experiment_json(self, e: Experiment, summary: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"id": e.id, "arn": e.arn, "experimentTemplateId": e.template.id,
                               "state": {"status": e.status, "reason": e.reason},
                               "creationTime": to_datetime(e.created_at), "tags": e.tags}
        if summary:
            return out
        body = e.template.body
        out.update({"roleArn": body.get("roleArn"), "targets": body.get("targets") or {},
                    "stopConditions": body.get("stopConditions") or [],
                    "actions": {name: _action_json(run) for name, run in e.actions.items()}})
        if e.started_at is not None:
            out["startTime"] = to_datetime(e.started_at)
        if e.ended_at is not None:
            out["endTime"] = to_datetime(e.ended_at)
        return out

    def _op_GetExperiment(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/fis/latest/APIReference/API_GetExperiment.html
        return {"experiment": self._experiment_json(self._experiment(p["id"], region))}

    def _op_StopExperiment(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/fis/latest/APIReference/API_StopExperiment.html: a running
        # experiment moves to stopping, its running actions are stopped, then it is stopped.
        exp = self._experiment(p["id"], region)
        if exp.status not in LIVE and exp.status != "stopping":
            raise FisError("ValidationException", f"Experiment {exp.id} is {exp.status} and cannot be stopped")
        exp.status, exp.reason = "stopping", "Experiment is stopping."
        answer = self._experiment_json(exp)
        self._advance(exp, self.clock.now())
        return {"experiment": answer}

    def _op_ListExperiments(self, region: str, p: dict[str, Any]) -> dict[str, Any]:
        # https://docs.aws.amazon.com/fis/latest/APIReference/API_ListExperiments.html
        items = [self._experiment_json(e, summary=True) for e in self.experiments.values() if e.region == region
                 and p.get("experimentTemplateId") in (None, e.template.id)]
        return {"experiments": items}


def _action_json(run: ActionRun) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in run.spec.items() if k in ("actionId", "description", "parameters",
                                                                      "targets", "startAfter") and v is not None}
    out["state"] = {"status": run.status, "reason": run.reason}
    if run.started_at is not None:
        out["startTime"] = to_datetime(run.started_at)
    if run.ended_at is not None:
        out["endTime"] = to_datetime(run.ended_at)
    return out


def _validate(body: dict[str, Any]) -> None:
    """The checks CreateExperimentTemplate makes that a drill can get wrong (ValidationException)."""
    actions, targets = body.get("actions") or {}, body.get("targets") or {}
    if not actions:
        raise FisError("ValidationException", "an experiment template needs at least one action")
    for name, spec in actions.items():
        kind = spec.get("actionId")
        if kind not in SUPPORTED:
            raise FisError("ValidationException", f"action {name}: {kind} is not an action the sandbox FIS "
                                                  f"simulates ({', '.join(sorted(SUPPORTED))})")
        for target in (spec.get("targets") or {}).values():
            if target not in targets:
                raise FisError("ValidationException", f"action {name}: target {target} is not defined")
            if targets[target].get("resourceType") != SUPPORTED[kind]:
                raise FisError("ValidationException", f"action {name}: {kind} takes {SUPPORTED[kind]} targets, "
                                                      f"not {targets[target].get('resourceType')}")
        if SUPPORTED[kind] and not spec.get("targets"):
            raise FisError("ValidationException", f"action {name}: {kind} needs a target")
        for after in spec.get("startAfter") or []:
            if after not in actions:
                raise FisError("ValidationException", f"action {name}: startAfter names unknown action {after}")
        for key in ("duration", "startInstancesAfterDuration"):
            if (spec.get("parameters") or {}).get(key):
                iso_seconds(spec["parameters"][key])
    for name, target in targets.items():
        if not target.get("resourceArns") and not target.get("resourceTags"):
            raise FisError("ValidationException", f"target {name} needs resourceArns or resourceTags")
