"""The resilience dashboard's data: capability rows worst-first, lead and lag measures.

Pure logic over Results, an optional Estate and `now`; `drtool.services.pages` renders it
and `write_site` writes the static site. Sandbox runs are shown (labelled) so a rehearsal
has a picture, but lead measures count live runs only, like `coverage`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from drtool.services.coverage import Coverage, coverage
from drtool.services.estate import Estate
from drtool.services.results import Action, Result

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
ROW_ORDER = {"missed": 0, "gap": 1, "unproven": 2, "ok": 3}
WORDING = {"missed": "Missed its objective", "gap": "Not proven: gating drill missing or overdue",
           "unproven": "Not fully proven", "ok": "Within objectives"}


@dataclass
class Row:
    """One business capability on the management page."""

    capability: str
    services: list[str]
    tier: str
    state: str                          # missed | gap | unproven | ok
    latest: Result | None
    previous: Result | None
    rto_objective_s: float | None
    rpo_objective_s: float | None
    gaps: int
    overdue_actions: int

    @property
    def trend(self) -> str | None:
        """"better" | "worse" | "same" for the measured RTO against the previous run of the same drill."""
        if self.latest is None or self.previous is None or self.latest.rto_s is None or self.previous.rto_s is None:
            return None
        now, before = self.latest.rto_s, self.previous.rto_s
        if abs(now - before) <= max(0.05 * before, 0.05):
            return "same"
        return "better" if now < before else "worse"


@dataclass
class Measures:
    on_schedule: tuple[int, int]        # drills whose live schedule is kept / drills seen
    backups: tuple[int, int]            # compliant resources / resources in the newest postures
    follow_ups: tuple[int, int]         # closed actions / all actions


@dataclass
class Dashboard:
    now: float
    estate: Estate | None
    results: list[Result]
    rows: list[Row]
    measures: Measures
    coverage: Coverage | None
    actions: list[Action] = field(default_factory=list)


def _stricter(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def objective(estate: Estate | None, result: Result) -> tuple[float | None, float | None]:
    """(RTO, RPO) a run is judged by: the stricter of its drill's own targets and its
    service's objective for the run's disruption type."""
    rto, rpo = result.rto_target_s, result.rpo_target_s
    if estate is not None:
        wanted = estate.objective(result.service, result.disruption)
        if wanted is not None:
            return _stricter(rto, wanted.rto), _stricter(rpo, wanted.rpo)
    return rto, rpo


def missed(estate: Estate | None, result: Result) -> bool:
    rto, rpo = objective(estate, result)
    return result.status != "passed" or (result.rto_s is not None and rto is not None and result.rto_s > rto) or \
        (result.rpo_s is not None and rpo is not None and result.rpo_s > rpo)


def _rows(estate: Estate | None, results: list[Result], cov: Coverage | None) -> list[Row]:
    groups: dict[str, list[str]] = {}
    if estate is not None:
        for name, svc in estate.services.items():
            groups.setdefault(svc.capability, []).append(name)
    for result in results:
        if estate is None or result.service not in estate.services:
            groups.setdefault(result.service, []).append(result.service)
    rows = []
    for capability, names in groups.items():
        runs = [r for r in results if r.service in names and r.counts]
        newest_per_drill = {r.drill: r for r in runs}
        bad = [r for r in newest_per_drill.values() if missed(estate, r)]
        latest = bad[-1] if bad else (runs[-1] if runs else None)
        previous = next((r for r in reversed(runs) if latest and r.drill == latest.drill and r is not latest), None)
        cells = [c for s in (cov.services if cov else []) if s.name in names for c in s.cells]
        gating = [c for s in (cov.services if cov else []) if s.name in names and s.gate for c in s.cells
                  if c.required and c.state in ("untested", "sandbox-only", "overdue")]
        gaps = [c for c in cells if c.required and c.state in ("untested", "sandbox-only", "overdue")]
        state = "missed" if bad else "gap" if gating else "unproven" if gaps or not runs else "ok"
        tier = estate.services[names[0]].tier if estate is not None and names[0] in estate.services else "-"
        rto, rpo = objective(estate, latest) if latest else (None, None)
        overdue = len([a for a in (cov.overdue_actions if cov else []) if a.service in names])
        rows.append(Row(capability, names, tier, state, latest, previous, rto, rpo, len(gaps), overdue))
    rank = (lambda r: min(estate.rank(n) for n in r.services)) if estate is not None else (lambda r: 0)
    return sorted(rows, key=lambda r: (ROW_ORDER[r.state], rank(r), r.capability))


def _measures(results: list[Result], cov: Coverage | None, now: float, actions: list[Action]) -> Measures:
    from drtool.outputs.history import summarize

    drills = sorted({r.drill for r in results})
    live = summarize([r.card for r in results if r.live], now)
    kept = sum(1 for h in live if h.state == "ok")
    postures = [s.posture for s in (cov.services if cov else []) if s.posture]
    if not postures:                      # no services file: the newest posture per drill
        newest = {r.drill: (r.card.posture or {})["backups"] for r in results
                  if isinstance((r.card.posture or {}).get("backups"), dict)}
        postures = [{"resources": len(backups.get("resources") or []),
                     "compliant_resources": sum(1 for x in backups.get("resources") or []
                                                if isinstance(x, dict) and x.get("compliant") is True)}
                    for backups in newest.values()]
    compliant = (sum(int(p["compliant_resources"]) for p in postures), sum(int(p["resources"]) for p in postures))
    closed = sum(1 for a in actions if a.status != "open")
    return Measures((kept, len(drills)), compliant, (closed, len(actions)))


def build(results: list[Result], estate: Estate | None, now: float) -> Dashboard:
    cov = coverage(estate, results, now) if estate is not None else None
    actions = [a for r in results for a in r.actions]
    return Dashboard(now, estate, results, _rows(estate, results, cov), _measures(results, cov, now, actions), cov,
                     actions)


def safe(name: str) -> bool:
    return bool(_SAFE.match(name)) and name not in (".", "..")


def write_site(board: Dashboard, out: Path) -> list[Path]:
    """index.html (management), owners.html, engineers.html and runs/<drill>/<run>/ copies
    of each run's scorecard (json, html when stored) and journal, so links work offline."""
    from drtool.services import pages

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for result in board.results:
        if not (safe(result.drill) and safe(result.run_id)):
            continue
        folder = out / "runs" / result.drill / result.run_id
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("scorecard.json", "scorecard.html", "journal.jsonl"):
            if name in result.files:
                try:
                    (folder / name).write_bytes(result.read_file(name))
                except OSError:
                    continue
                written.append(folder / name)
    for name, html in (("index.html", pages.management(board)), ("owners.html", pages.owners(board)),
                       ("engineers.html", pages.engineers(board))):
        (out / name).write_text(html, encoding="utf-8")
        written.append(out / name)
    return written

