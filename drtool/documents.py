"""Scenario and drill documents (spec sections 4 and 5): typed models and loading.

Loading is in three passes, each reporting every problem it finds with file:line:col:
1. YAML with marks (`drtool.loader`), 2. the document models (pydantic, unknown keys
rejected), 3. binding: the drill's parameters are type-checked against the scenario's,
`${name}` is substituted, and each step's `with:` is validated against the registry
entry's own parameter model.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from drtool.durations import parse_duration
from drtool.errors import DocumentError, Problem
from drtool.loader import Loaded, load_yaml
from drtool.rpo import RpoConfig
from drtool.selectors import TargetSelector


def _duration(value: Any) -> float:
    return parse_duration(value)


def _account(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:012d}"
    if not isinstance(value, str) or not re.fullmatch(r"\d{12}", value):
        raise ValueError(f"expected a 12-digit AWS account id (quote it in YAML), got {value!r}")
    return value


Duration = Annotated[float, BeforeValidator(_duration), Field(json_schema_extra={"type": ["string", "number"], "pattern": r"^\d+(\.\d+)?(ms|s|m|h|d)?$"})]
AccountId = Annotated[str, BeforeValidator(_account)]
Placeholder = Annotated[str, Field(pattern=r"^\$\{[A-Za-z_][A-Za-z0-9_.-]*\}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- scenario -------------------------------------------------------------------------

ParamType = Literal["string", "integer", "number", "boolean", "duration", "list", "secret"]


class ParameterSpec(Strict):
    type: ParamType = "string"
    default: Any = None
    description: str | None = None


class StepDoc(Strict):
    """One step. Exactly one of action / wait / check / manual."""

    action: str | None = None
    wait: str | None = None
    check: str | None = None
    manual: str | None = None
    name: str | None = None
    timeout: Duration | Placeholder | None = None
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    targets: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> StepDoc:
        forms = [f for f in ("action", "wait", "check", "manual") if getattr(self, f) is not None]
        if len(forms) != 1:
            raise ValueError("a step needs exactly one of action, wait, check or manual"
                             + (f" (found {', '.join(forms)})" if forms else ""))
        return self

    @property
    def form(self) -> str:
        return next(f for f in ("action", "wait", "check", "manual") if getattr(self, f) is not None)

    @property
    def ref(self) -> str:
        return getattr(self, self.form)


class Impact(Strict):
    """SPEC 7.1: the fault must be seen by a steady-state check within `within` of the fault."""

    expect: bool = False
    within: Duration | None = Field(default=None, gt=0)


class Recovery(Strict):
    """SPEC 7.1: recovered only once every check has kept passing this long."""

    stable_for: Duration = Field(default=0.0, ge=0)


class ScenarioDoc(Strict):
    kind: Literal["scenario"]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    description: str = ""
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    steady_state: list[StepDoc] = Field(default_factory=list, description=(
        "user-facing checks that hold before the fault, fail while the service is impaired, "
        "and hold again after recovery (SPEC 7.1)"))
    impact: Impact | None = None
    inject: list[StepDoc] = Field(default_factory=list)
    recover: list[StepDoc] = Field(default_factory=list)
    verify: list[StepDoc] = Field(default_factory=list)
    rollback: list[StepDoc] = Field(default_factory=list)


# --- drill ----------------------------------------------------------------------------

class Service(Strict):
    name: str
    tier: str = "unspecified"
    owner: str = "unspecified"


class Objectives(Strict):
    rto: Duration
    rpo: Duration | None = None


class StopCondition(Strict):
    alarm: str
    region: str | None = None


class Guardrails(Strict):
    accounts: list[AccountId] | None = Field(default=None, description="the run refuses any other account (via STS)")
    max_targets: int | None = Field(default=None, ge=0)
    require_tags: dict[str, str] = Field(default_factory=dict)
    stop_conditions: list[StopCondition] = Field(default_factory=list)
    time_limit: Duration | None = None
    allow_irreversible: bool = Field(default=False, description="let steps without an undo (e.g. a promotion) run against a real account")


class Schedule(Strict):
    every: Duration


class AwsConfig(Strict):
    profile: str | None = None
    region: str | None = None
    role_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")
    external_id: str | None = None


class RunConfig(Strict):
    regions: list[str] = Field(default_factory=list)
    account_ids: list[AccountId] = Field(default_factory=list)


class BackupPosture(Strict):
    """A `drtool backups check` of the service's resources, run before the drill starts;
    its verdicts land in the scorecard under `posture` as evidence."""

    rpo: Duration
    tags: dict[str, str] = Field(default_factory=dict)
    regions: list[str] = Field(default_factory=list, description="default: the drill's regions")
    copy_regions: list[str] = Field(default_factory=list)


class Posture(Strict):
    backups: BackupPosture | None = None


class SandboxConfig(Strict):
    estate: str
    parameters: dict[str, Any] = Field(default_factory=dict)


class DrillDoc(Strict):
    kind: Literal["drill"]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    description: str = ""
    scenario: str
    service: Service
    parameters: dict[str, Any] = Field(default_factory=dict)
    objectives: Objectives
    rpo: RpoConfig | None = None
    poll: Duration = 5.0
    schedule: Schedule | None = None
    guardrails: Guardrails = Field(default_factory=Guardrails)
    aws: AwsConfig = Field(default_factory=AwsConfig)
    run: RunConfig = Field(default_factory=RunConfig)
    sandbox: SandboxConfig | None = None
    posture: Posture | None = None
    impact: Impact | None = Field(default=None, description="overrides the scenario's `impact:`")
    recovery: Recovery = Field(default_factory=Recovery)


# --- resolved form the runner uses ----------------------------------------------------

PHASES = ("steady_state", "inject", "recover", "verify", "rollback")
CHECK_PHASES = ("steady_state", "verify")


@dataclass
class Step:
    phase: str
    index: int
    form: str                      # action | wait | check | manual
    ref: str                       # entry name, or the manual text
    label: str                     # name shown in the timeline
    params: BaseModel | None       # validated `with:` (None for manual)
    targets: TargetSelector | None
    timeout: float | None
    where: str                     # file:line of the step, for messages

    @property
    def entry(self):  # noqa: ANN201 - registry Entry
        from drtool.registry import ACTIONS, PROBES

        if self.form == "action":
            return ACTIONS.get(self.ref)
        if self.form in ("wait", "check"):
            return PROBES.get(self.ref)
        return None

    def region(self, default: str | None) -> str | None:
        explicit = getattr(self.params, "region", None) if self.params is not None else None
        return explicit or (self.targets.region if self.targets else None) or default


@dataclass
class Drill:
    doc: DrillDoc
    scenario: ScenarioDoc
    path: Path
    scenario_path: Path
    parameters: dict[str, Any]
    steps: dict[str, list[Step]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.doc.name

    def all_steps(self) -> list[Step]:
        return [s for phase in PHASES for s in self.steps.get(phase, [])]

    @property
    def home_region(self) -> str | None:
        """The drill's own default region: `aws.region`, else the first of `run.regions`."""
        return self.doc.aws.region or (self.doc.run.regions[0] if self.doc.run.regions else None)

    def regions(self, default: str | None) -> list[str]:
        """Every region the drill acts or watches in (steps, `run.regions`, stop conditions)."""
        found = {s.region(default) for s in self.all_steps() if s.form != "manual"} | set(self.doc.run.regions)
        found |= {c.region or default for c in self.doc.guardrails.stop_conditions}
        return sorted(r for r in found if r)


