"""AWS FIS: run a fault as an FIS experiment (server-side duration), stop it on rollback.

`fis.experiment` starts an experiment from an existing template, or from inline FIS
`actions` and `targets` (a temporary template tagged with the run, deleted by its undo),
waits until its actions run, and returns: that instant is the fault. FIS ends each
action after its own `duration` even when drtool dies, so the fault has a server-side
expiry (what the native boto3 actions can only approximate). Rollback stops the
experiment if it is still live. FIS API Reference:
https://docs.aws.amazon.com/fis/latest/APIReference/Welcome.html; template syntax:
https://docs.aws.amazon.com/fis/latest/userguide/experiment-templates.html.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import Field, field_validator, model_validator

from drtool.aws.az_ids import FIS_AZ_PATHS, is_az_id, resolve_az
from drtool.aws.az_ids import IAM as AZ_IAM
from drtool.aws.errors import error_code
from drtool.context import RUN_TAG, StepContext
from drtool.durations import parse_duration
from drtool.errors import DrToolError
from drtool.registry import Params, action, probe, undo
from drtool.resources import Outcome, ProbeResult, Resource, UndoSpec
from drtool.timing import PollTimeout, wait_until

TOKEN_TAG = "drtool:fis-token"
# API_ExperimentState / API_ExperimentActionState (FIS API Reference).
LIVE = ("pending", "initiating", "running")
ENDED = ("completed", "stopped", "failed", "cancelled")
POLL_S = 1.0
START_IAM = ["fis:CreateExperimentTemplate", "fis:GetExperimentTemplate", "fis:StartExperiment",
             "fis:GetExperiment", "fis:TagResource", "iam:PassRole", *AZ_IAM]
STOP_IAM = ["fis:ListExperiments", "fis:GetExperiment", "fis:StopExperiment"]
DELETE_IAM = ["fis:ListExperimentTemplates", "fis:DeleteExperimentTemplate"]


def client_token(run_id: str, step: str) -> str:
    """Idempotency token of one step's template and experiment (FIS: at most 64 characters)."""
    return hashlib.sha256(f"{run_id}/{step}".encode()).hexdigest()[:32]


class ExperimentParams(Params):
    template_id: str | None = Field(default=None, description="an existing experiment template (EXT...)")
    actions: dict[str, dict[str, Any]] | None = Field(
        default=None, description="inline FIS actions, as in a template: {name: {actionId, parameters, targets}}")
    targets: dict[str, dict[str, Any]] | None = Field(
        default=None, description="inline FIS targets: {name: {resourceType, resourceArns|resourceTags, "
                                  "filters, selectionMode}}; a zone filter (Placement.AvailabilityZone, "
                                  "AvailabilityZone) may give AZ IDs (use1-az1), used as the account's zone names")
    role_arn: str | None = Field(default=None, description="the role FIS acts with (inline templates)")
    stop_conditions: list[dict[str, str]] | None = Field(
        default=None, description="FIS stop conditions ({source: aws:cloudwatch:alarm, value: ALARM ARN}); "
                                  "default none (drtool's own stop conditions still apply)")
    timeout: float = Field(default=300.0, gt=0, description="how long the experiment may take to start running")

    _timeout = field_validator("timeout", mode="before")(lambda v: parse_duration(v))

    @model_validator(mode="after")
    def _one_source(self) -> ExperimentParams:
        if (self.template_id is None) == (self.actions is None):
            raise ValueError("give either template_id or inline actions (with targets and role_arn)")
        if self.actions is not None and not self.role_arn:
            raise ValueError("an inline experiment needs role_arn (the role FIS acts with)")
        return self


def _touches(ctx: StepContext, params: ExperimentParams) -> list[Resource]:
    """The FIS targets (inline, or read from the template), for `plan` and `require_tags`
    (read-only). FIS resolves them server-side; a target selected by `resourceTags` carries
    those tags, one selected by ARN is checked by FIS's own role, so it shows no tags here."""
    region = params.region or ctx.region
    targets = params.targets or {}
    if params.template_id:
        try:
            targets = ctx.client("fis", region).get_experiment_template(
                id=params.template_id)["experimentTemplate"].get("targets") or {}
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            return [Resource(id=params.template_id, type="fis:experiment-template", region=region,
                             attrs={"missing": True})]
    return [Resource(id=", ".join(t.get("resourceArns") or []) or name, type=str(t.get("resourceType")),
                     region=region, tags=dict(t.get("resourceTags") or {}), attrs={"fis_target": name})
            for name, t in sorted(targets.items())]


@action("fis.experiment", touches=_touches, params=ExperimentParams, undo="fis.stop-experiment",
        undos=("fis.delete-template",), iam=START_IAM,
        summary="Start an AWS FIS experiment (template id or inline actions) and wait until it runs "
                "(undo: stop it if still live; delete the temporary template)")
