"""Ordered failback with the engine's in-memory test entries and a FakeClock: the order
runs, the rest is undone in reverse, any failure stops it and leaves the rest changed (on
DR, exit 5) for `drtool rollback`, a held signal stops the waits, `drtool rollback` after a
crash keeps the order, bad `undo:` names are problems at file:line."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from drtool.cli import invoke
from drtool.documents import check_scenario, load_drill
from drtool.errors import DocumentError
from drtool.guardrails import Plan
from drtool.journal import read_journal
from drtool.plan_text import describe_plan, plan_json
from drtool.registry import PROBES, Params
from drtool.resources import ProbeResult
from drtool.runner import RunOptions, rollback_run, run_drill
from drtool.timing import FakeClock
from tests.unit import fake_entries
from tests.unit.fake_entries import STATE
from tests.unit.test_runner import StubSession

fake_entries.register()


class FlagParams(Params):
    key: str
    signal_self: bool = False


if "test.flag-cleared" not in PROBES._entries:
    @PROBES.register("test.flag-cleared", summary="A flag is not set (test only).", params=FlagParams,
                     iam=("ec2:DescribeInstances",))
    def flag_cleared(ctx, params):
        if params.signal_self:
            os.kill(os.getpid(), signal.SIGTERM)      # held by the runner while it rolls back
        cleared = not STATE["flags"].get(params.key, False)
        return ProbeResult(cleared, f"{params.key} {'cleared' if cleared else 'still set'}")


SCENARIO = """\
kind: scenario
name: fb
parameters:
  wait_key: {type: string, default: net}
  signal_self: {type: boolean, default: false}
  fail_inject: {type: boolean, default: false}
inject:
  - action: test.flip
    name: cut network
    with: {key: net, fail: "${fail_inject}"}
recover:
  - action: test.flip
    name: move dns
    with: {key: dns}
  - action: test.flip
    name: scale dr
    with: {key: dr}
verify:
  - check: test.recovered-after
    with: {seconds: 1, key: net}
failback:
  - undo: cut network
  - wait: test.flag-cleared
    name: primary serves
    with: {key: "${wait_key}", signal_self: "${signal_self}"}
    timeout: 3s
  - undo: move dns
"""

DRILL = """\
kind: drill
name: fb-drill
scenario: fb
service: {name: svc}
parameters: PARAMS
objectives: {rto: 10s}
poll: 0.5s
guardrails:
  accounts: ["123456789012"]
