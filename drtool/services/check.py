"""`drtool validate --services FILE`: drills judged against their services' tier policies."""

from __future__ import annotations

from pathlib import Path

from drtool.errors import Problem
from drtool.services.estate import Estate, drill_warnings


def warnings_for(estate: Estate, paths: list[Path]) -> list[Problem]:
    """Tier warnings for every drill among `paths` that validates cleanly (a drill with
    problems is reported by `validate` itself)."""
    from drtool.documents import bind_drill, read

    found: list[Problem] = []
    for path in paths:
        document = read(path)
        if document.kind != "drill" or document.problems:
            continue
        drill, problems, _hint = bind_drill(document)
        if drill is not None and not problems:
            found.extend(drill_warnings(estate, document, drill))
    return found
