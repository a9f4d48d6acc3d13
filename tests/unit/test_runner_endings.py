"""SPEC 7.3: whatever ends a drill (an AWS error in any poll, a bug, an interrupt, a
signal during the rollback), every change is undone and a scorecard is written."""

from __future__ import annotations

import dataclasses
import signal

import pytest

from drtool.journal import read_journal
from drtool.observe import FaultNotObserved, RecoveryObserver
from tests.unit import fake_entries
from tests.unit.fake_entries import STATE
from tests.unit.test_runner import make_drill, run

fake_entries.register()
fake_entries.register_explode()

EXPLODING = """\
kind: scenario
name: flip
parameters:
  kind: {type: string, default: aws}
  where: {type: string, default: verify}
inject:
  - action: test.flip
    with: {key: flag}
recover:
  - wait: test.recovered-after
    with: {seconds: 1}
    timeout: 30s
verify:
  - check: test.explode
    with: {kind: "${kind}", after: 2}
"""

IN_WAIT = EXPLODING.replace("  - wait: test.recovered-after\n    with: {seconds: 1}",
                            "  - wait: test.explode\n    with: {kind: \"${kind}\", after: 1}")


@pytest.fixture(autouse=True)
def clean_state():
    fake_entries.reset()
    yield


def _assert_rolled_back_with_scorecard(result, status: str = "aborted") -> dict:
    card = result.scorecard
    assert STATE["flags"]["flag"] is False, "the fault must be undone"
    assert (result.run_dir / "scorecard.json").is_file()
    assert card["rollback"] == {"status": "complete", "remaining": []}
    assert card["run"]["status"] == status
    return card


def test_aws_error_in_a_verify_poll_rolls_back_exit_3(tmp_path):
    result = run(tmp_path, make_drill(tmp_path, scenario=EXPLODING))
    card = _assert_rolled_back_with_scorecard(result)
    assert result.exit_code == 3
    reason = card["run"]["reason"]
    assert "verify check test.explode" in reason and "AccessDenied" in reason and "\n" not in reason
    verify = [t for t in card["timeline"] if t["phase"] == "verify"]
    assert [t["status"] for t in verify] == ["aborted"]


def test_bug_in_a_wait_poll_rolls_back_and_names_it(tmp_path):
    result = run(tmp_path, make_drill(tmp_path, scenario=IN_WAIT, params="{kind: bug}"))
    card = _assert_rolled_back_with_scorecard(result)
    assert result.exit_code == 3
    assert "internal error: TypeError" in card["run"]["reason"]
    events = read_journal(result.run_dir / "journal.jsonl")
    error = next(e for e in events if e["event"] == "run.error")
    assert error["type"] == "TypeError" and error["traceback"]


def test_ctrl_c_in_a_poll_rolls_back(tmp_path):
    result = run(tmp_path, make_drill(tmp_path, scenario=EXPLODING, params="{kind: interrupt}"))
    card = _assert_rolled_back_with_scorecard(result)
    assert result.exit_code == 3 and "interrupted" in card["run"]["reason"]


def test_stop_condition_poll_error_rolls_back(tmp_path, monkeypatch):
    from drtool import guardrails
    from drtool.aws import cloudwatch

    monkeypatch.setattr(guardrails, "_missing_alarms", lambda _session, _alarms: [])

    def denied(_session, _conditions):
        raise fake_entries.explode_error("aws")

    monkeypatch.setattr(cloudwatch, "alarms_in_alarm", denied)
    drill = make_drill(tmp_path)
    monkeypatch.setattr(drill.doc.guardrails, "stop_conditions", [type("C", (), {"alarm": "a", "region": None})()])
    result = run(tmp_path, drill)
    card = result.scorecard
    assert result.exit_code == 3 and "AccessDenied" in card["run"]["reason"]
    assert card["rollback"]["status"] in ("complete", "not-needed")
    assert (result.run_dir / "scorecard.json").is_file()


def test_a_signal_during_rollback_is_held_and_the_run_is_not_a_pass(tmp_path, monkeypatch):
    from drtool.registry import UNDOS

    entry = UNDOS.get("test.unflip")
    original = entry.func

    def interrupted_undo(ctx, params):
        signal.raise_signal(signal.SIGINT)        # Ctrl-C while the fault is being undone
        return original(ctx, params)

    monkeypatch.setitem(UNDOS._entries, "test.unflip", dataclasses.replace(entry, func=interrupted_undo))
    result = run(tmp_path, make_drill(tmp_path))
    card = _assert_rolled_back_with_scorecard(result)
    assert result.exit_code == 3
    assert "interrupted during rollback (SIGINT)" in card["run"]["reason"]


# -- RecoveryObserver: impact and stable recovery, exactly ----------------------------

def test_a_flap_restarts_the_stable_wait():
    obs = RecoveryObserver(fault_at=0.0, has_steady_state=True, expect_impact=True, impact_within=10,
                           stable_for=3.0)
    assert obs.observe(1.0, steady_ok=True, verify_ok=True) is None      # not seen yet
    assert obs.observe(2.0, steady_ok=False, verify_ok=False) is None    # impact
    assert obs.impact_at == 2.0
    assert obs.observe(5.0, True, True) is None                          # passing since 5
    assert obs.observe(6.0, False, True) is None                         # flap
    assert obs.observe(7.0, True, True) is None
    assert obs.observe(9.0, True, True) is None
    assert obs.observe(10.0, True, True) == 7.0                          # stable 3 s since 7
    assert obs.impact_observed is True


def test_no_impact_within_the_window_claims_no_rto():
    obs = RecoveryObserver(fault_at=0.0, has_steady_state=True, expect_impact=True, impact_within=5)
    assert obs.observe(1.0, True, True) is None
    with pytest.raises(FaultNotObserved):
        obs.observe(5.0, True, True)


def test_without_expect_recovery_may_be_immediate_and_says_no_impact():
    obs = RecoveryObserver(fault_at=0.0, has_steady_state=True)
    assert obs.observe(0.5, True, True) == 0.5
    assert obs.impact_observed is False
    assert RecoveryObserver(fault_at=0.0, has_steady_state=False).impact_observed is None


def test_the_scorecard_records_which_files_ran(tmp_path):
    import hashlib

    drill = make_drill(tmp_path)
    result = run(tmp_path, drill)
    sources = result.scorecard["run"]["sources"]
    drill_file = tmp_path / "drills" / "flip.yaml"
    scenario_file = tmp_path / "scenarios" / "flip.yaml"
    assert sources["drill"] == {"path": str(drill_file.resolve()),
                                "sha256": hashlib.sha256(drill_file.read_bytes()).hexdigest()}
    assert sources["scenario"] == {"path": str(scenario_file.resolve()),
                                   "sha256": hashlib.sha256(scenario_file.read_bytes()).hexdigest()}
