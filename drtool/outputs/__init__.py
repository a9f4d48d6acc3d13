"""Scorecard outputs: formats (md, html, junit, json), results store, history, attestations.

The runner writes scorecard.json itself (`drtool.scorecard.write_scorecard`: fold, seal,
write atomically); the other formats are rendered from it:

    write_formats(run_dir, scorecard, ["md", "html"])   # scorecard.md, scorecard.html, junit.xml
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drtool.errors import UsageError

if TYPE_CHECKING:
    from drtool.scorecard_model import Scorecard

FORMATS = ("md", "html", "junit", "json")
FILENAMES = {"md": "scorecard.md", "html": "scorecard.html", "junit": "junit.xml", "json": "scorecard.json"}


def render_json(scorecard: dict[str, Any]) -> str:
    """Pretty JSON with sorted keys. The digest is over the canonical form, so layout never matters."""
    return json.dumps(scorecard, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def render(scorecard: dict[str, Any], fmt: str, attestations: list[dict[str, Any]] | None = None, *,
           card: Scorecard | None = None) -> str:
    """Render a scorecard as md | html | junit | json. `attestations` (review documents
    from `drtool attest`) add a Reviews section to md and html. The renderers read the typed
    model (`card`, else `drtool.outputs.card.read_scorecard(scorecard)`); the digest is
    checked on the dict as written."""
    if fmt == "json":
        return render_json(scorecard)
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}", f"use one of: {', '.join(FORMATS)}")
    from drtool.integrity import digest_problem
    from drtool.outputs.card import read_scorecard

    card = card or read_scorecard(scorecard)
    if fmt == "md":
        from drtool.outputs import markdown

        return markdown.render(card, attestations, digest_problem=digest_problem(scorecard))
    if fmt == "html":
        from drtool.outputs import html

        return html.render(card, attestations, digest_problem=digest_problem(scorecard))
    from drtool.outputs import junit

    return junit.render(card)


def write_formats(run_dir: Path, scorecard: dict[str, Any], formats: list[str]) -> list[Path]:
    """Write each requested format next to scorecard.json; returns the paths written.
    `json` is written only when scorecard.json is not there yet (the runner writes it)."""
    from drtool.outputs.card import read_scorecard

    card = read_scorecard(scorecard)      # once for every format
    written = []
    for fmt in dict.fromkeys(formats):
        if fmt not in FILENAMES:
            raise UsageError(f"unknown format {fmt!r}", f"use one of: {', '.join(FORMATS)}")
        path = Path(run_dir) / FILENAMES[fmt]
        if fmt == "json" and path.exists():
            continue
        path.write_text(render(scorecard, fmt, card=card), encoding="utf-8")
        written.append(path)
    return written
