"""RTO and RPO estimates (issue 11): the interval a polled recovery or a canary puts around the
truth, its midpoint in the scorecard (`estimate_s`, `estimate_half_width_s`), the typed model
and the reports' "truth between" clause. Instants are injected; no sleeping."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drtool.estimate import Bounds, bounds_of, canary_rpo_bounds, rto_bounds, truth_clause
from drtool.observe import RecoveryObserver
from drtool.outputs.view import objective_line
from drtool.rpo.canary import canary_rpo
from drtool.scorecard import build_scorecard
from drtool.scorecard_model import Rto, Scorecard, scorecard_json_schema
from drtool.timing import FakeClock, wait_until

T0 = 1_767_225_600.0


def test_rto_bounds_span_the_last_failing_and_first_passing_poll():
    bounds = rto_bounds(T0, T0 + 8.0, 0.5)
    assert bounds == Bounds(7.5, 8.0)
    assert (bounds.estimate_s, bounds.half_width_s) == (7.75, 0.25)
    assert bounds.fields() == {"estimate_s": 7.75, "estimate_half_width_s": 0.25}
    assert rto_bounds(T0, T0 + 0.5, 0.75).fields() == {"estimate_s": 0.25, "estimate_half_width_s": 0.25}  # >= 0
    assert rto_bounds(T0, T0 + 8.0, None) is None and rto_bounds(T0, None, 0.5) is None


@given(gaps=st.lists(st.floats(0.05, 2.0), min_size=1, max_size=40), truth=st.floats(0.0, 30.0),
       latency=st.floats(0.0, 0.3))
def test_polled_recovery_estimate_is_within_half_width_plus_one_probe(gaps, truth, latency):
    """Polls on a fake clock, each probe taking `latency` (the poll's instant is taken after its
    checks return, as in watch.verify): the estimate is off by at most half the interval plus
    that latency."""
    clock, observer, gaps_left = FakeClock(T0), RecoveryObserver(fault_at=T0, has_steady_state=False), list(gaps)

    def poll() -> tuple[bool, float | None]:
        seen_at = clock.now()
        clock.advance(latency)
        at = observer.observe(clock.now(), True, seen_at - T0 >= truth)
        if at is None:
            clock.advance(gaps_left.pop(0) if gaps_left else 1.0)
        return at is not None, at

    _, recovered_at = wait_until(poll, clock=clock, interval=0.0, timeout=None)
    bounds = rto_bounds(T0, recovered_at, observer.resolution)
    assert bounds is not None
    assert bounds.lower_s - latency - 1e-6 <= truth <= bounds.upper_s + 1e-6     # epoch floats: micro-second slack
    assert abs(bounds.estimate_s - truth) <= bounds.half_width_s + latency + 1e-6


def test_a_runbook_poll_with_verify_unknown_is_no_failure():
    """While the runbook runs only the steady state is polled (verify None): once it passes,
    that poll is not evidence the service was still down, so the interval reaches back to the
    last poll that saw a check fail."""
    observer = RecoveryObserver(fault_at=0.0, has_steady_state=True)
    for t, steady in ((0.5, False), (1.0, False), (1.5, True), (1.6, True)):
        assert observer.observe(t, steady, verify_ok=None) is None
    assert observer.observe(1.65, True, True) == 1.65
    assert observer.resolution == pytest.approx(0.65)      # back to 1.0, not to the runbook poll at 1.6
    assert rto_bounds(0.0, 1.65, observer.resolution) == Bounds(pytest.approx(1.0), 1.65)


@dataclass
class _Store:
    """The canary store as `canary_rpo` sees it when the replica was read at the fault."""

    label: str = "s3://primary (us-east-1)"
    replica_label: str = "s3://replica (us-west-2)"

    def read_written_at(self, seq: int) -> float | None:
        return None


def _canary(written: int, present: list[int], fault_after: float, interval: float = 0.25):
    acked = {seq: T0 + seq * interval for seq in range(written)}
    return canary_rpo(acked=acked, fault_at=T0 + fault_after, started_at=T0, interval=interval, store=_Store(),
                      at_fault={seq: None for seq in present})


def test_canary_rpo_lies_between_the_newest_survivor_and_the_next_lost_canary():
    m = _canary(10, [0, 1, 2, 3, 4, 5, 7], fault_after=3.0)     # newest #7 at 1.75, next #8 at 2.0
    assert m.measured_s == pytest.approx(1.25) and m.lower_bound_s == pytest.approx(1.0)
    m = _canary(10, list(range(10)), fault_after=2.4)           # every canary made it: nothing after #9
    assert m.measured_s == pytest.approx(0.15) and m.lower_bound_s == 0.0
    assert _canary(4, [], fault_after=1.0).lower_bound_s is None  # no survivor: unbounded, no estimate
    assert canary_rpo_bounds(T0 + 3, T0 + 1.75, T0 + 2.0) == Bounds(1.0, 1.25)
    assert canary_rpo_bounds(T0 + 3, T0 + 1.75, None) == Bounds(0.0, 1.25)


def _events(rpo_measurement: dict | None) -> list[dict]:
    def ev(seq: int, name: str, t: float, **fields):
        return {"seq": seq, "event": name, "t": t, "at": f"2026-01-01T00:00:{seq:02d}Z", **fields}

    events = [
        ev(1, "run.started", T0, run_id="r1", drill="d", scenario="s", mode="sandbox", service={"name": "web"},
           tool_version="0", objectives={"rto_s": 7.9, "rpo_s": 1.1}, account_ids=["123456789012"],
           regions=["us-east-1"], steady_state_checks=1, rpo_sources=["canary.s3"]),
        ev(2, "fault", T0 + 1),
        ev(3, "impact", T0 + 2, detail="down"),
        ev(4, "recovered", T0 + 9, resolution_s=0.5),
    ]
    if rpo_measurement is not None:
        events.append(ev(5, "rpo.measured", T0 + 9.5, measurements=[rpo_measurement]))
    return [*events, ev(6, "run.finished", T0 + 10, status="passed", reason=None)]


def test_the_scorecard_carries_both_estimates_and_judges_met_on_the_bound():
    canary = _canary(10, [0, 1, 2, 3, 4, 5, 7], fault_after=3.0)
    card = build_scorecard(_events(dict(canary.__dict__)))
    rto, rpo = card["objectives"]["rto"], card["objectives"]["rpo"]
    assert (rto["measured_s"], rto["estimate_s"], rto["estimate_half_width_s"]) == (8.0, 7.75, 0.25)
    assert (rpo["measured_s"], rpo["estimate_s"], rpo["estimate_half_width_s"]) == (1.25, 1.125, 0.125)
    assert rto["met"] is False and rpo["met"] is False     # the estimates are under target, the bounds are not
    typed = Scorecard.model_validate(card)
    assert (typed.objectives.rto.estimate_s, typed.objectives.rpo.estimate_half_width_s) == (7.75, 0.125)
    assert typed.objectives.rpo.measurements[0].lower_bound_s == 1.0


def test_without_a_bound_there_is_no_estimate():
    events = [e for e in _events(None) if e["event"] != "recovered"]
    rto = build_scorecard(events)["objectives"]["rto"]
    assert (rto["measured_s"], rto["estimate_s"], rto["estimate_half_width_s"]) == (None, None, None)
    recovery_point = {"method": "recovery-point", "measured_s": 40.0, "detail": "backup age", "evidence": {}}
    rpo = build_scorecard(_events(recovery_point))["objectives"]["rpo"]
    assert (rpo["measured_s"], rpo["estimate_s"]) == (40.0, None)


def test_schema_and_reports_show_the_estimate():
    schema = scorecard_json_schema()["$defs"]
    assert {"estimate_s", "estimate_half_width_s"} <= set(schema["Rto"]["properties"])
    assert {"estimate_s", "estimate_half_width_s"} <= set(schema["Rpo"]["properties"])
    assert "lower_bound_s" in schema["RpoMeasurement"]["properties"]
    rto = build_scorecard(_events(None))["objectives"]["rto"]
    assert objective_line(Rto.model_validate(rto)) == "target 7.90s, measured 8.00s (truth between 7.50s and 8.00s): MISSED"
    assert truth_clause(192.0, 191.5, 0.5) == " (truth between 3m11s and 3m12s)"
    assert truth_clause(8.0, None, None) == "" and bounds_of(None, 1.0, 0.1) is None
