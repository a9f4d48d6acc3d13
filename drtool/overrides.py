"""Command-line parameter overrides (`--param NAME=VALUE`) typed by the scenario's spec.

Values arrive as text and are typed by the scenario's parameter spec (`integer`,
`number`, `boolean`, `duration`, `list`, `string`, `secret`), then checked like a value
written in the drill. A bad one is a UsageError (exit 2) naming the option, not a file
line. Overrides win over the drill's `parameters:` and its `sandbox.parameters`; the bound
values are journaled in `run.started` and so recorded as `run.parameters` in the scorecard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TRUE = {"true", "yes", "on", "1"}
FALSE = {"false", "no", "off", "0"}


def text_to_type(kind: str, text: str) -> Any:
    """Text from the command line as the spec's type (ValueError with a readable message)."""
    if kind == "integer":
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
    if kind == "number":
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in TRUE | FALSE:
            return lowered in TRUE
        raise ValueError(f"expected true or false, got {text!r}")
    if kind == "list":
        stripped = text.strip()
        if stripped.startswith("["):
            import yaml

            try:
                value = yaml.safe_load(stripped)
            except yaml.YAMLError:
                raise ValueError(f"expected a list like [a, b] or a,b, got {text!r}") from None
            if isinstance(value, list):
                return value
            raise ValueError(f"expected a list like [a, b] or a,b, got {text!r}")
        return [part.strip() for part in stripped.split(",") if part.strip()]
    return text                          # string, secret, duration (parsed by the spec check)


def typed_overrides(drill_path: str | Path, raw: dict[str, str]) -> dict[str, Any]:
    """`raw` typed by the drill's scenario. When the drill or its scenario cannot be read,
    the text is returned as is: loading the drill then reports those problems by line."""
    if not raw:
        return {}
    from drtool.documents import coerce_parameter, did_you_mean
    from drtool.documents.library import LookupProblem, resolve_scenario
    from drtool.documents.load import read
    from drtool.documents.models import ScenarioDoc
    from drtool.errors import UsageError

    document = read(drill_path)
    data = document.loaded.data if document.loaded is not None else None
    if document.kind != "drill" or not isinstance(data, dict) or not isinstance(data.get("scenario"), str):
        return dict(raw)
    try:
        scenario_path = resolve_scenario(data["scenario"], document.path)
    except LookupProblem:
        return dict(raw)
    scenario = read(scenario_path).doc
    if not isinstance(scenario, ScenarioDoc):
        return dict(raw)
    typed: dict[str, Any] = {}
    for name, text in raw.items():
        spec = scenario.parameters.get(name)
        if spec is None:
            known = ", ".join(sorted(scenario.parameters)) or "none"
            raise UsageError(f"--param {name}: scenario {scenario.name!r} has no parameter {name!r}"
                             f"{did_you_mean(name, scenario.parameters)}", f"its parameters: {known}")
        try:
            typed[name] = coerce_parameter(spec, text_to_type(spec.type, text))
        except ValueError as exc:
            raise UsageError(f"--param {name}={text}: {exc}",
                             f"parameter {name!r} of scenario {scenario.name!r} is of type {spec.type}") from None
    return typed