# --- loading --------------------------------------------------------------------------

def _pydantic_problems(loaded: Loaded, exc: ValidationError, prefix: tuple = (),
                       skip_placeholders: bool = False) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x in (
            "function-after", "function-before", "str", "int", "float", "literal['all']",
            "SelectCount", "SelectPercent")))
        loc = tuple("with" if x == "with_" else x for x in loc)
        if skip_placeholders and err["type"] not in ("missing", "extra_forbidden") and "${" in repr(err.get("input")):
            continue
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        elif err["type"] == "missing":
            message = f"missing required key {loc[-1]!r}"
            line_path = (*prefix, *loc[:-1])
            problems.append(loaded.problem(line_path, message))
            continue
        elif loc:
            message = f"{'.'.join(str(x) for x in loc)}: {message}"
        problems.append(loaded.problem((*prefix, *loc), message))
    return problems


def _kind_of(loaded: Loaded) -> str | None:
    return loaded.data.get("kind") if isinstance(loaded.data, dict) else None


def read_document(path: str | Path) -> tuple[Loaded, ScenarioDoc | DrillDoc]:
    """Load one file as a scenario or drill model; DocumentError lists every problem."""
    loaded = load_yaml(path)
    problems = list(loaded.problems)
    if not isinstance(loaded.data, dict):
        raise DocumentError([loaded.problem((), "expected a mapping with `kind: scenario` or `kind: drill`")])
    kind = loaded.data.get("kind")
    model = {"scenario": ScenarioDoc, "drill": DrillDoc}.get(kind)
    if model is None:
        raise DocumentError([*problems, loaded.problem(("kind",) if "kind" in loaded.data else (),
                                                       f"`kind` must be `scenario` or `drill`, got {kind!r}")])
    try:
        doc = model.model_validate(loaded.data)
    except ValidationError as exc:
        raise DocumentError(problems + _pydantic_problems(loaded, exc)) from None
    if problems:
        raise DocumentError(problems)
    return loaded, doc


