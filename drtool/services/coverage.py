"""Coverage: every service x disruption type, its newest drill result, gaps by tier.

Pure logic over an `Estate`, `Result`s and an injected `now` (epoch seconds).
- A cell is *required* when the service's objectives (own or tier) name its disruption type.
- Only live runs that count as a test (passed or failed; see drtool.outputs.view.resets_clock)
  cover a cell: a sandbox run shows as `sandbox-only`, never as coverage.
- `untested`: required, no live test; `overdue`: the newest live test is older than the
  tier's `every`; `missed`: the newest live test failed or measured worse than the service's
  objective; `met` otherwise; `not-required` when no objective applies.
- Gaps (untested/overdue required cells) are listed worst first: tier order, then region,
  data-corruption, az, instance. A gap in a tier with `gate: true` makes the exit code 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from drtool.services.estate import Estate
from drtool.services.model import DISRUPTIONS
from drtool.services.results import Action, Result
from drtool.timing import parse_rfc3339, rfc3339

SEVERITY = ("region", "data-corruption", "az", "instance")
LABEL = {"region": "region loss", "az": "AZ loss", "instance": "instance loss", "data-corruption": "data corruption"}


@dataclass
class Cell:
    service: str
    disruption: str
    required: bool
    rto_objective_s: float | None
    rpo_objective_s: float | None
    state: str
    latest: Result | None = None             # newest live test
    latest_sandbox: Result | None = None     # newest sandbox run (shown, never coverage)
    due_at: str | None = None

    @property
    def rto_met(self) -> bool | None:
        return _met(self.latest.rto_s if self.latest else None, self.rto_objective_s)

    @property
    def rpo_met(self) -> bool | None:
        return _met(self.latest.rpo_s if self.latest else None, self.rpo_objective_s)


@dataclass
class ServiceCoverage:
    name: str
    tier: str
    owner: str
    capability: str
    gate: bool
    cells: list[Cell]
    posture: dict[str, Any] | None
    actions: list[Action] = field(default_factory=list)


@dataclass
class Coverage:
    now: float
    services: list[ServiceCoverage]
    gaps: list[str]
    gating: list[str]
    overdue_actions: list[Action]
    results: list[Result]

    @property
    def exit_code(self) -> int:
        return 1 if self.gating else 0


def _met(measured: float | None, objective: float | None) -> bool | None:
    return None if measured is None or objective is None else measured <= objective


def _ts(value: str | None) -> float | None:
    try:
        return parse_rfc3339(value) if value else None
    except ValueError:
        return None


def _cell(estate: Estate, service: str, disruption: str, runs: list[Result], now: float) -> Cell:
    objective = estate.objective(service, disruption)
    policy = estate.policy(service)
    live = [r for r in runs if r.live and r.counts]
    sandbox = [r for r in runs if not r.live]
    cell = Cell(service, disruption, objective is not None, objective.rto if objective else None,
                objective.rpo if objective else None, "not-required",
                latest=live[-1] if live else None, latest_sandbox=sandbox[-1] if sandbox else None)
    started = _ts(cell.latest.started_at) if cell.latest else None
    if started is not None and policy is not None and policy.every:
        cell.due_at = rfc3339(started + policy.every)
    if cell.latest is None:
        cell.state = ("sandbox-only" if sandbox else "untested") if cell.required else "not-required"
    elif cell.due_at and cell.required and now > (_ts(cell.due_at) or now):
        cell.state = "overdue"
    elif cell.latest.status != "passed" or cell.rto_met is False or cell.rpo_met is False:
        cell.state = "missed"
    else:
        cell.state = "met"
    return cell


def _posture(service: str, results: list[Result]) -> dict[str, Any] | None:
    own = [r for r in results if r.service == service and isinstance((r.card.posture or {}).get("backups"), dict)]
    if not own:
        return None
    newest = own[-1]
    backups = (newest.card.posture or {})["backups"]
    resources = [x for x in backups.get("resources") or [] if isinstance(x, dict)]
    return {"compliant": backups.get("compliant"), "violations": backups.get("violations"), "resources": len(resources),
            "compliant_resources": sum(1 for x in resources if x.get("compliant") is True),
            "rpo_s": backups.get("rpo_s"), "checked_at": newest.started_at, "run": newest.run_id, "mode": newest.mode}


def _gap(svc: ServiceCoverage, cell: Cell) -> str:
    label = LABEL.get(cell.disruption, cell.disruption)
    if cell.state == "overdue" and cell.latest:
        why = f"drill overdue since {cell.due_at} (last live {cell.latest.started_at[:10]}, {cell.latest.drill})"
    elif cell.state == "sandbox-only" and cell.latest_sandbox:
        why = f"never drilled live (sandbox only: {cell.latest_sandbox.drill})"
    else:
        why = "never drilled"
    return f"{svc.name} ({svc.tier}, {svc.capability}): {why} for {label}"


def is_overdue(action: Action, now: float) -> bool:
    if action.status != "open" or not action.due:
        return False
    try:
        return date.fromisoformat(action.due) < datetime.fromtimestamp(now, tz=UTC).date()
    except ValueError:
        return False


def coverage(estate: Estate, results: list[Result], now: float) -> Coverage:
    """The coverage matrix, gaps worst-first and the gating ones (exit 1)."""
    services: list[ServiceCoverage] = []
    gaps: list[tuple[tuple[int, int, str], str, bool]] = []
    for name in sorted(estate.services, key=lambda n: (estate.rank(n), n)):
        doc = estate.services[name]
        policy = estate.policy(name)
        runs = [r for r in results if r.service == name]
        cells = [_cell(estate, name, d, [r for r in runs if r.disruption == d], now) for d in DISRUPTIONS]
        svc = ServiceCoverage(name, doc.tier, doc.owner, doc.capability, bool(policy and policy.gate), cells,
                              _posture(name, results), [a for r in runs for a in r.actions])
        services.append(svc)
        for cell in cells:
            if cell.required and cell.state in ("untested", "sandbox-only", "overdue"):
                gaps.append(((estate.rank(name), SEVERITY.index(cell.disruption), name), _gap(svc, cell), svc.gate))
    gaps.sort(key=lambda g: g[0])
    overdue = [a for s in services for a in s.actions if is_overdue(a, now)]
    return Coverage(now, services, [g[1] for g in gaps], [g[1] for g in gaps if g[2]], overdue, results)
