"""The resolved form the runner uses (`Drill`, `Step`) and binding a scenario's steps.

Binding substitutes the drill's parameters into each step and validates its `with:` and
`targets:` against the registry entry's own models, then checks every region and AZ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from drtool.documents.models import DrillDoc, FailbackStepDoc, Objectives, ScenarioDoc, StepDoc
from drtool.documents.parameters import PLACEHOLDER, substitute
from drtool.documents.problems import pydantic_problems
from drtool.documents.regions import location_problems
from drtool.errors import Problem
from drtool.loader import Loaded
from drtool.selectors import TargetSelector

PHASES = ("steady_state", "inject", "recover", "workaround", "verify", "failback", "rollback")
CHECK_PHASES = ("steady_state", "verify")
UNDOABLE_PHASES = ("inject", "recover", "workaround")   # the steps a failback `undo:` may name


@dataclass
class Step:
    phase: str
    index: int
    form: str                      # action | wait | check | manual | undo (failback)
    ref: str                       # entry name, the manual text, or (undo) the label of the step undone
    label: str                     # name shown in the timeline
    params: BaseModel | None       # validated `with:` (None for manual)
    targets: TargetSelector | None
    timeout: float | None
    where: str                     # file:line of the step, for messages
    account: str | None = None     # a name under the drill's aws.accounts; None: the drill's own

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
    """A drill bound to its scenario. `path`/`scenario_path` are the files read and
    `sha256`/`scenario_sha256` the SHA-256 of their bytes (spec 7.4, for the evidence)."""

    doc: DrillDoc
    scenario: ScenarioDoc
    path: Path
    scenario_path: Path
    parameters: dict[str, Any]
    steps: dict[str, list[Step]] = field(default_factory=dict)
    sha256: str = ""
    scenario_sha256: str = ""

    @property
    def name(self) -> str:
        return self.doc.name

    @property
    def objectives(self) -> Objectives:
        """The drill's objectives: its own, or its service tier's (set when it was bound)."""
        if self.doc.objectives is None:
            raise ValueError(f"drill {self.name} has no objectives")
        return self.doc.objectives

    @property
    def accounts(self) -> dict[str, Any]:
        """Named accounts (`aws.accounts`) as `AccountRole`s, for `AwsSession.configure_accounts`."""
        from drtool.aws.session import AccountRole

        return {name: AccountRole(a.role_arn, a.external_id) for name, a in self.doc.aws.accounts.items()}

    def account_names(self) -> list[str | None]:
        """None (the drill's own account) and every named account a step, stop condition or
        RPO source uses."""
        used: set[str] = {s.account for s in self.all_steps() if s.account}
        used |= self.doc.rpo.accounts() if self.doc.rpo else set()
        used |= {str(c.account) for c in self.doc.guardrails.stop_conditions if getattr(c, "account", None)}
        return [None, *sorted(used)]

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


def _timeout(value: float | str | None) -> float | None:
    """A step's timeout in seconds. A `${placeholder}` is left only when nothing was bound
    (a scenario checked alone, whose steps are thrown away) or with a problem reported."""
    return None if isinstance(value, str) else value


def _raw_at(data: Any, path: tuple) -> Any:
    for key in path:
        found = (isinstance(data, dict) and key in data) or (
            isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data))
        if found:
            data = data[key]
        else:
            return None
    return data


@dataclass
class Binder:
    """Binds one scenario's steps; `drill` (with its Loaded) lets a bad bound value be
    reported at the drill parameter it came from."""

    loaded: Loaded
    scenario: ScenarioDoc
    values: dict[str, Any] | None
    problems: list[Problem]
    drill: Loaded | None = None

    def _location_problems(self, model: BaseModel | None, base: tuple) -> None:
        for path, message in location_problems(model, base):
            raw = _raw_at(self.loaded.data, path)
            whole = PLACEHOLDER.fullmatch(raw) if isinstance(raw, str) else None
            drill = self.drill
            drill_params = _raw_at(drill.data, ("parameters",)) if drill is not None else None
            if whole and drill is not None and isinstance(drill_params, dict) and whole.group(1) in drill_params:
                name = whole.group(1)
                self.problems.append(drill.problem(("parameters", name), f"parameter {name}: {message}"))
            else:
                self.problems.append(self.loaded.problem(path, message))

    def bind(self) -> dict[str, list[Step]]:
        """Substitute parameters and validate every step against the registry.

        With `values=None` (a scenario checked alone) values that are still placeholders
        are not type-checked; everything else is.
        """
        steps: dict[str, list[Step]] = {}
        for phase in PHASES:
            steps[phase] = []
            for index, step in enumerate(getattr(self.scenario, phase)):
                if phase == "failback" and step.form == "undo":
                    bound = self._failback_undo(index, step, steps)
                else:
                    bound = self._step(phase, index, step)
                if bound is not None:
                    steps[phase].append(bound)
        return steps

    def _failback_undo(self, index: int, entry: FailbackStepDoc, steps: dict[str, list[Step]]) -> Step | None:
        """A failback `undo:` entry, bound to the one inject/recover/workaround step it names
        (by its label, else by its action when only one step uses that action)."""
        base = ("failback", index)
        candidates = [s for phase in UNDOABLE_PHASES for s in steps.get(phase, [])]
        found = [s for s in candidates if s.label == entry.ref] or [s for s in candidates if s.ref == entry.ref]
        if len(found) != 1:
            known = ", ".join(repr(s.label) for s in candidates
                              if s.form == "action" and s.entry is not None and s.entry.undo) or "none"
            what = "names no" if not found else f"matches {len(found)}"
            self.problems.append(self.loaded.problem((*base, "undo"), (
                f"failback undo {entry.ref!r} {what} inject, recover or workaround step; give one step's "
                f"`name:` (steps with changes to undo: {known})")))
            return None
        target = found[0]
        shared = [s for s in candidates if s.label == target.label and s is not target]
        entry_of = target.entry if target.form == "action" else None
        message = None
        if shared:
            message = f"{len(shared) + 1} steps are labelled {target.label!r}; give them distinct `name:`s"
        elif entry_of is None:
            message = f"step {target.label!r} is a {target.form} step: it changes nothing to undo"
        elif entry_of.undo is None:
            message = f"step {target.label!r} ({entry_of.name}) cannot be undone; it lands in follow_up instead"
        if message:
            self.problems.append(self.loaded.problem((*base, "undo"), f"failback undo {entry.ref!r}: {message}"))
            return None
        line, _col = self.loaded.mark(base)
        label = entry.name or target.label
        return Step("failback", index, "undo", target.label, label, None, None, None, f"{self.loaded.file}:{line}")

    def _step(self, phase: str, index: int, step: StepDoc | FailbackStepDoc) -> Step | None:
        from drtool.registry import ACTIONS, PROBES, UnknownEntry

        loaded, problems, values = self.loaded, self.problems, self.values
        base = (phase, index)
        raw = loaded.data.get(phase, [])[index]

        def missing(name: str) -> None:
            problems.append(loaded.problem(base, f"unknown parameter ${{{name}}}; declare it under `parameters:`"))

        bound = raw if values is None else substitute(raw, values, missing)
        if values is not None:
            try:
                step = StepDoc.model_validate(bound)
            except ValidationError as exc:
                problems.extend(pydantic_problems(loaded, exc, base))
                return None
        line, _col = loaded.mark(base)
        where = f"{loaded.file}:{line}"
        label = step.name or (step.ref if step.form != "manual" else f"manual: {step.ref[:40]}")
        account = self._account(step, base)
        if step.form == "manual":
            return Step(phase, index, "manual", str(bound.get("manual")), label, None, None, _timeout(step.timeout),
                        where, account)
        registry = ACTIONS if step.form == "action" else PROBES
        if step.form != "check" and phase in CHECK_PHASES:
            problems.append(loaded.problem((*base, step.form),
                                           f"{phase} steps must be `check:` probes, not {step.form} steps"))
            return None
        if step.form in ("wait", "check") and phase == "inject":
            problems.append(loaded.problem((*base, step.form), "inject steps must be actions"))
            return None
        try:
            entry = registry.get(step.ref)
        except UnknownEntry as exc:
            problems.append(loaded.problem((*base, step.form), str(exc)))
            return None
        params = None
        try:
            params = entry.params.model_validate(bound.get("with") or {})
        except ValidationError as exc:
            problems.extend(pydantic_problems(loaded, exc, (*base, "with"), skip_placeholders=values is None))
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
                problems.extend(pydantic_problems(loaded, exc, (*base, "targets"), skip_placeholders=values is None))
        self._location_problems(params, (*base, "with"))
        self._location_problems(targets, (*base, "targets"))
        return Step(phase, index, step.form, step.ref, label, params, targets, _timeout(step.timeout), where,
                    account)

    def _account(self, step: StepDoc | FailbackStepDoc, base: tuple) -> str | None:
        """The step's bound account name; a name the drill's `aws.accounts` lacks is a problem."""
        if step.account is None or PLACEHOLDER.fullmatch(step.account):
            return None   # unbound (a scenario checked alone)
        known = _raw_at(self.drill.data, ("aws", "accounts")) if self.drill is not None else None
        if self.drill is not None and not (isinstance(known, dict) and step.account in known):
            names = ", ".join(sorted(known)) if isinstance(known, dict) and known else "none"
            self.problems.append(self.loaded.problem((*base, "account"), (
                f"account {step.account!r} is not under the drill's aws.accounts (known: {names})")))
        return step.account