def library_dirs(extra: list[Path] | None = None) -> list[Path]:
    """Where scenario names are looked up: DRTOOL_SCENARIOS, ./scenarios, the bundled library."""
    dirs = list(extra or [])
    env = os.environ.get("DRTOOL_SCENARIOS")
    if env:
        dirs += [Path(p) for p in env.split(os.pathsep) if p]
    dirs.append(Path.cwd() / "scenarios")
    dirs.append(bundled_dir("scenarios"))
    return dirs


def bundled_dir(folder: str) -> Path:
    """The bundled `scenarios` or `drills` folder (package data, or the source checkout)."""
    installed = Path(__file__).parent / "data" / folder
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / folder


def scenario_index(dirs: list[Path]) -> dict[str, Path]:
    """name -> file for every scenario in `dirs` (first match wins)."""
    index: dict[str, Path] = {}
    for folder in dirs:
        if not folder.is_dir():
            continue
        for file in sorted(folder.glob("*.y*ml")):
            try:
                loaded = load_yaml(file)
            except DocumentError:
                continue
            if _kind_of(loaded) == "scenario":
                name = loaded.data.get("name")
                if isinstance(name, str):
                    index.setdefault(name, file)
    return index


def find_scenario(ref: str, drill_path: Path) -> Path | None:
    if ref.endswith((".yaml", ".yml")) or "/" in ref:
        candidate = (drill_path.parent / ref).resolve()
        return candidate if candidate.is_file() else None
    dirs = [drill_path.parent.parent / "scenarios", drill_path.parent]
    return scenario_index(library_dirs(dirs)).get(ref)


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")


def coerce_parameter(spec: ParameterSpec, value: Any) -> Any:
    """Type-check one parameter value; raise ValueError with a readable message."""
    kind = spec.type
    if kind in ("string", "secret"):   # a secret binds as a string; drtool.redact masks its value
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"expected a string, got {value!r}")
        return str(value)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer, got {value!r}")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {value!r}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if kind == "duration":
        return parse_duration(value)
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {value!r}")
    return value


