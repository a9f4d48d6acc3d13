"""Root cause to service against a loaded services file (`Estate`): the dashboard's view of
stored runs under today's services file. The rules and the pure function live in
`drtool.services.ownership`; a run's own scorecard carries the same attribution, folded
from the services file it journalled (`attribution` in the scorecard).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drtool.scorecard_model import Scorecard
from drtool.services.estate import Estate
from drtool.services.ownership import Attributed, Failed, Owner, Ownership, Selector, Targeted, failed_entries
from drtool.services.ownership import attribute as attribute_to
from drtool.services.ownership import impaired_services as impaired_of


def ownership_of(estate: Estate) -> Ownership:
    """The part of a services file attribution needs (what a run journals)."""
    return Ownership(estate.file, tuple(
        Owner(name, estate.rank(name), tuple(svc.depends_on),
              tuple(Selector(tuple(sorted(r.tags.items())), tuple(r.names)) for r in svc.resources))
        for name, svc in estate.services.items()))


def _failed(card: Scorecard) -> list[Failed]:
    return failed_entries([t.model_dump() for t in card.timeline or []])


def _targets(card: Scorecard) -> list[Targeted]:
    return [Targeted(t.id, t.arn, t.type, t.selected_by or "", t.step) for t in card.targets or []]


def attribute(card: Scorecard, estate: Estate) -> list[Attributed]:
    """Every failed check, then every targeted resource, with the services it impairs."""
    return attribute_to(ownership_of(estate), card.service.name, _failed(card), _targets(card))


def impaired_services(card: Scorecard, estate: Estate) -> list[str]:
    """Every service a run impaired (its own service first when it is in the estate)."""
    return impaired_of(ownership_of(estate), card.service.name, attribute(card, estate))


@dataclass(frozen=True)
class RunServices:
    """What a run journals about the services file its drill names (`services:`)."""

    sources: dict[str, dict[str, str]]     # {"services": {path, sha256}} for run.sources, or {}
    started: dict[str, Any]                # {"ownership": ...} for run.started, or {}
    problem: str | None = None             # the file could not be read: no attribution


def run_services(drill: Any) -> RunServices:
    """The services file of a bound drill, resolved like its objective defaults (relative
    to the drill file). Unreadable: no attribution, and a problem the run notes."""
    name = getattr(drill.doc, "services", None)
    if not name:
        return RunServices({}, {})
    from drtool.errors import DocumentError
    from drtool.services.estate import load_services

    path = (Path(drill.path).parent / name).resolve()
    try:
        estate = load_services(path)
    except (DocumentError, OSError) as exc:
        return RunServices({}, {}, f"services file {path} cannot be read ({exc}): no root cause to service")
    return RunServices({"services": {"path": str(path), "sha256": estate.sha256}},
                       {"ownership": ownership_of(estate).to_json()})
