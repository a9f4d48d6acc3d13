"""What every human-readable format shows, computed once: the executive summary, the
timeline rows, the objectives, and the evidence rows read from controls.yaml.

Everything here is plain text (not escaped); each renderer escapes for its own format.
Tolerant of missing keys: a scorecard from an aborted run may lack most of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from drtool.durations import format_duration
from drtool.integrity import digest_problem
from drtool.timing import parse_rfc3339, rfc3339

NONE = "-"


def get(doc: Any, path: str, default: Any = None) -> Any:
    """Dotted path lookup that never raises."""
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return default
        doc = doc[part]
    return doc


def ts(value: Any) -> float | None:
    """Epoch seconds of an RFC 3339 timestamp; None when missing or unreadable."""
    try:
        return parse_rfc3339(value) if isinstance(value, str) else None
    except ValueError:
        return None


def seconds(value: Any) -> str:
    """A duration for people: 3.28s, 4m05s, 2h03m, 90 days (never a raw float)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return NONE
    days, rest = divmod(round(float(value)), 86400)
    if days >= 2 and rest == 0:
        return f"{days} days"
    return format_duration(float(value))


def number(value: Any) -> str:
    """A number for people: integers as they are, other floats to 3 significant digits."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return text(value)
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", " ") if abs(value) >= 10000 else str(int(value))
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}".replace(",", " ")


def when(value: Any) -> str:
    """An RFC 3339 instant as `2026-01-01 00:00:05 UTC` (to the second)."""
    at = ts(value)
    if at is None:
        return text(value)
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def offset(value: Any, origin: Any) -> str:
    """`+12.3s` from `origin` (both RFC 3339); `-` when either is missing."""
    at, zero = ts(value), ts(origin)
    if at is None or zero is None:
        return NONE
    return f"+{seconds(max(at - zero, 0.0))}"


def text(value: Any) -> str:
    if value is None or value == "":
        return NONE
    return str(value)


def yes_no(value: Any) -> str:
    return "yes" if value is True else "no" if value is False else NONE


def verdict(scorecard: dict[str, Any]) -> str:
    return str(get(scorecard, "run.status") or "unknown").upper()


def has_objective(objective: Any) -> bool:
    """An objective exists when it has a target or a measurement (the engine writes an
    all-null block for a drill without an RPO objective)."""
    return isinstance(objective, dict) and (objective.get("target_s") is not None
                                            or objective.get("measured_s") is not None)


def objective_line(objective: Any) -> str:
    if not isinstance(objective, dict):
        return "not measured"
    if objective.get("target_s") is None and objective.get("measured_s") is not None:
        return f"measured {seconds(objective.get('measured_s'))} (no target)"
    met = objective.get("met")
    state = "met" if met is True else "MISSED" if met is False else "not judged"
    return f"target {seconds(objective.get('target_s'))}, measured {seconds(objective.get('measured_s'))}: {state}"


def is_sandbox(scorecard: dict[str, Any]) -> bool:
    return get(scorecard, "run.mode") == "sandbox"


def resets_clock(scorecard: dict[str, Any]) -> bool:
    """Aborted runs do not count as a test; a rollback-incomplete run counts if it recovered.
    A sandbox rehearsal never counts: the schedule asks for a test of the real estate."""
    if is_sandbox(scorecard):
        return False
    status = get(scorecard, "run.status")
    if status in ("passed", "failed"):
        return True
    return status == "rollback-incomplete" and get(scorecard, "objectives.rto.recovered_at") is not None


def next_due(scorecard: dict[str, Any]) -> str:
    every = get(scorecard, "schedule.every_s")
    if not isinstance(every, int | float) or isinstance(every, bool) or every <= 0:
        return "no schedule"
    if is_sandbox(scorecard):
        return f"not reset: a sandbox rehearsal does not count as a test (every {seconds(every)})"
    if not resets_clock(scorecard):
        return f"not reset by this {get(scorecard, 'run.status') or 'incomplete'} run (every {seconds(every)}; see drtool history)"
    started = ts(get(scorecard, "run.started_at"))
    if started is None:
        return NONE
    return f"{rfc3339(started + every)} (every {seconds(every)})"


def summary(scorecard: dict[str, Any]) -> list[tuple[str, str]]:
    service = get(scorecard, "service", {}) or {}
    rows = [
        ("Drill", text(get(scorecard, "run.drill"))),
        ("Service", f"{text(service.get('name'))} (tier {text(service.get('tier'))}, owner {text(service.get('owner'))})"),
        ("Verdict", verdict(scorecard) + (f": {get(scorecard, 'run.reason')}" if get(scorecard, "run.reason") else "")),
        ("RTO", objective_line(get(scorecard, "objectives.rto"))),
        ("Impact", impact_line(scorecard)),
        *([("Workaround", line)] if (line := workaround_line(scorecard)) else []),
        ("RPO", objective_line(get(scorecard, "objectives.rpo")) if has_objective(get(scorecard, "objectives.rpo"))
         else "no RPO objective"),
        ("Date", f"{text(get(scorecard, 'run.started_at'))} to {text(get(scorecard, 'run.ended_at'))}"),
        ("Next due", next_due(scorecard)),
    ]
    return rows


def run_facts(scorecard: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("Run id", text(get(scorecard, "run.id"))),
        ("Scenario", text(get(scorecard, "run.scenario"))),
        ("Mode", text(get(scorecard, "run.mode"))),
        ("Accounts", ", ".join(map(str, get(scorecard, "run.account_ids") or [])) or NONE),
        ("Regions", ", ".join(map(str, get(scorecard, "run.regions") or [])) or NONE),
        ("Exit code", text(get(scorecard, "run.exit_code"))),
        ("Seed", text(get(scorecard, "run.seed"))),
        ("drtool", text(get(scorecard, "run.tool_version"))),
    ]


def step_duration(step: dict[str, Any]) -> str:
    start, end = ts(step.get("started_at")), ts(step.get("ended_at"))
    return seconds(end - start) if start is not None and end is not None else NONE


def impact_line(scorecard: dict[str, Any]) -> str:
    """SPEC 7.1 in words: when the fault was seen and how long the service was down."""
    rto = get(scorecard, "objectives.rto") or {}
    observed = rto.get("impact_observed")
    if observed is None:
        return "not watched (the scenario has no steady_state checks)"
    if not observed:
        return "no impact observed: no steady-state check failed after the fault"
    line = f"seen {seconds(rto.get('detection_s'))} after the fault"
    if rto.get("downtime_s") is not None:
        line += f"; down for {seconds(rto.get('downtime_s'))}"
    return line


def workaround_line(scorecard: dict[str, Any]) -> str | None:
    """Which came first: the workaround (business continues, degraded) or full recovery."""
    rto = get(scorecard, "objectives.rto") or {}
    if "first" not in rto:
        return None
    if rto.get("workaround_s") is None:
        return "workaround never completed"
    won = "before" if rto.get("first") == "workaround" else "after"
    return f"business continued {seconds(rto.get('workaround_s'))} after the fault, {won} full recovery"


def instants(scorecard: dict[str, Any]) -> list[tuple[str, str]]:
    """The four instants of a drill (fault, impact, recovery actions, recovered), as text."""
    recover = [s for s in timeline(scorecard) if s.get("phase") == "recover"]
    return [("Fault injected", text(get(scorecard, "objectives.rto.fault_at"))),
            ("Impact seen", text(get(scorecard, "objectives.rto.impact_at"))),
            ("Recovery actions started", text(recover[0].get("started_at") if recover else None)),
            ("Recovered", text(get(scorecard, "objectives.rto.recovered_at")))]


def timeline(scorecard: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in (get(scorecard, "timeline") or []) if isinstance(s, dict)]


def objectives(scorecard: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name in ("rto", "rpo"):
        value = get(scorecard, f"objectives.{name}")
        if has_objective(value):
            out.append((name.upper(), value))
    return out


def rpo_measurements(scorecard: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in (get(scorecard, "objectives.rpo.measurements") or []) if isinstance(m, dict)]


def describe(value: Any, path: str = "") -> str:
    """A short rendering of a field value for the evidence table (durations humanised)."""
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return seconds(value) if path.endswith("_s") else number(value)
    if isinstance(value, str) and ts(value) is not None and "T" in value:
        return when(value)
    if isinstance(value, list):
        return f"{len(value)} entr{'y' if len(value) == 1 else 'ies'}"
    if isinstance(value, dict):
        return f"{len(value)} field{'' if len(value) == 1 else 's'}"
    shown = str(value)
    return shown if len(shown) <= 72 else shown[:69] + "..."


@lru_cache(maxsize=1)
def load_controls() -> tuple[dict[str, Any], ...]:
    from importlib.resources import files

    import yaml

    data = yaml.safe_load(files("drtool.outputs").joinpath("controls.yaml").read_text(encoding="utf-8"))
    return tuple(data["controls"])


@dataclass(frozen=True)
class EvidenceRow:
    control: str
    framework: str
    title: str
    requirement: str
    fields: tuple[tuple[str, str], ...]   # (path, described value)
    shows: str
    not_shown: str


def evidence_rows(scorecard: dict[str, Any]) -> list[EvidenceRow]:
    return [EvidenceRow(control=str(c["control"]), framework=str(c["framework"]), title=str(c["title"]),
                        requirement=" ".join(str(c["requirement"]).split()),
                        fields=tuple((f, describe(get(scorecard, f), f)) for f in c["fields"]),
                        shows=str(c["shows"]), not_shown=str(c.get("not_shown", "")))
            for c in load_controls()]


def integrity_rows(scorecard: dict[str, Any]) -> list[tuple[str, str]]:
    problem = digest_problem(scorecard)
    return [
        ("sha256", text(get(scorecard, "integrity.sha256"))),
        ("previous_sha256", text(get(scorecard, "integrity.previous_sha256") or "none (first run of this drill)")),
        ("digest check", "matches the content" if problem is None else f"FAILS: {problem}"),
        ("verify", "drtool verify <this run folder> (add --kms to check the signature with AWS KMS)"),
    ]


def review_rows(attestations: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [a for a in (attestations or []) if isinstance(a, dict)]