def substitute(value: Any, params: dict[str, Any], on_missing: Callable[[str], None]) -> Any:
    """Replace `${name}` everywhere in `value`. A whole-string placeholder keeps its type;
    `on_missing(name)` hears of every placeholder with no value (it is left as written)."""
    if isinstance(value, dict):
        return {k: substitute(v, params, on_missing) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, params, on_missing) for v in value]
    if not isinstance(value, str):
        return value
    whole = _PLACEHOLDER.fullmatch(value)
    if whole:
        name = whole.group(1)
        if name in params:
            return params[name]
        on_missing(name)
        return value

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in params:
            return str(params[name])
        on_missing(name)
        return match.group(0)

    return _PLACEHOLDER.sub(replace, value)


def _bind_steps(loaded: Loaded, scenario: ScenarioDoc, values: dict[str, Any] | None,
                problems: list[Problem]) -> dict[str, list[Step]]:
    """Substitute parameters and validate every step against the registry.

    With `values=None` (a scenario checked alone) values that are still placeholders
    are not type-checked; everything else is.
    """
    from drtool.registry import ACTIONS, PROBES, UnknownEntry

    steps: dict[str, list[Step]] = {}
    raw_doc = loaded.data
    for phase in PHASES:
        steps[phase] = []
        for index, step in enumerate(getattr(scenario, phase)):
            base = (phase, index)
            raw = raw_doc.get(phase, [])[index]

            def missing(name: str, base: tuple = base) -> None:
                problems.append(loaded.problem(base, f"unknown parameter ${{{name}}}; declare it under `parameters:`"))

            bound = raw if values is None else substitute(raw, values, missing)
            if values is not None:
                try:
                    step = StepDoc.model_validate(bound)
                except ValidationError as exc:
                    problems.extend(_pydantic_problems(loaded, exc, base))
                    continue
            line, _col = loaded.mark(base)
            where = f"{loaded.file}:{line}"
            label = step.name or (step.ref if step.form != "manual" else f"manual: {step.ref[:40]}")
            if step.form == "manual":
                steps[phase].append(Step(phase, index, "manual", str(bound.get("manual")), label,
                                         None, None, step.timeout, where))
                continue
            registry = ACTIONS if step.form == "action" else PROBES
            if step.form != "check" and phase in CHECK_PHASES:
                problems.append(loaded.problem((*base, step.form),
                                               f"{phase} steps must be `check:` probes, not {step.form} steps"))
                continue
            if step.form in ("wait", "check") and phase == "inject":
                problems.append(loaded.problem((*base, step.form), "inject steps must be actions"))
                continue
            try:
                entry = registry.get(step.ref)
            except UnknownEntry as exc:
                problems.append(loaded.problem((*base, step.form), str(exc)))
                continue
            params = None
            try:
                params = entry.params.model_validate(bound.get("with") or {})
            except ValidationError as exc:
                problems.extend(_pydantic_problems(loaded, exc, (*base, "with"), skip_placeholders=values is None))
            targets = None
            raw_targets = bound.get("targets")
            if entry.target_type and raw_targets is None:
                problems.append(loaded.problem(base, f"{entry.name} needs `targets:` ({entry.target_type})"))
            elif raw_targets is not None and not entry.target_type:
                problems.append(loaded.problem((*base, "targets"), f"{entry.name} takes no `targets:`; use `with:`"))
            elif raw_targets is not None:
                try:
                    targets = TargetSelector.model_validate(raw_targets)
                except ValidationError as exc:
                    problems.extend(_pydantic_problems(loaded, exc, (*base, "targets"),
                                                       skip_placeholders=values is None))
            steps[phase].append(Step(phase, index, step.form, step.ref, label, params, targets,
                                     step.timeout, where))
    return steps


