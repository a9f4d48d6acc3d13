"""Judging recovery from polls: impact, stable recovery, and when to give up (SPEC 7.1).

Pure logic on instants, so it is tested exactly with a fake clock. The runner polls the
steady-state and verify checks every `poll` from the fault on and feeds each poll's
verdict here; this object says when impact was first seen and when the service was
recovered:

- `impact_at`: the first poll at which a steady-state check failed after the fault.
- With `expect_impact`, recovery is timed only after impact was seen; no impact within
  `impact_within` of the fault means the fault was never observed and no RTO is claimed.
- `recovered_at`: the first instant from which every check passed and kept passing for
  `stable_for`. It is the first passing *poll*, an upper bound: the true recovery lies
  within `resolution` before it (the gap to the last poll at which a check was seen
  failing; a poll while the runbook runs evaluates only the steady state, so verify
  unknown is no failure), so a reported RTO never flatters the service. A check that flaps back to failing restarts the wait, so a single lucky
  poll cannot end the clock early.
"""

from __future__ import annotations

from dataclasses import dataclass


class FaultNotObserved(Exception):
    """No steady-state check failed within `impact.within` although impact was expected."""


@dataclass
class RecoveryObserver:
    fault_at: float
    has_steady_state: bool
    expect_impact: bool = False
    impact_within: float | None = None
    stable_for: float = 0.0
    impact_at: float | None = None
    passing_since: float | None = None
    last_failed: float | None = None      # the last poll at which a check was seen failing
    resolution: float | None = None       # gap between the last failing and first passing poll

    def observe(self, t: float, steady_ok: bool, verify_ok: bool | None) -> float | None:
        """Feed one poll taken at `t` (`verify_ok` None: verify not evaluated, the runbook is
        still running); return `recovered_at` once recovery is stable, else None.

        Raises FaultNotObserved when impact was expected and the window has passed.
        """
        previous = self.fault_at if self.last_failed is None else self.last_failed
        if not steady_ok or verify_ok is False:
            self.last_failed = t
        if self.impact_at is None and self.has_steady_state and not steady_ok:
            self.impact_at = t
        waiting_for_impact = self.expect_impact and self.impact_at is None
        if waiting_for_impact:
            self.passing_since = None
            if self.impact_within is not None and t - self.fault_at >= self.impact_within:
                raise FaultNotObserved(
                    f"the fault was not observed: no steady-state check failed within "
                    f"{self.impact_within:g}s of the fault, so no RTO can be claimed")
            return None
        if not (steady_ok and verify_ok):
            self.passing_since = None
            return None
        if self.passing_since is None:
            self.passing_since = t
            self.resolution = t - previous    # the true recovery lies in (last failure seen, t]
        if t - self.passing_since >= self.stable_for:
            return self.passing_since
        return None

    @property
    def impact_observed(self) -> bool | None:
        if not self.has_steady_state:
            return None
        return self.impact_at is not None
