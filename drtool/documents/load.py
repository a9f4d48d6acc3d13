"""Reading documents once, checking scenarios, loading drills, validating files.

`read(path)` reads and schema-checks a file once and never raises for its content; the
functions below take that `Document`, so `validate` reports every problem of a file
(schema, scenario lookup, parameters, steps) in one pass.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from drtool.documents.binding import PHASES, Binder, Drill
from drtool.documents.library import LookupProblem, resolve_scenario
from drtool.documents.models import MODELS, DrillDoc, ScenarioDoc
from drtool.documents.parameters import coerce_parameter, substitute
from drtool.documents.problems import did_you_mean, pydantic_problems
from drtool.documents.regions import location_problems
from drtool.errors import DocumentError, Problem
from drtool.loader import Loaded, load_yaml, read_bytes


def _model(kind: str) -> Any:
    """The model of a document kind; `services` (drtool.services) is imported only when needed."""
    if kind != "services":
        return MODELS.get(kind)
    from drtool.services.model import ServicesDoc

    return ServicesDoc


@dataclass
class Document:
    """One file, read once: the raw YAML (None if unreadable), its model (None if the
    schema failed), and every problem found so far."""

    path: Path
    loaded: Loaded | None
    doc: Any                     # ScenarioDoc | DrillDoc | ServicesDoc | None
    problems: list[Problem] = field(default_factory=list)
    hint: str | None = None

    @property
    def kind(self) -> str | None:
        data = self.loaded.data if self.loaded is not None else None
        kind = data.get("kind") if isinstance(data, dict) else None
        return kind if isinstance(kind, str) and (kind in MODELS or kind == "services") else None

    @property
    def name(self) -> str | None:
        data = self.loaded.data if self.loaded is not None else None
        name = data.get("name") if isinstance(data, dict) else None
        return name if isinstance(name, str) else None

    def raise_problems(self) -> None:
        if self.problems:
            raise DocumentError(self.problems, self.hint)


def read(path: str | Path, raw: bytes | None = None) -> Document:
    """Read (or take the bytes `raw` of) and schema-check one scenario or drill file."""
    path = Path(path)
    try:
        loaded = load_yaml(path, raw)
    except DocumentError as exc:
        return Document(path, None, None, list(exc.problems), exc.hint)
    problems = list(loaded.problems)
    if not isinstance(loaded.data, dict):
        return Document(path, loaded, None, [*problems, loaded.problem(
            (), "expected a mapping with `kind: scenario` or `kind: drill`")])
    kind = loaded.data.get("kind")
    model = _model(kind) if isinstance(kind, str) else None
    if model is None:
        shown = repr(kind) if len(repr(kind)) <= 60 else repr(kind)[:57] + "..."
        return Document(path, loaded, None, [*problems, loaded.problem(
            ("kind",) if "kind" in loaded.data else (), f"`kind` must be `scenario` or `drill` (or `services`), got {shown}")])
    try:
        doc = model.model_validate(loaded.data)
    except ValidationError as exc:
        return Document(path, loaded, None, problems + loaded.without_echoes(pydantic_problems(loaded, exc)))
    return Document(path, loaded, doc, problems)


def read_document(path: str | Path) -> tuple[Loaded, ScenarioDoc | DrillDoc]:
    """Load one file as a scenario or drill model; DocumentError lists every problem."""
    document = read(path)
    document.raise_problems()
    assert document.loaded is not None and document.doc is not None
    return document.loaded, document.doc


def _scenario_problems(document: Document) -> list[Problem]:
    """What a scenario alone can get wrong beyond its schema (placeholders unchecked)."""
    loaded, doc = document.loaded, document.doc
    assert loaded is not None and isinstance(doc, ScenarioDoc)
    problems: list[Problem] = []
    for name, spec in doc.parameters.items():
        if spec.default is not None:
            try:
                coerce_parameter(spec, spec.default)
            except ValueError as exc:
                problems.append(loaded.problem(("parameters", name, "default"), f"default of {name}: {exc}"))
    declared = {k: "x" for k in doc.parameters}
    for phase in PHASES:
        for i, _step in enumerate(getattr(doc, phase)):
            def unknown(n: str, base: tuple[str, int] = (phase, i), loaded: Loaded = loaded) -> None:
                problems.append(loaded.problem(base, f"unknown parameter ${{{n}}}; declare it under `parameters:`"))
            substitute(loaded.data[phase][i], declared, unknown)
    Binder(loaded, doc, None, problems).bind()
    return problems


def check_scenario(path: str | Path, *, document: Document | None = None) -> ScenarioDoc:
    """Validate a scenario on its own (placeholders unchecked until a drill binds them)."""
    document = document or read(path)
    document.raise_problems()
    if not isinstance(document.doc, ScenarioDoc):
        assert document.loaded is not None
        raise DocumentError([document.loaded.problem(("kind",), "expected a scenario")])
    problems = _scenario_problems(document)
    if problems:
        raise DocumentError(problems)
    return document.doc


def _parameters(loaded: Loaded, scenario: ScenarioDoc, given: dict[str, Any],
                problems: list[Problem]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in given:
        if name not in scenario.parameters:
            problems.append(loaded.problem(("parameters", name), f"scenario {scenario.name!r} has no parameter "
                                           f"{name!r}{did_you_mean(name, scenario.parameters)}"))
    for name, spec in scenario.parameters.items():
        if name in given:
            try:
                values[name] = coerce_parameter(spec, given[name])
            except ValueError as exc:
                problems.append(loaded.problem(("parameters", name), f"parameter {name}: {exc}"))
        elif spec.default is not None:
            with contextlib.suppress(ValueError):      # reported against the scenario's own default
                values[name] = coerce_parameter(spec, spec.default)
        else:
            problems.append(loaded.problem(("parameters",) if "parameters" in loaded.data else ("scenario",),
                                           f"missing parameter {name!r} required by scenario {scenario.name!r}"))
    return values


_CHECKED: dict[tuple[str, str], tuple[Document, list[Problem]]] = {}


def _checked_scenario(path: Path) -> tuple[Document, list[Problem]]:
    """A scenario file read and checked on its own, once per process per content
    (many drills share a scenario; the key is its path and the SHA-256 of its bytes)."""
    try:
        raw = read_bytes(path)
    except DocumentError as exc:
        return Document(path, None, None, list(exc.problems), exc.hint), list(exc.problems)
    key = (str(path), hashlib.sha256(raw).hexdigest())
    if key not in _CHECKED:
        document = read(path, raw)
        problems = document.problems
        if not problems and document.kind == "scenario":
            problems = _scenario_problems(document)
        if len(_CHECKED) > 1000:
            _CHECKED.clear()
        _CHECKED[key] = (document, problems)
    return _CHECKED[key]


def _services_file(document: Document, doc: DrillDoc) -> tuple[Any, list[Problem]]:
    """The drill's `services:` file, loaded (None and a problem when it cannot be)."""
    from drtool.errors import DocumentError
    from drtool.services.estate import load_services

    loaded = document.loaded
    assert loaded is not None and doc.services is not None
    path = (Path(document.path).parent / doc.services).resolve()
    try:
        return load_services(path), []
    except DocumentError as exc:
        return None, [loaded.problem(("services",), f"services file {path} has problems: "
                                                    f"{exc.problems[0] if exc.problems else exc}")]
    except OSError as exc:
        return None, [loaded.problem(("services",), f"services file {path} cannot be read: {exc.strerror or exc}")]