def check_scenario(path: str | Path) -> ScenarioDoc:
    """Validate a scenario on its own (placeholders unchecked until a drill binds them)."""
    loaded, doc = read_document(path)
    if not isinstance(doc, ScenarioDoc):
        raise DocumentError([loaded.problem(("kind",), "expected a scenario")])
    problems: list[Problem] = []
    for name, spec in doc.parameters.items():
        if spec.default is not None:
            try:
                coerce_parameter(spec, spec.default)
            except ValueError as exc:
                problems.append(loaded.problem(("parameters", name, "default"), f"default of {name}: {exc}"))
    declared = set(doc.parameters)
    for phase in PHASES:
        for i, _step in enumerate(getattr(doc, phase)):
            raw = loaded.data[phase][i]
            substitute(raw, {k: "x" for k in declared},
                       lambda n, base=(phase, i): problems.append(
                           loaded.problem(base, f"unknown parameter ${{{n}}}; declare it under `parameters:`")))
    _bind_steps(loaded, doc, None, problems)
    if problems:
        raise DocumentError(problems)
    return doc


def load_drill(path: str | Path, overrides: dict[str, Any] | None = None) -> Drill:
    """Load a drill, find and bind its scenario; DocumentError lists every problem.

    `overrides` replace drill parameters (the sandbox's `sandbox.parameters`).
    """
    path = Path(path)
    loaded, doc = read_document(path)
    if not isinstance(doc, DrillDoc):
        raise DocumentError([loaded.problem(("kind",), "expected `kind: drill`; validate scenarios with `drtool validate`")],
                            "run a drill file, not a scenario")
    scenario_path = find_scenario(doc.scenario, path)
    if scenario_path is None:
        known = sorted(scenario_index(library_dirs([path.parent.parent / "scenarios", path.parent])))
        raise DocumentError([loaded.problem(("scenario",), f"scenario {doc.scenario!r} not found")],
                            f"known scenarios: {', '.join(known) or 'none'}; or give a path relative to the drill")
    s_loaded, scenario = read_document(scenario_path)
    if not isinstance(scenario, ScenarioDoc):
        raise DocumentError([loaded.problem(("scenario",), f"{scenario_path} is not a scenario")])

    problems: list[Problem] = []
    given = dict(doc.parameters)
    if overrides:
        given.update(overrides)
    values: dict[str, Any] = {}
    for name, _value in given.items():
        if name not in scenario.parameters:
            suggestion = _closest(name, list(scenario.parameters))
            problems.append(loaded.problem(("parameters", name),
                                           f"scenario {scenario.name!r} has no parameter {name!r}"
                                           + (f"; did you mean {suggestion!r}?" if suggestion else "")))
    for name, spec in scenario.parameters.items():
        if name in given:
            try:
                values[name] = coerce_parameter(spec, given[name])
            except ValueError as exc:
                problems.append(loaded.problem(("parameters", name), f"parameter {name}: {exc}"))
        elif spec.default is not None:
            values[name] = coerce_parameter(spec, spec.default)
        else:
            problems.append(loaded.problem(("parameters",) if "parameters" in loaded.data else ("scenario",),
                                           f"missing parameter {name!r} required by scenario {scenario.name!r}"))
    if problems:
        raise DocumentError(problems)
    steps = _bind_steps(s_loaded, scenario, values, problems)
    if problems:
        raise DocumentError(problems)
    return Drill(doc=doc, scenario=scenario, path=path, scenario_path=scenario_path,
                 parameters=values, steps=steps)


def _closest(name: str, options: list[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return found[0] if found else None


def json_schema() -> dict[str, Any]:
    """JSON Schema of both document kinds (for yaml-language-server), from the same models."""
    drill = DrillDoc.model_json_schema(by_alias=True)
    scenario = ScenarioDoc.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "drtool document (drill or scenario)",
        "oneOf": [{"$ref": "#/$defs/drill"}, {"$ref": "#/$defs/scenario"}],
        "$defs": {**drill.pop("$defs", {}), **scenario.pop("$defs", {}), "drill": drill, "scenario": scenario},
    }