"""


@pytest.fixture(autouse=True)
def clean_state():
    fake_entries.reset()
    yield


def write(tmp_path: Path, scenario: str = SCENARIO, params: str = "{}") -> Path:
    (tmp_path / "scenarios").mkdir(exist_ok=True)
    (tmp_path / "drills").mkdir(exist_ok=True)
    (tmp_path / "scenarios" / "fb.yaml").write_text(scenario)
    path = tmp_path / "drills" / "fb.yaml"
    path.write_text(DRILL.replace("PARAMS", params))
    return path


def run(tmp_path: Path, params: str = "{}", scenario: str = SCENARIO):
    drill = load_drill(write(tmp_path, scenario, params))
    result = run_drill(drill, StubSession(), RunOptions(results=tmp_path / "results", yes=True, clock=FakeClock(),
                                                         seed=1))
    return result, read_journal(result.run_dir / "journal.jsonl")


def undo_order(events: list[dict], after: int = 0) -> list[str]:
    return [e["summary"] for e in events if e["event"] == "undo.started" and e["seq"] > after]


def test_failback_runs_in_order_then_undoes_the_rest_in_reverse(tmp_path):
    result, events = run(tmp_path)
    assert result.exit_code == 0, result.scorecard["run"]["reason"]
    [plan] = [e for e in events if e["event"] == "failback.plan"]
    assert [s["name"] for s in plan["steps"]] == ["cut network", "primary serves", "move dns"]
    assert plan["then_reverse"] == ["scale dr"]
    steps = [(e["kind"], e["name"], e["status"]) for e in events if e["event"] == "failback.step"]
    assert steps == [("undo", "cut network", "ok"), ("wait", "primary serves", "ok"), ("undo", "move dns", "ok")]
    assert undo_order(events) == ["set net", "set dns", "set dr"]          # reverse order would be dr, dns, net
    wait_done = next(e["seq"] for e in events if e["event"] == "step.finished" and e["phase"] == "failback")
    net_done, dns_started = (next(e["seq"] for e in events if e["event"] == kind and e["summary"] == summary)
                             for kind, summary in (("undo.done", "set net"), ("undo.started", "set dns")))
    assert net_done < wait_done < dns_started
    assert STATE["flags"] == {"net": False, "dns": False, "dr": False}
    assert result.scorecard["rollback"]["status"] == "complete"
    failback = result.scorecard["rollback"]["failback"]          # the scorecard says how it went
    assert failback["status"] == "complete" and failback["reason"] is None
    assert [(s["kind"], s["name"], s["status"]) for s in failback["steps"]] == steps
    from drtool.outputs import render
    from drtool.scorecard_model import Scorecard

    Scorecard.model_validate(result.scorecard)
    md, html = render(result.scorecard, "md"), render(result.scorecard, "html")
    assert "Failback, in order: complete" in md and "2. wait primary serves: ok" in md
    assert '<p id="failback">Failback, in order: <strong>complete</strong>' in html


def left_on_dr(result, events, statuses: tuple[str, ...] = ("ok", "failed")) -> dict:
    """The safe stop: the network is back, DNS and the DR fleet are left as the failback
    found them, the run ends rollback-incomplete (exit 5) and lists what is left."""
    card = result.scorecard
    assert STATE["flags"] == {"net": False, "dns": True, "dr": True}
    assert card["run"]["status"] == "rollback-incomplete" and result.exit_code == 5
    reason = card["run"]["reason"]
    assert "failback step 'primary serves' failed" in reason
    assert "the rest was left on the DR side (2 change(s) still changed)" in reason
    assert f"run `drtool rollback {card['run']['id']}` once the primary serves again" in reason
    assert "reverse order" not in reason and reason.endswith("2 change(s) held back by the stopped failback")
    assert card["rollback"]["status"] == "incomplete"
    remaining = {r["summary"]: r["reason"] for r in card["rollback"]["remaining"]}
    assert remaining == {s: f"held back: the ordered failback stopped at 'primary serves'; run `drtool rollback "
                            f"{card['run']['id']}` once the primary serves again" for s in ("set dns", "set dr")}
    assert undo_order(events) == ["set net"]                     # nothing after the failed wait is undone
    assert {e["summary"] for e in events if e["event"] == "undo.held"} == {"set dns", "set dr"}
    [finished] = [e for e in events if e["event"] == "failback.finished"]
    assert finished["status"] == "stopped" and "primary serves" in finished["reason"]
    assert tuple(e["status"] for e in events if e["event"] == "failback.step") == statuses
    failback = card["rollback"]["failback"]
    assert failback["status"] == "stopped" and "primary serves" in failback["reason"]
    from drtool.scorecard_model import Scorecard

    Scorecard.model_validate(card)
    return card


def test_a_timed_out_failback_wait_stops_and_leaves_the_rest_on_dr(tmp_path):
    result, events = run(tmp_path, params="{wait_key: dns}")          # dns is still set: the wait times out
    left_on_dr(result, events)
    assert "not true after 3s" in result.scorecard["run"]["reason"]
    last = events[-1]["seq"]
    # `drtool rollback RUN` while the primary still does not serve: the wait is asked again
    # (polled up to its journaled 3 s) and does not hold, so DNS and DR stay as they are
    remaining, card = rollback_run(result.run_dir / "journal.jsonl", StubSession(), FakeClock())
    assert len(remaining) == 2 and card["rollback"]["status"] == "incomplete"
    events = read_journal(result.run_dir / "journal.jsonl")
    assert undo_order(events, after=last) == [] and STATE["flags"] == {"net": False, "dns": True, "dr": True}
    [asked] = [e for e in events if e["event"] == "failback.step" and e["seq"] > last and e["kind"] == "wait"]
    assert asked["status"] == "failed" and "not true after 3s" in asked["detail"]
    assert card["rollback"]["failback"]["status"] == "stopped"
    last = events[-1]["seq"]
    STATE["flags"]["dns"] = False           # the primary serves now (the probe's flag reads clear)
    remaining, card = rollback_run(result.run_dir / "journal.jsonl", StubSession(), FakeClock())
    assert remaining == [] and card["rollback"]["status"] == "complete"   # `drtool rollback RUN` finishes it
    events = read_journal(result.run_dir / "journal.jsonl")
    assert undo_order(events, after=last) == ["set dns", "set dr"]         # failback order, then the unnamed
    assert STATE["flags"] == {"net": False, "dns": False, "dr": False}
    assert card["rollback"]["failback"]["status"] == "replayed"


def test_an_aws_error_in_a_failback_wait_stops_and_leaves_the_rest_on_dr(tmp_path):
    fake_entries.register_explode()
    scenario = SCENARIO.replace("    timeout: 3s\n", "    timeout: 3s\n  - wait: test.explode\n    name: primary serves\n"
                                "    with: {kind: aws}\n").replace("    name: primary serves\n    with: {key",
                                                                   "    name: network back\n    with: {key")
    result, events = run(tmp_path, scenario=scenario)
    steps = [(e["name"], e["status"]) for e in events if e["event"] == "failback.step"]
    assert steps == [("cut network", "ok"), ("network back", "ok"), ("primary serves", "failed")]
    left_on_dr(result, events, statuses=("ok", "ok", "failed"))
    assert "AccessDenied" in result.scorecard["run"]["reason"]


def test_a_held_signal_stops_the_waits_never_an_undo_and_leaves_the_rest_on_dr(tmp_path):
    result, events = run(tmp_path, params="{wait_key: dns, signal_self: true}")
    card = left_on_dr(result, events)
    assert "SIGTERM" in card["run"]["reason"] and "the ordered failback stopped" in card["run"]["reason"]
    [failed] = [e for e in events if e["event"] == "failback.step" and e["status"] == "failed"]
    assert "SIGTERM received" in failed["detail"]


def test_no_failback_when_the_fault_was_never_injected(tmp_path):
    result, events = run(tmp_path, params="{fail_inject: true}")
    assert result.scorecard["run"]["status"] == "aborted"
    assert not [e for e in events if e["event"] in ("failback.step", "failback.finished")]
    assert result.scorecard["rollback"]["failback"] == {"status": "not-run", "reason": None, "steps": []}


def test_rollback_after_a_crash_keeps_the_failback_order_and_asks_the_waits_again(tmp_path):
    STATE["fail_undo"] = True                        # every undo fails: the run leaves all three changed
    result, events = run(tmp_path)
    assert result.scorecard["rollback"]["status"] == "incomplete"
    assert STATE["flags"] == {"net": True, "dns": True, "dr": True}
    last = events[-1]["seq"]

    from drtool.failback import undo_order as listed_order

    ordered, in_failback_order = listed_order(events)      # what `drtool rollback` lists before asking
    assert in_failback_order and [p.summary for p in ordered] == ["set net", "set dns", "set dr"]
    STATE["fail_undo"] = False
    lines: list[str] = []
    remaining, card = rollback_run(result.run_dir / "journal.jsonl", StubSession(), FakeClock(), lines.append)
    assert remaining == [] and card["rollback"]["status"] == "complete"
    events = read_journal(result.run_dir / "journal.jsonl")
    assert undo_order(events, after=last) == ["set net", "set dns", "set dr"]
    replayed = [(e["name"], e["status"]) for e in events if e["event"] == "failback.step" and e["seq"] > last]
    assert replayed == [("cut network", "ok"), ("primary serves", "ok"), ("move dns", "ok")]
    assert any("failback primary serves" in line and "net cleared" in line for line in lines)
    failback = card["rollback"]["failback"]                     # the newest attempt: the replay
    assert failback["status"] == "replayed"
    assert [(s["name"], s["status"]) for s in failback["steps"]] == replayed


BAD = SCENARIO.replace("  - undo: move dns\n", "  - undo: move dsn\n")


@pytest.mark.parametrize(("scenario", "expected"), [
    (BAD, "failback undo 'move dsn' names no inject, recover or workaround step"),
    (SCENARIO.replace("  - undo: move dns\n", "  - undo: test.flip\n"), "matches 3 inject, recover"),
    (SCENARIO.replace("verify:\n", "  - wait: test.flag-cleared\n    name: idle\n    with: {key: x}\nverify:\n")
     .replace("  - undo: move dns\n", "  - undo: idle\n"), "step 'idle' is a wait step: it changes nothing"),
    (SCENARIO.replace("  - undo: move dns\n", "  - undo: move dns\n    with: {key: x}\n"),
     "an `undo:` entry takes no with"),
])
def test_bad_failback_entries_are_problems_at_file_and_line(tmp_path, scenario, expected):
    path = write(tmp_path, scenario)
    with pytest.raises(DocumentError) as err:
        check_scenario(tmp_path / "scenarios" / "fb.yaml")
    text = str(err.value) + " ".join(f"{p.file}:{p.line} {p.message}" for p in err.value.problems)
    assert expected in text and "fb.yaml:" in text
    assert invoke(["validate", str(path)]) != 0


def test_plan_shows_the_failback_order_and_the_reverse_rest(tmp_path):
    drill = load_drill(write(tmp_path))
    text = describe_plan(Plan(drill=drill, account="123456789012", default_region="us-east-1", seed=1))
    lines = [line.split() for line in text.splitlines() if line.split()[:1] == ["failback"]]
    assert [words[1:3] for words in lines] == [["undo", "cut"], ["wait", "primary"], ["undo", "move"]]
    assert "then, in reverse order, whatever else is still changed (scale dr)" in text
    assert plan_json(Plan(drill=drill, account=None, default_region="us-east-1", seed=1))["failback"][
        "then_reverse"] == ["scale dr"]