def _default_objectives(document: Document, doc: DrillDoc, scenario: ScenarioDoc) -> list[Problem]:
    """Issue 15: a drill without `objectives:` takes its service tier's objectives for the
    scenario's disruption type from its `services:` file (set on `doc`); else a problem.
    A drill with its own objectives still needs a readable services file when it names one
    (runs attribute failures to services from it)."""
    loaded = document.loaded
    assert loaded is not None
    if doc.services is None:
        if doc.objectives is not None:
            return []
        return [loaded.problem(("objectives",), "no `objectives:`: give `objectives: {rto: ...}`, or `services:` "
                                               "naming a services file whose tier policy sets them")]
    estate, problems = _services_file(document, doc)
    if estate is None or doc.objectives is not None:
        return problems
    from drtool.documents.models import Objectives
    from drtool.services.model import infer_disruption

    disruption = scenario.disruption or infer_disruption(scenario.name)
    wanted = estate.objective(doc.service.name, disruption)
    if wanted is None:
        path = (Path(document.path).parent / doc.services).resolve()
        return [loaded.problem(("services",), f"{path} sets no {disruption} objective for service "
                                              f"{doc.service.name!r}: give `objectives:` in the drill")]
    doc.objectives = Objectives(rto=wanted.rto, rpo=wanted.rpo)
    return []


