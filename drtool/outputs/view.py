"""What every human-readable format shows, computed once: the executive summary, the
timeline rows, the objectives, and the evidence rows read from controls.yaml.

Everything here is plain text (not escaped); each renderer escapes for its own format.
Every function reads the typed scorecard (`drtool.outputs.card.read_scorecard`); one read
leniently from an old or partial file has None where a field is missing, shown as "-".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from drtool.durations import format_duration
from drtool.estimate import truth_clause
from drtool.outputs.card import field_at
from drtool.scorecard_model import Rpo, RpoMeasurement, Rto, Scorecard, TimelineItem
from drtool.timing import parse_rfc3339, rfc3339

NONE = "-"


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


def verdict(card: Scorecard) -> str:
    return str(card.run.status or "unknown").upper()


def has_objective(objective: Rto | Rpo | None) -> bool:
    """An objective exists when it has a target or a measurement (the engine writes an
    all-null block for a drill without an RPO objective)."""
    return objective is not None and (objective.target_s is not None or objective.measured_s is not None)


def objective_line(objective: Rto | Rpo | None) -> str:
    if objective is None:
        return "not measured"
    if objective.target_s is None and objective.measured_s is not None:
        return f"measured {seconds(objective.measured_s)} (no target)"
    met = objective.met
    state = "met" if met is True else "MISSED" if met is False else "not judged"
    return (f"target {seconds(objective.target_s)}, measured {seconds(objective.measured_s)}"
            f"{truth_clause(objective.measured_s, objective.estimate_s, objective.estimate_half_width_s)}: {state}")


def is_sandbox(card: Scorecard) -> bool:
    return card.run.mode == "sandbox"


def resets_clock(card: Scorecard) -> bool:
    """Aborted runs do not count as a test; a rollback-incomplete run counts if it recovered.
    A sandbox rehearsal never counts: the schedule asks for a test of the real estate."""
    if is_sandbox(card):
        return False
    status = card.run.status
    if status in ("passed", "failed"):
        return True
    return status == "rollback-incomplete" and card.objectives.rto.recovered_at is not None


def next_due(card: Scorecard) -> str:
    every = card.schedule.every_s
    if not isinstance(every, int | float) or isinstance(every, bool) or every <= 0:
        return "no schedule"
    if is_sandbox(card):
        return f"not reset: a sandbox rehearsal does not count as a test (every {seconds(every)})"
    if not resets_clock(card):
        return f"not reset by this {card.run.status or 'incomplete'} run (every {seconds(every)}; see drtool history)"
    started = ts(card.run.started_at)
    if started is None:
        return NONE
    return f"{rfc3339(started + every)} (every {seconds(every)})"


def step_duration(step: TimelineItem) -> str:
    start, end = ts(step.started_at), ts(step.ended_at)
    return seconds(end - start) if start is not None and end is not None else NONE


def impact_line(card: Scorecard) -> str:
    """SPEC 7.1 in words: when the fault was seen and how long the service was down."""
    rto = card.objectives.rto
    observed = rto.impact_observed
    if observed is None:
        return "not watched (the scenario has no steady_state checks)"
    if not observed:
        return "no impact observed: no steady-state check failed after the fault"
    line = f"seen {seconds(rto.detection_s)} after the fault"
    if rto.downtime_s is not None:
        line += f"; down for {seconds(rto.downtime_s)}"
    return line


def workaround_line(card: Scorecard) -> str | None:
    """Which came first: the workaround (business continues, degraded) or full recovery."""
    rto = card.objectives.rto
    if "first" not in rto.model_fields_set:
        return None
    if rto.workaround_s is None:
        return "workaround never completed"
    won = "before" if rto.first == "workaround" else "after"
    return f"business continued {seconds(rto.workaround_s)} after the fault, {won} full recovery"


def instants(card: Scorecard) -> list[tuple[str, str]]:
    """The four instants of a drill (fault, impact, recovery actions, recovered), as text."""
    recover = [s for s in timeline(card) if s.phase == "recover"]
    rto = card.objectives.rto
    return [("Fault injected", text(rto.fault_at)),
            ("Impact seen", text(rto.impact_at)),
            ("Recovery actions started", text(recover[0].started_at if recover else None)),
            ("Recovered", text(rto.recovered_at))]


def timeline(card: Scorecard) -> list[TimelineItem]:
    return list(card.timeline or [])


def rpo_measurements(card: Scorecard) -> list[RpoMeasurement]:
    return list(card.objectives.rpo.measurements or [])


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


def evidence_rows(card: Scorecard) -> list[EvidenceRow]:
    return [EvidenceRow(control=str(c["control"]), framework=str(c["framework"]), title=str(c["title"]),
                        requirement=" ".join(str(c["requirement"]).split()),
                        fields=tuple((f, describe(field_at(card, f), f)) for f in c["fields"]),
                        shows=str(c["shows"]), not_shown=str(c.get("not_shown", "")))
            for c in load_controls()]


def integrity_rows(card: Scorecard, problem: str | None) -> list[tuple[str, str]]:
    """`problem`: `drtool.integrity.digest_problem` of the scorecard as written (never of the model)."""
    sealed = card.integrity
    return [
        ("sha256", text(sealed.sha256 if sealed else None)),
        ("previous_sha256", text((sealed.previous_sha256 if sealed else None) or "none (first run of this drill)")),
        ("digest check", "matches the content" if problem is None else f"FAILS: {problem}"),
        ("verify", "drtool verify <this run folder> (add --kms to check the signature with AWS KMS)"),
    ]


def review_rows(attestations: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [a for a in (attestations or []) if isinstance(a, dict)]
