"""The engine with a FakeClock: exact RTO arithmetic, undo, aborts, guardrails, crash recovery."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from drtool.documents import load_drill
from drtool.errors import GuardrailRefusal
from drtool.integrity import scorecard_digest
from drtool.journal import read_journal
from drtool.runner import RunOptions, rollback_run, run_drill
from drtool.timing import FakeClock
from tests.unit import fake_entries
from tests.unit.fake_entries import STATE

fake_entries.register()

SCENARIO = """\
kind: scenario
name: flip
parameters:
  recover_after: {type: number, default: 7}
  fail_inject: {type: boolean, default: false}
  interrupt: {type: boolean, default: false}
inject:
  - action: test.flip
    with: {key: flag, fail: "${fail_inject}"}
recover:
  - wait: test.recovered-after
    with: {seconds: 1}
    timeout: 30s
verify:
  - check: test.recovered-after
    with: {seconds: "${recover_after}", interrupt: "${interrupt}"}
"""

DRILL = """\
kind: drill
name: flip-drill
scenario: flip
service: {name: svc, tier: gold, owner: sre}
parameters: {}
objectives: {rto: 10s}
poll: 0.5s
guardrails:
  accounts: ["123456789012"]
"""


class StubSession:
    """No AWS calls are made by the test entries; the account comes from here."""

    default_region = "us-east-1"

    def __init__(self, account: str = "123456789012") -> None:
        self.account = account
        self.calls: Counter = Counter()

    def account_id(self) -> str:
        return self.account


@pytest.fixture(autouse=True)
def clean_state():
    fake_entries.reset()
    yield


def make_drill(tmp_path: Path, drill_extra: str = "", params: str = "{}", scenario: str = SCENARIO):
    (tmp_path / "scenarios").mkdir(exist_ok=True)
    (tmp_path / "drills").mkdir(exist_ok=True)
    (tmp_path / "scenarios" / "flip.yaml").write_text(scenario)
    text = DRILL.replace("parameters: {}", f"parameters: {params}") + drill_extra
    path = tmp_path / "drills" / "flip.yaml"
    path.write_text(text)
    return load_drill(path)


def run(tmp_path, drill, clock=None, session=None, **kw):
    opts = RunOptions(results=tmp_path / "results", yes=True, clock=clock or FakeClock(), seed=7, **kw)
    return run_drill(drill, session or StubSession(), opts)


def test_rto_is_measured_exactly_with_a_fake_clock(tmp_path):
    result = run(tmp_path, make_drill(tmp_path))
    rto = result.scorecard["objectives"]["rto"]
    assert rto["measured_s"] == pytest.approx(7.0)
    assert rto["met"] is True and rto["target_s"] == 10.0
    assert rto["fault_at"].endswith("Z") and len(rto["fault_at"]) == 24
    assert result.scorecard["run"]["status"] == "passed" and result.exit_code == 0


def test_missed_rto_fails_with_exit_1(tmp_path):
    result = run(tmp_path, make_drill(tmp_path, params="{recover_after: 12}"))
    assert result.scorecard["objectives"]["rto"]["measured_s"] == pytest.approx(12.0)
    assert result.scorecard["run"]["status"] == "failed" and result.exit_code == 1
    assert "RTO" in result.scorecard["run"]["reason"]


def test_every_change_is_undone_and_journaled_before_it_is_made(tmp_path):
    result = run(tmp_path, make_drill(tmp_path))
    assert STATE["flags"]["flag"] is False
    events = read_journal(result.run_dir / "journal.jsonl")
    kinds = [e["event"] for e in events]
    intent = kinds.index("change.intent")
    assert kinds[intent + 1] == "change.done"
    assert kinds.index("undo.done") > kinds.index("recovered")
    assert result.scorecard["rollback"] == {"status": "complete", "remaining": []}


def test_scorecard_shape_and_integrity(tmp_path):
    result = run(tmp_path, make_drill(tmp_path))
    card = json.loads((result.run_dir / "scorecard.json").read_text())
    assert card["schema"] == "drtool.scorecard/v1"
    assert card["integrity"]["sha256"] == scorecard_digest(card)
    assert card["integrity"]["previous_sha256"] is None
    assert card["run"]["mode"] == "live" and card["run"]["account_ids"] == ["123456789012"]
    assert card["service"] == {"name": "svc", "tier": "gold", "owner": "sre"}
    phases = [(t["phase"], t["kind"], t["status"]) for t in card["timeline"]]
    assert phases == [("inject", "action", "ok"), ("recover", "wait", "ok"), ("verify", "check", "ok"),
                      ("rollback", "undo", "ok")]
    assert card["objectives"]["rpo"]["met"] is None


def test_time_limit_aborts_and_rolls_back(tmp_path):
    drill = make_drill(tmp_path, params="{recover_after: 999}",
                       drill_extra="  time_limit: 3s\n")
    result = run(tmp_path, drill)
    assert result.exit_code == 3
    assert "time limit" in result.scorecard["run"]["reason"]
    assert STATE["flags"]["flag"] is False
    assert result.scorecard["objectives"]["rto"]["measured_s"] is None


def test_failed_action_aborts_with_its_message(tmp_path):
    result = run(tmp_path, make_drill(tmp_path, params="{fail_inject: true}"))
    assert result.exit_code == 3
    assert "flip failed on purpose" in result.scorecard["run"]["reason"]
    assert result.scorecard["rollback"]["status"] == "not-needed"


def test_interrupt_rolls_back_and_exits_3(tmp_path):
    result = run(tmp_path, make_drill(tmp_path, params="{interrupt: true}"))
    assert result.exit_code == 3
    assert "interrupted" in result.scorecard["run"]["reason"]
    assert STATE["flags"]["flag"] is False


def test_verify_timeout_is_a_failed_drill_with_no_rto(tmp_path):
    scenario = SCENARIO.replace('with: {seconds: "${recover_after}", interrupt: "${interrupt}"}',
                                'with: {seconds: "${recover_after}", interrupt: "${interrupt}"}\n    timeout: 20s')
    result = run(tmp_path, make_drill(tmp_path, params="{recover_after: 999}", scenario=scenario))
    assert result.exit_code == 1
    assert result.scorecard["objectives"]["rto"]["recovered_at"] is None
    assert [t["status"] for t in result.scorecard["timeline"] if t["phase"] == "verify"] == ["timeout"]


def test_manual_step_needs_an_operator_or_assume_manual(tmp_path):
    scenario = SCENARIO.replace("recover:\n", "recover:\n  - manual: Tell the status page.\n")
    drill = make_drill(tmp_path, scenario=scenario)
    with pytest.raises(GuardrailRefusal, match="--assume-manual") as refused:   # SPEC 7.3: before any change
        run(tmp_path, drill)
    assert refused.value.exit_code == 4 and STATE["flags"] == {}
    fake_entries.reset()
    assumed = run(tmp_path, drill, assume_manual=True)
    assert assumed.exit_code == 0
    assert assumed.scorecard["manual"][0]["acknowledged_by"] == "--assume-manual"
    fake_entries.reset()
    asked = run(tmp_path, drill, interactive=True, ask_manual=lambda text: "alice")
    assert asked.scorecard["manual"][0]["acknowledged_by"] == "alice"


def test_non_interactive_run_without_yes_is_refused_before_anything(tmp_path):
    drill = make_drill(tmp_path)
    with pytest.raises(GuardrailRefusal):
        run_drill(drill, StubSession(), RunOptions(results=tmp_path / "results", yes=False, interactive=False,
                                                   clock=FakeClock()))
    assert STATE["flags"] == {}
    assert not (tmp_path / "results").exists()


def test_wrong_account_is_refused_before_anything(tmp_path):
    with pytest.raises(GuardrailRefusal, match="account 999999999999 is not in guardrails.accounts"):
        run(tmp_path, make_drill(tmp_path), session=StubSession("999999999999"))
    assert STATE["flags"] == {}
    assert not (tmp_path / "results").exists()


def test_failed_undo_is_rollback_incomplete_then_drtool_rollback_finishes(tmp_path):
    STATE["fail_undo"] = True
    result = run(tmp_path, make_drill(tmp_path))
    assert result.exit_code == 5
    assert result.scorecard["run"]["status"] == "rollback-incomplete"
    [left] = result.scorecard["rollback"]["remaining"]
    assert (left["summary"], left["undo"]) == ("set flag", "test.unflip")
    assert left["reason"] == "undo failed: RuntimeError: undo failed on purpose"
    assert STATE["flags"]["flag"] is True
    STATE["fail_undo"] = False
    remaining, card = rollback_run(result.run_dir / "journal.jsonl", StubSession(), FakeClock())
    assert remaining == [] and STATE["flags"]["flag"] is False
    assert card["rollback"]["status"] == "complete"
    again, _ = rollback_run(result.run_dir / "journal.jsonl", StubSession(), FakeClock())
    assert again == [] and STATE["undo_calls"] == 2     # nothing replayed the second time


def test_crash_after_intent_is_undone_by_rollback(tmp_path):
    """A SIGKILL between the intent and the call: the journal alone drives the undo."""
    from drtool.journal import Journal

    clock = FakeClock()
    run_dir = tmp_path / "results" / "flip-drill" / "run-crash"
    journal = Journal(run_dir / "journal.jsonl", clock)
    journal.write("run.started", run_id="run-crash", drill="flip-drill", scenario="flip", mode="live",
                  service={"name": "svc", "tier": "gold", "owner": "sre"}, tool_version="0",
                  objectives={"rto_s": 10, "rpo_s": None}, account_ids=["123456789012"], regions=["us-east-1"],
                  aws={"default_region": "us-east-1"})
    journal.write("change.intent", step="x", summary="set flag", region="us-east-1", resources=[],
                  undo={"name": "test.unflip", "params": {"key": "flag"}, "region": "us-east-1", "account": None})
    journal.close()
    with open(run_dir / "journal.jsonl", "a") as handle:
        handle.write('{"seq": 3, "event": "change.do')      # torn last line
    STATE["flags"]["flag"] = True
    remaining, card = rollback_run(run_dir / "journal.jsonl", StubSession(), clock)
    assert remaining == [] and STATE["flags"]["flag"] is False
    assert card["run"]["status"] == "aborted" and "crash" in card["run"]["reason"]
    assert card["rollback"]["status"] == "complete"


def test_restore_outcome_gives_recovery_point_rpo(tmp_path):
    clock = FakeClock()
    STATE["recovery_point_at"] = clock.now() - 3600
    drill = make_drill(tmp_path, drill_extra="")
    drill.doc.objectives.rpo = 7200.0
    result = run(tmp_path, drill, clock=clock)
    rpo = result.scorecard["objectives"]["rpo"]
    assert rpo["method"] == "recovery-point"
    assert rpo["measured_s"] == pytest.approx(3600.0)
    assert rpo["met"] is True


def test_seeded_run_records_the_seed(tmp_path):
    result = run(tmp_path, make_drill(tmp_path))
    assert result.scorecard["run"]["seed"] == 7


def test_scenario_rollback_steps_run_last_are_journaled_and_never_undone(tmp_path):
    scenario = SCENARIO + "rollback:\n  - action: test.flip\n    with: {key: cleanup}\n"
    result = run(tmp_path, make_drill(tmp_path, scenario=scenario))
    assert result.exit_code == 0
    assert STATE["flags"] == {"flag": False, "cleanup": True}
    events = read_journal(result.run_dir / "journal.jsonl")
    cleanup = [e for e in events if e["event"] == "change.intent" and e["summary"] == "set cleanup"]
    assert len(cleanup) == 1 and cleanup[0]["undo"] is None
    assert [t["phase"] for t in result.scorecard["timeline"]][-2:] == ["rollback", "rollback"]
    assert result.scorecard["rollback"]["status"] == "complete"


def test_account_must_also_be_among_run_account_ids(tmp_path):
    drill = make_drill(tmp_path, drill_extra='run: {account_ids: ["111111111111"]}\n')
    with pytest.raises(GuardrailRefusal, match="not in run.account_ids"):
        run(tmp_path, drill)
    assert STATE["flags"] == {}
