"""Reading drill results for the business view: one `Result` per stored run.

Each scorecard becomes a `Result` with its service, disruption type (the scorecard's
`run.disruption` when recorded, else the scenario file's `disruption:` when the file named
in `run.sources.scenario` still has that SHA-256 or the library has the scenario, else
inferred from the scenario's name), mode (sandbox or live) and measured RTO/RPO. Review
actions come from the attestations next to each scorecard (`drtool attest`), follow-ups
from the scorecard; an attestation that fails its digest check is skipped with a warning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drtool.outputs.card import read_scorecard
from drtool.scorecard_model import Scorecard
from drtool.services.model import infer_disruption


@dataclass
class Action:
    service: str
    drill: str
    run_id: str
    text: str
    owner: str | None
    due: str | None
    status: str
    source: str                     # "review" (attestation) | "follow-up" (scorecard)


@dataclass
class Result:
    drill: str
    run_id: str
    service: str
    disruption: str
    mode: str
    status: str
    started_at: str
    rto_s: float | None
    rpo_s: float | None
    rto_target_s: float | None
    rpo_target_s: float | None
    counts: bool                    # a test (passed/failed), not an aborted attempt
    card: Scorecard                 # the stored scorecard, read once
    files: list[str] = field(default_factory=list)
    read_file: Any = None
    actions: list[Action] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.mode != "sandbox"


_SCENARIOS: dict[str, str | None] = {}


def _library_disruption(name: str) -> str | None:
    if name not in _SCENARIOS:
        from drtool.documents import library_dirs, read, scenario_index

        path = scenario_index(library_dirs()).get(name)
        doc = read(path).doc if path is not None else None
        _SCENARIOS[name] = getattr(doc, "disruption", None)
    return _SCENARIOS[name]


def disruption_of(card: Scorecard) -> str:
    recorded = card.run.disruption
    if isinstance(recorded, str) and recorded:
        return recorded
    source = (card.run.sources or {}).get("scenario") or {}
    path, sha = (source.get("path"), source.get("sha256")) if isinstance(source, dict) else (None, None)
    if isinstance(path, str) and path and Path(path).is_file():
        from drtool.documents import read

        document = read(path)
        if document.loaded is not None and document.loaded.sha256 == sha and getattr(document.doc, "disruption", None):
            return str(document.doc.disruption)
    name = str(card.run.scenario or "")
    return (_library_disruption(name) if name else None) or infer_disruption(name)


def _completed(card: Scorecard) -> bool:
    """A test that ran to a verdict (passed/failed, or recovered with an incomplete rollback),
    not an aborted attempt; sandbox or live alike (`Result.live` tells them apart)."""
    status = card.run.status
    if status in ("passed", "failed"):
        return True
    return status == "rollback-incomplete" and card.objectives.rto.recovered_at is not None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _actions(record: Any, card: Scorecard, service: str, warnings: list[str]) -> list[Action]:
    """Review actions of the attestations next to the run (each checked against the
    scorecard as written) and its follow-ups."""
    from drtool.outputs.attest import is_attestation, problems

    drill, run_id = str(card.run.drill), str(card.run.id)
    found: list[Action] = []
    signed_off = False
    for name in sorted(n for n in record.files if is_attestation(n)):
        try:
            attestation = json.loads(record.read_file(name).decode("utf-8"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            warnings.append(f"skipped {name} of {drill}/{run_id}: {exc}")
            continue
        wrong = problems(attestation, record.scorecard)
        if wrong:
            warnings.append(f"skipped {name} of {drill}/{run_id}: {'; '.join(wrong)}")
            continue
        signed_off = signed_off or attestation.get("sign_off") is True
        for item in attestation.get("corrective_actions") or []:
            if isinstance(item, dict):
                found.append(Action(service, drill, run_id, str(item.get("text")), item.get("owner"), item.get("due"),
                                    str(item.get("status") or "open"), "review"))
    # A scorecard's follow-ups (e.g. fail back a promoted replica) stay open until a reviewer
    # signs the run off in an attestation.
    follow = [Action(service, drill, run_id, f"{f.resource}: {f.how or f.summary}", None, None,
                     "closed" if signed_off else "open", "follow-up")
              for f in card.follow_up or []]
    return follow + found


def read_results(records: list[Any], warnings: list[str]) -> list[Result]:
    """Every readable run as a Result, oldest first; unreadable ones become warnings."""
    results = []
    for record in records:
        if record.scorecard is None:
            warnings.append(f"skipped {record.error or record.location}")
            continue
        sc = read_scorecard(record.scorecard)
        rto, rpo = sc.objectives.rto, sc.objectives.rpo
        service = str(sc.service.name or "unknown")
        result = Result(drill=str(sc.run.drill), run_id=str(sc.run.id), service=service,
                        disruption=disruption_of(sc), mode=str(sc.run.mode or "live"),
                        status=str(sc.run.status or "unknown"), started_at=str(sc.run.started_at or ""),
                        rto_s=_num(rto.measured_s), rpo_s=_num(rpo.measured_s),
                        rto_target_s=_num(rto.target_s), rpo_target_s=_num(rpo.target_s),
                        counts=_completed(sc), card=sc, files=list(record.files), read_file=record.read_file)
        result.actions = _actions(record, sc, service, warnings)
        results.append(result)
    return sorted(results, key=lambda r: (r.started_at, r.run_id))
