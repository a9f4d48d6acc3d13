"""The library behind the CLI: load, validate, plan, run and roll back drills.

Every function here works without Click; the CLI only parses options and prints.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drtool.documents import Drill, DrillDoc, load_drill, read_document
from drtool.errors import DocumentError, Problem, UsageError


@dataclass
class Checked:
    path: Path
    kind: str | None
    name: str | None
    problems: list[Problem]


def yaml_files(paths: list[str | Path]) -> list[Path]:
    """Files given, and *.yaml / *.yml inside folders given (sorted)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        try:
            is_dir = path.is_dir()
        except (OSError, ValueError):     # a NUL in the name: read_bytes reports it
            is_dir = False
        if is_dir:
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
        else:
            found.append(path)
    return found


def validate(paths: list[str | Path], params: dict[str, str] | None = None) -> list[Checked]:
    """Check every drill/scenario file, each in one pass (schema, scenario, parameters,
    steps); never touches AWS. `params` (`--param`) override every drill's parameters,
    typed by its scenario (UsageError for a bad one)."""
    from drtool.documents import validate_file
    from drtool.overrides import typed_overrides

    results = []
    for path in yaml_files(paths):
        document, problems = validate_file(path, typed_overrides(path, params) if params else None)
        results.append(Checked(path, document.kind, document.name, problems))
    return results


def make_session(drill: Drill | None = None, *, profile: str | None = None, region: str | None = None):
    """An AwsSession from CLI options, then the drill's `aws:` block, then the environment."""
    from drtool.aws.session import AwsSession

    aws = drill.doc.aws if drill is not None else None
    region = region or (drill.home_region if drill is not None else None)
    session = AwsSession(profile=profile or (aws.profile if aws else None), region=region,
                         role_arn=aws.role_arn if aws else None, external_id=aws.external_id if aws else None)
    if drill is not None:
        session.configure_accounts(drill.accounts)   # `account:` steps assume these roles
    return session


_SANDBOX_REF = re.compile(r"\$\{sandbox\.([A-Za-z0-9_.-]+)\}")


def sandbox_overrides(parameters: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """Expand `${sandbox.X}` in a drill's `sandbox.parameters` with the running sandbox's values."""

    def expand(value: Any) -> Any:
        if isinstance(value, str):
            return _SANDBOX_REF.sub(lambda m: str(values.get(m.group(1), m.group(0))), value)
        if isinstance(value, list):
            return [expand(v) for v in value]
        if isinstance(value, dict):
            return {k: expand(v) for k, v in value.items()}
        return value

    return {k: expand(v) for k, v in parameters.items()}


@contextlib.contextmanager
def drill_target(path: str | Path, *, sandbox: bool = False, profile: str | None = None,
                 region: str | None = None, params: dict[str, str] | None = None) -> Iterator[tuple[Drill, Any, str]]:
    """Yield (drill, session, mode): live AWS, or the drill's sandbox estate started for it.
    `params` (`--param`, text) override the drill's parameters, typed by its scenario."""
    from drtool.overrides import typed_overrides

    given = typed_overrides(path, params or {})
    if not sandbox:
        from drtool.endpoint import where

        drill = load_drill(path, overrides=given or None)
        session = make_session(drill, profile=profile, region=region)
        # a custom endpoint that answers as a simulator (`drtool sandbox up`, moto) is a sandbox run
        yield drill, session, where(session).mode
        return
    loaded, doc = read_document(path)
    if not isinstance(doc, DrillDoc):
        raise UsageError(f"{path} is not a drill")
    if doc.sandbox is None:
        line, col = loaded.mark(())
        raise DocumentError([Problem(str(path), line, col, "the drill has no `sandbox:` block naming its estate")],
                            "add `sandbox: {estate: webshop}` (see docs/sandbox-contract.md)")
    from drtool.sandbox import Sandbox

    estate = doc.sandbox.estate
    if estate.endswith((".yaml", ".yml")):
        estate = str((Path(path).parent / estate).resolve())
    with Sandbox.load(estate) as sb:          # entering starts it
        overrides = {**sandbox_overrides(doc.sandbox.parameters, sb.values()), **given}
        drill = load_drill(path, overrides=overrides)
        session = sb.session(region or drill.home_region)
        session.configure_accounts(drill.accounts)   # moto isolates accounts by assumed-role credentials
        yield drill, session, "sandbox"
