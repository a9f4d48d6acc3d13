"""Issue 15: the workaround track runs beside `recover` from the fault on, timed on its
own; the scorecard says when the business continued and which came first."""

from __future__ import annotations

import pytest

from drtool.timing import SystemClock
from tests.unit import fake_entries
from tests.unit.fake_entries import STATE
from tests.unit.test_runner import make_drill, run

fake_entries.register()
fake_entries.register_explode()

SCENARIO = """\
kind: scenario
name: flip
parameters:
  workaround_after: {type: number, default: 0.3}
  recover_after: {type: number, default: 1.0}
inject:
  - action: test.flip
    with: {key: flag}
recover:
  - wait: test.recovered-after
    name: runbook done
    with: {seconds: "${recover_after}"}
    timeout: 30s
workaround:
  - action: test.flip
    name: route orders to the manual queue
    with: {key: manual-queue}
  - wait: test.recovered-after
    name: manual queue taking orders
    with: {seconds: "${workaround_after}"}
    timeout: 30s
verify:
  - check: test.recovered-after
    with: {seconds: "${recover_after}"}
"""


@pytest.fixture(autouse=True)
def clean_state():
    fake_entries.reset()
    yield


def _run(tmp_path, params: str, scenario: str = SCENARIO):
    drill = make_drill(tmp_path, scenario=scenario, params=params)
    drill.doc.poll = 0.1
    return run(tmp_path, drill, clock=SystemClock())


def test_a_workaround_before_recovery_is_timed_apart(tmp_path):
    result = _run(tmp_path, "{workaround_after: 0.3, recover_after: 1.2}")
    rto = result.scorecard["objectives"]["rto"]
    assert rto["first"] == "workaround"
    assert 0.3 <= rto["workaround_s"] < rto["measured_s"]
    assert rto["measured_s"] == pytest.approx(1.2, abs=0.4)
    assert STATE["flags"] == {"flag": False, "manual-queue": False}      # both undone
    assert result.exit_code == 0
    # the reports say which came first (markdown and html read the same rows)
    from drtool.outputs import render

    for fmt in ("md", "html"):
        report = render(result.scorecard, fmt)
        assert "Workaround" in report and "before full recovery" in report, fmt


def test_a_workaround_overtaken_by_recovery_is_stopped_and_skipped(tmp_path):
    result = _run(tmp_path, "{workaround_after: 30, recover_after: 0.5}")
    card = result.scorecard
    assert card["objectives"]["rto"]["first"] == "recovery"
    assert card["objectives"]["rto"]["workaround_at"] is None
    skipped = [t for t in card["timeline"] if t["phase"] == "workaround" and t["status"] == "skipped"]
    assert [t["step"] for t in skipped] == ["manual queue taking orders"]
    assert result.exit_code == 0 and STATE["flags"]["manual-queue"] is False
    from drtool.outputs import render

    assert "workaround never completed" in render(card, "md")


def test_a_failing_workaround_step_aborts_and_rolls_back(tmp_path):
    failing = SCENARIO.replace("    with: {key: manual-queue}", "    with: {key: manual-queue, fail: true}")
    result = _run(tmp_path, "{recover_after: 2}", scenario=failing)
    card = result.scorecard
    assert result.exit_code == 3 and card["run"]["status"] == "aborted"
    assert "workaround" in card["run"]["reason"] and "flip failed on purpose" in card["run"]["reason"]
    assert STATE["flags"]["flag"] is False and card["rollback"]["status"] == "complete"