def bind_drill(document: Document, overrides: dict[str, Any] | None = None) -> tuple[Drill | None, list[Problem], str | None]:
    """Resolve and bind the drill's scenario: (drill or None, every problem, a hint)."""
    loaded, doc = document.loaded, document.doc
    problems = list(document.problems)
    if loaded is None or not isinstance(loaded.data, dict):
        return None, problems, document.hint
    raw = loaded.data
    if document.kind != "drill":
        return None, problems or [loaded.problem(("kind",), "expected `kind: drill`")], "give a drill file"
    ref = raw.get("scenario")
    if not isinstance(ref, str) or not ref:
        return None, problems, None
    try:
        scenario_path = resolve_scenario(ref, document.path)
    except LookupProblem as exc:
        return None, [*problems, loaded.problem(("scenario",), exc.message)], exc.hint
    scenario_doc, scenario_problems = _checked_scenario(scenario_path)
    if not scenario_doc.problems and scenario_doc.kind != "scenario":
        return None, [*problems, loaded.problem(("scenario",), f"{scenario_path} is not a scenario")], None
    if scenario_problems:
        problems.append(loaded.problem(("scenario",), f"scenario {ref!r} ({scenario_path}) has problems "
                                                      "(listed with its file)"))
        return None, problems + scenario_problems, "fix the scenario file; it is never skipped for another"
    scenario = scenario_doc.doc
    raw_parameters = raw.get("parameters")
    given = dict(raw_parameters) if isinstance(raw_parameters, dict) else {}
    given.update(overrides or {})
    param_problems: list[Problem] = []
    values = _parameters(loaded, scenario, given, param_problems)
    problems += loaded.without_echoes(param_problems)
    if param_problems or not isinstance(doc, DrillDoc):
        return None, problems, None
    assert scenario_doc.loaded is not None
    bind_problems: list[Problem] = []
    steps = Binder(scenario_doc.loaded, scenario, values, bind_problems, drill=loaded).bind()
    problems += bind_problems
    problems += [loaded.problem(path, message) for path, message in location_problems(doc.rpo, ("rpo",))]
    problems += _default_objectives(document, doc, scenario)
    if problems:
        return None, problems, None
    drill = Drill(doc=doc, scenario=scenario, path=document.path, scenario_path=scenario_path, parameters=values,
                  steps=steps, sha256=loaded.sha256, scenario_sha256=scenario_doc.loaded.sha256)
    return drill, [], None


def load_drill(path: str | Path, overrides: dict[str, Any] | None = None, *,
               document: Document | None = None) -> Drill:
    """Load a drill (or take the already-read `document`), find and bind its scenario;
    DocumentError lists every problem. `overrides` replace drill parameters (the
    sandbox's `sandbox.parameters`)."""
    document = document or read(path)
    if document.loaded is not None and document.kind == "scenario":
        raise DocumentError([document.loaded.problem(("kind",), "expected `kind: drill`; validate scenarios "
                                                                "with `drtool validate`")],
                            "run a drill file, not a scenario")
    drill, problems, hint = bind_drill(document, overrides)
    if drill is None:
        raise DocumentError(problems, hint)
    return drill


def validate_file(path: str | Path, overrides: dict[str, Any] | None = None) -> tuple[Document, list[Problem]]:
    """Every problem of one file, in one pass (never raises for its content); the file's
    own problems first, then those of the scenario it names, each by line. `overrides`
    replace a drill's parameters (`--param`)."""
    document = read(path)
    problems = document.problems
    if document.kind == "drill":
        _drill, problems, _hint = bind_drill(document, overrides)
    elif document.kind == "scenario" and not document.problems:
        problems = _scenario_problems(document)
    elif document.kind == "services" and not document.problems:
        from drtool.services.estate import services_problems

        problems = services_problems(document)
    own = str(document.path)
    return document, sorted(problems, key=lambda p: (p.file != own, p.file, p.line, p.col))
