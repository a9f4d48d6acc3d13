"""The result of an import, read from a source file and written as two YAML documents.

The scenario carries, as comments at its top, what could not be mapped and what was
mapped with a caveat; the drill is a skeleton whose objectives and guardrails the owner
must review. Both are validated after writing exactly as `drtool validate` would.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drtool.errors import DocumentError, Problem, UsageError

_NAME_CHARS = re.compile(r"[^a-z0-9._-]+")


@dataclass
class ImportResult:
    """A scenario and a drill skeleton as plain data, and what the mapping left out."""

    name: str
    source: str                                           # "AWS FIS template x.json"
    scenario: dict[str, Any]
    drill: dict[str, Any]
    unmapped: list[str] = field(default_factory=list)     # not carried over: do by hand
    notes: list[str] = field(default_factory=list)        # carried over with a caveat
    pending: list[dict[str, Any]] = field(default_factory=list)  # inject steps this drtool cannot bind yet


def slug(text: str, fallback: str = "imported") -> str:
    """A document name (`^[a-z0-9][a-z0-9._-]*$`, at most 128 chars) from free text."""
    name = _NAME_CHARS.sub("-", text.strip().lower()).strip("-._")[:100].strip("-._")
    return name or fallback


def read_source(path: str | Path) -> dict[str, Any]:
    """The experiment in `path` (JSON, or YAML read by the bounded loader) as a mapping."""
    from drtool.loader import decode, load_yaml, read_bytes

    path = Path(path)
    raw = read_bytes(path)              # regular files only, size-bounded; DocumentError otherwise
    if path.suffix.lower() in (".yaml", ".yml"):
        loaded = load_yaml(path, raw)
        if loaded.problems:
            raise DocumentError(loaded.problems)
        data = loaded.data
    else:
        try:
            data = json.loads(decode(raw, str(path)))
        except json.JSONDecodeError as exc:
            raise DocumentError([Problem(str(path), exc.lineno, exc.colno, f"not valid JSON: {exc.msg}")],
                                "give the template as JSON (or .yaml/.yml for YAML)") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON/YAML object at the top, got {type(data).__name__}")
    return data


def _comment(lines: list[str]) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for text in lines for line in text.splitlines() or [""])


def _dump(document: Any) -> str:
    import yaml

    document = json.loads(json.dumps(document))   # no shared objects: YAML aliases are refused on load
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)


def render_scenario(result: ImportResult) -> str:
    head = [f"Imported from {result.source} by `drtool import`. Review before running."]
    if result.unmapped:
        head += ["", "NOT MAPPED (no drtool equivalent; do these by hand or drop them):"]
        head += [f"  - {item}" for item in result.unmapped]
    if result.notes:
        head += ["", "Mapped with a caveat:"] + [f"  - {note}" for note in result.notes]
    text = _comment(head) + _dump(result.scenario)
    if result.pending:
        text += "\n" + _comment(["Inject steps this drtool cannot run yet (see NOT MAPPED above);",
                                 "append them to `inject:` once it can:", _dump(result.pending)])
    return text


def render_drill(result: ImportResult) -> str:
    head = [f"Drill skeleton imported from {result.source}.",
            "Before a real run: set the objectives you promise, guardrails.accounts, max_targets,",
            "require_tags and a schedule; then `drtool validate`, `drtool plan`."]
    return _comment(head) + _dump(result.drill)


def write_result(result: ImportResult, out: str | Path, *, force: bool = False) -> tuple[Path, Path]:
    """Write `<out>/scenarios/<name>.yaml` and `<out>/drills/<name>.yaml` (the drill names
    its scenario by relative path); refuse to overwrite unless `force`."""
    out = Path(out)
    scenario_path = out / "scenarios" / f"{result.name}.yaml"
    drill_path = out / "drills" / f"{result.name}.yaml"
    existing = [str(p) for p in (scenario_path, drill_path) if p.exists()]
    if existing and not force:
        raise UsageError(f"would overwrite {', '.join(existing)}", "pass --force, or choose --name / --out")
    result.drill["scenario"] = f"../scenarios/{result.name}.yaml"
    try:
        scenario_path.parent.mkdir(parents=True, exist_ok=True)
        drill_path.parent.mkdir(parents=True, exist_ok=True)
        scenario_path.write_text(render_scenario(result), encoding="utf-8")
        drill_path.write_text(render_drill(result), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write to {out}: {exc.strerror or exc}") from None
    return scenario_path, drill_path


def check_written(paths: tuple[Path, Path]) -> list[Problem]:
    """Every problem `drtool validate` reports for the written files."""
    from drtool.api import validate

    return [problem for checked in validate(list(paths)) for problem in checked.problems]