def start_experiment(ctx: StepContext, params: ExperimentParams, targets: list[Resource]) -> Outcome:
    region = params.region or ctx.region
    client = ctx.client("fis", region)
    token = client_token(ctx.run_id, ctx.step)
    tags = {**ctx.run_tags, TOKEN_TAG: token}
    template_id = params.template_id
    if template_id is None:
        inline_targets = _zone_names(ctx, params.targets or {}, region)   # may refuse: nothing created yet
        created = ctx.change(
            f"create a temporary FIS experiment template ({', '.join(sorted(params.actions or {}))}) in {region}",
            lambda: client.create_experiment_template(
                clientToken=token, description=f"drtool run {ctx.run_id} step {ctx.step}"[:512],
                roleArn=params.role_arn, actions=params.actions, targets=inline_targets,
                stopConditions=params.stop_conditions or [{"source": "none"}], tags=tags),
            undo=UndoSpec("fis.delete-template", {"run_id": ctx.run_id, "token": token, "region": region}, region),
            resources=[f"fis:experiment-template:{token}"])
        template_id = created["experimentTemplate"]["id"]
    else:                                # a wrong id, or AZ IDs FIS cannot match, fail before anything starts
        _refuse_zone_ids(template_id, client.get_experiment_template(id=template_id)["experimentTemplate"])
    started = ctx.change(
        f"start an FIS experiment from template {template_id} in {region}",
        lambda: client.start_experiment(clientToken=token, experimentTemplateId=template_id, tags=tags),
        undo=UndoSpec("fis.stop-experiment", {"template_id": template_id, "token": token, "region": region}, region),
        resources=[f"fis:experiment-template/{template_id}"])
    experiment_id = started["experiment"]["id"]
    experiment = _wait_running(ctx, client, experiment_id, params.timeout)
    states = {name: a.get("state", {}).get("status") for name, a in (experiment.get("actions") or {}).items()}
    ctx.note(f"FIS experiment {experiment_id} is running", experiment_id=experiment_id, actions=states)
    listed = ", ".join(f"{name} {status}" for name, status in sorted(states.items()))
    return Outcome(f"FIS experiment {experiment_id} (template {template_id}) is running: {listed}. FIS ends "
                   f"each action after its duration, even if drtool stops.",
                   {"experiment_id": experiment_id, "template_id": template_id, "actions": states})


def _zone_names(ctx: StepContext, targets: dict[str, dict[str, Any]], region: str) -> dict[str, dict[str, Any]]:
    """The inline targets with each AZ ID in a zone filter (FIS_AZ_PATHS) replaced by the acting
    account's zone name: FIS matches those filters against the resource's zone name (FIS User
    Guide, "Targets for AWS FIS", https://docs.aws.amazon.com/fis/latest/userguide/targets.html).
    Names and other filters stay as given; an AZ ID the account lacks in `region` raises."""
    def value(v: Any) -> Any:
        return resolve_az(ctx, v, region).name if isinstance(v, str) and is_az_id(v) else v

    def flt(f: Any) -> Any:
        if isinstance(f, dict) and f.get("path") in FIS_AZ_PATHS and isinstance(f.get("values"), list):
            return {**f, "values": [value(v) for v in f["values"]]}
        return f

    return {name: {**t, "filters": [flt(f) for f in t["filters"]]} if isinstance(t.get("filters"), list) else t
            for name, t in targets.items()}


def _refuse_zone_ids(template_id: str, template: dict[str, Any]) -> None:
    """An existing template whose zone filters hold AZ IDs would find no targets (FIS compares
    them with zone names, "Targets for AWS FIS"); drtool does not rewrite someone's template."""
    ids = sorted({v for t in (template.get("targets") or {}).values() for f in (t.get("filters") or [])
                  if f.get("path") in FIS_AZ_PATHS for v in (f.get("values") or []) if isinstance(v, str) and is_az_id(v)})
    if ids:
        raise DrToolError(f"FIS template {template_id} filters zones by AZ ID ({', '.join(ids)}): FIS matches zone "
                          "names there, so the experiment would find no targets",
                          "put the zone names in the template, or give the experiment inline (actions and targets), "
                          "where drtool resolves AZ IDs per account")


