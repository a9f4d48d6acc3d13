"""Where the truth lies (issue 11): the interval a polled RTO or a canary RPO puts around the
true value, and the interval's midpoint as an estimate. Pure functions of instants.

drtool reports the conservative end (`measured_s`: the first passing poll, the newest
surviving canary) and judges `met` on it; the estimate is the midpoint, within
`half_width_s` of the truth whenever the truth lies in the interval.
"""

from __future__ import annotations

from dataclasses import dataclass

from drtool.durations import format_duration


@dataclass(frozen=True)
class Bounds:
    """The true value lies in [lower_s, upper_s]; upper_s is the reported (conservative) value."""

    lower_s: float
    upper_s: float

    @property
    def estimate_s(self) -> float:
        return (self.lower_s + self.upper_s) / 2

    @property
    def half_width_s(self) -> float:
        return (self.upper_s - self.lower_s) / 2

    def fields(self) -> dict[str, float | None]:
        """The scorecard's `estimate_s` and `estimate_half_width_s` (milliseconds)."""
        return {"estimate_s": round(self.estimate_s, 3), "estimate_half_width_s": round(self.half_width_s, 3)}


NO_ESTIMATE: dict[str, float | None] = {"estimate_s": None, "estimate_half_width_s": None}


def rto_bounds(fault_at: float | None, recovered_at: float | None, resolution_s: float | None) -> Bounds | None:
    """`recovered_at` is the first passing poll; the last failing poll (or the fault) came
    `resolution_s` before it, so the service recovered in between. None when unknown."""
    if fault_at is None or recovered_at is None or resolution_s is None:
        return None
    upper = max(0.0, recovered_at - fault_at)
    return Bounds(max(0.0, upper - resolution_s), upper)


def canary_rpo_bounds(fault_at: float, newest_written_at: float, next_written_at: float | None) -> Bounds:
    """The newest canary in the replica at the fault was written at `newest_written_at`; the
    next acknowledged canary (written at `next_written_at`, before the fault) had not
    replicated. Writes replicate in order, so the last write that survived was made in
    between: RPO in [fault - next, fault - newest]. With no next canary before the fault,
    the lower bound is 0 (a write just before the fault may have replicated)."""
    upper = max(0.0, fault_at - newest_written_at)
    lower = 0.0 if next_written_at is None else min(upper, max(0.0, fault_at - next_written_at))
    return Bounds(lower, upper)


def bounds_of(measured_s: float | None, estimate_s: float | None, half_width_s: float | None) -> Bounds | None:
    """The interval back from a scorecard's fields (None when it has no estimate)."""
    if measured_s is None or estimate_s is None or half_width_s is None:
        return None
    return Bounds(max(0.0, estimate_s - half_width_s), measured_s)


def truth_clause(measured_s: float | None, estimate_s: float | None, half_width_s: float | None) -> str:
    """' (truth between 3m11s and 3m12s)' for the reports; '' without an estimate."""
    bounds = bounds_of(measured_s, estimate_s, half_width_s)
    if bounds is None:
        return ""
    return f" (truth between {format_duration(bounds.lower_s)} and {format_duration(bounds.upper_s)})"