def _wait_running(ctx: StepContext, client: Any, experiment_id: str, timeout: float) -> dict[str, Any]:
    """Until the experiment runs and every action that starts with it runs (or already ended)."""
    def running() -> tuple[bool, dict[str, Any]]:
        exp = client.get_experiment(id=experiment_id)["experiment"]
        status = exp["state"]["status"]
        if status in ("failed", "stopped", "cancelled", "stopping"):
            raise DrToolError(f"FIS experiment {experiment_id} is {status}: {exp['state'].get('reason', '')}",
                              "read the experiment in the FIS console; its role may lack a permission")
        first = [a for a in (exp.get("actions") or {}).values() if not a.get("startAfter")]
        acting = all(a.get("state", {}).get("status") in ("running", "completed") for a in first)
        return status in ("running", "completed") and acting, exp

    try:
        _, exp = wait_until(running, clock=ctx.clock, interval=POLL_S, timeout=timeout)
    except PollTimeout as exc:
        last = exc.last if isinstance(exc.last, dict) else {}
        raise DrToolError(f"FIS experiment {experiment_id} was not running after {timeout:g}s "
                          f"(state {last.get('state', {}).get('status', '?')})") from None
    return exp  # type: ignore[return-value]


def _ours(client: Any, template_id: str | None, token: str) -> list[dict[str, Any]]:
    pages = client.get_paginator("list_experiments").paginate(
        **({"experimentTemplateId": template_id} if template_id else {}))
    return [e for page in pages for e in page.get("experiments") or [] if (e.get("tags") or {}).get(TOKEN_TAG) == token]


class StopParams(Params):
    template_id: str
    token: str = Field(min_length=1, description="the step's client token (tag drtool:fis-token)")


@undo("fis.stop-experiment", params=StopParams, iam=STOP_IAM,
      summary="Stop the run's FIS experiment if it is still pending, initiating or running")
def stop_experiment(ctx: StepContext, params: StopParams) -> str:
    """Compare and swap on the experiment state: live -> StopExperiment; stopping or ended
    (completed, stopped, failed, cancelled) -> done, FIS already ended the fault."""
    client = ctx.client("fis", params.region)
    found = _ours(client, params.template_id, params.token)
    if not found:
        return f"No FIS experiment of this run was started from {params.template_id}; nothing to stop."
    done = []
    for summary in found:
        ident = summary["id"]
        status = client.get_experiment(id=ident)["experiment"]["state"]["status"]
        if status in LIVE:
            try:
                client.stop_experiment(id=ident)
                status = "stopping"
            except Exception as exc:
                if error_code(exc) not in ("ValidationException", "ConflictException", "ResourceNotFoundException"):
                    raise
                status = client.get_experiment(id=ident)["experiment"]["state"]["status"]
                if status in LIVE:
                    raise
        done.append(f"{ident} {status}")
    return f"FIS experiment(s) of this run: {', '.join(done)}."


class DeleteTemplateParams(Params):
    run_id: str = Field(min_length=1)
    token: str = Field(min_length=1)


@undo("fis.delete-template", params=DeleteTemplateParams, iam=DELETE_IAM,
      summary="Delete the temporary FIS experiment template a run created (found by its run tag and token)")
def delete_template(ctx: StepContext, params: DeleteTemplateParams) -> str:
    """Found by tags, so it works even if the create's answer never reached the journal;
    never touches a template without this run's tag and the step's token."""
    client = ctx.client("fis", params.region)
    pages = client.get_paginator("list_experiment_templates").paginate()
    mine = [t for page in pages for t in page.get("experimentTemplates") or []
            if (t.get("tags") or {}).get(RUN_TAG) == params.run_id and (t.get("tags") or {}).get(TOKEN_TAG) == params.token]
    for template in mine:
        try:
            client.delete_experiment_template(id=template["id"])
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
    if not mine:
        return f"No temporary FIS template of run {params.run_id} is left."
    return f"Deleted temporary FIS template(s) {', '.join(t['id'] for t in mine)}."


class StateParams(Params):
    states: list[str] = Field(default_factory=lambda: ["completed"], min_length=1,
                              description="experiment states that pass (FIS API ExperimentState)")


@probe("fis.experiment-state", params=StateParams, iam=["fis:ListExperiments"],
       summary="This run's FIS experiments are all in one of `states` (default completed: FIS ended the fault)")
def experiment_state(ctx: StepContext, params: StateParams) -> ProbeResult:
    client = ctx.client("fis", params.region)
    pages = client.get_paginator("list_experiments").paginate()
    mine = [e for page in pages for e in page.get("experiments") or []
            if (e.get("tags") or {}).get(RUN_TAG) == ctx.run_id]
    if not mine:
        return ProbeResult(False, "This run started no FIS experiment.")
    states = {e["id"]: e["state"]["status"] for e in mine}
    ok = all(s in params.states for s in states.values())
    listed = ", ".join(f"{i} {s}" for i, s in sorted(states.items()))
    return ProbeResult(ok, f"FIS experiment(s): {listed}.", {"states": states})
