"""A failback that fails stops where it is: a failed `check:`, a failed named undo, the
steps the failback does not name held back, the scenario's rollback steps not run,
`drtool rollback` stopping at its first failed undo, and the expiry sweeper finishing the
failback (in its order, without the waits) once the run expired."""

from __future__ import annotations

import pytest

from drtool.journal import read_journal
from drtool.outputs.store import LocalStore
from drtool.runner import rollback_run
from drtool.sweeper import sweep
from drtool.timing import FakeClock
from tests.failback.test_failback import SCENARIO, run, undo_order
from tests.unit import fake_entries
from tests.unit.fake_entries import STATE
from tests.unit.test_runner import StubSession

CHECK = SCENARIO.replace("  - wait: test.flag-cleared\n    name: primary serves", "  - check: test.flag-cleared\n"
                         "    name: primary serves").replace("    timeout: 3s\n", "") + """\
rollback:
  - check: test.flag-cleared
    name: tidy up
    with: {key: net}
"""


@pytest.fixture(autouse=True)
def clean_state():
    fake_entries.reset()
    yield


def remaining(card: dict) -> dict[str, str]:
    return {r["summary"]: r["reason"] for r in card["rollback"]["remaining"]}


def test_a_failed_check_stops_the_failback_and_holds_back_the_rollback_steps(tmp_path):
    result, events = run(tmp_path, params="{wait_key: dns}", scenario=CHECK)
    card = result.scorecard
    assert STATE["flags"] == {"net": False, "dns": True, "dr": True}
    assert result.exit_code == 5 and card["run"]["status"] == "rollback-incomplete"
    assert "failback step 'primary serves' failed: dns still set" in card["run"]["reason"]
    assert "left on the DR side" in card["run"]["reason"]
    assert set(remaining(card)) == {"set dns", "set dr"}
    assert undo_order(events) == ["set net"]
    assert not [e for e in events if e["event"] == "step.started" and e["phase"] == "rollback"]
    [note] = [e for e in events if e["event"] == "note" and e.get("step") == "tidy up"]
    assert "not run: the ordered failback stopped" in note["message"]


def test_a_failed_named_undo_stops_the_failback_and_holds_back_the_unnamed_steps(tmp_path):
    STATE["fail_undo_keys"] = {"dns"}
    scenario = SCENARIO.replace("    with: {key: \"${wait_key}\"", "    with: {key: net")
    result, events = run(tmp_path, scenario=scenario)
    card = result.scorecard
    assert STATE["flags"] == {"net": False, "dns": True, "dr": True}      # scale dr (unnamed) held back
    assert result.exit_code == 5 and "failback step 'move dns' failed" in card["run"]["reason"]
    assert undo_order(events) == ["set net", "set dns"]
    left = remaining(card)
    assert left["set dns"] == "undo failed: RuntimeError: undo failed on purpose"
    assert left["set dr"].startswith("held back: the ordered failback stopped at 'move dns'")
    assert [(e["name"], e["status"]) for e in events if e["event"] == "failback.step"] == [
        ("cut network", "ok"), ("primary serves", "ok"), ("move dns", "failed")]


def test_drtool_rollback_stops_at_the_first_failed_undo_in_failback_order(tmp_path):
    STATE["fail_undo"] = True                        # the run leaves all three changed
    result, events = run(tmp_path)
    journal = result.run_dir / "journal.jsonl"
    STATE.update(fail_undo=False, fail_undo_keys={"net"})
    last = events[-1]["seq"]
    lines: list[str] = []
    left, card = rollback_run(journal, StubSession(), FakeClock(), lines.append)
    events = read_journal(journal)
    assert undo_order(events, after=last) == ["set net"]        # not dns, not the unnamed dr: held back
    assert STATE["flags"] == {"net": True, "dns": True, "dr": True}
    assert len(left) == 3 and card["rollback"]["status"] == "incomplete"
    reasons = remaining(card)
    assert reasons["set net"] == "undo failed: RuntimeError: undo failed on purpose"
    assert all(reasons[s].startswith("held back: the ordered failback stopped at 'cut network'")
               for s in ("set dns", "set dr"))
    failback = card["rollback"]["failback"]
    assert failback["status"] == "stopped" and "cut network" in failback["reason"]
    assert [(s["name"], s["status"]) for s in failback["steps"]] == [("cut network", "failed")]
    assert any("STOPPED" in line for line in lines)

    STATE["fail_undo_keys"] = set()                  # fixed: the next rollback finishes, in order
    last = events[-1]["seq"]
    left, card = rollback_run(journal, StubSession(), FakeClock())
    assert left == [] and card["rollback"]["status"] == "complete"
    assert undo_order(read_journal(journal), after=last) == ["set net", "set dns", "set dr"]
    assert card["rollback"]["failback"]["status"] == "replayed"


def test_the_expiry_sweeper_asks_the_failback_wait_again_and_leaves_traffic_on_dr_until_it_holds(tmp_path):
    result, events = run(tmp_path, params="{wait_key: dns}")          # stopped at the wait: dns, dr left
    assert result.exit_code == 5
    store = LocalStore(tmp_path / "results")
    started = events[0]
    assert sweep(store, lambda _s: StubSession(), now=started["expires_at"] - 1, clock=FakeClock()) == []

    # expired, the primary still does not serve: the dead man's switch asks the wait again
    # and moves nothing (DNS and the DR fleet stay on DR), saying what is left
    last = read_journal(result.run_dir / "journal.jsonl")[-1]["seq"]
    [swept] = sweep(store, lambda _s: StubSession(), now=started["expires_at"] + 1, clock=FakeClock())
    assert swept.outcome == "incomplete" and len(swept.remaining) == 2
    assert STATE["flags"] == {"net": False, "dns": True, "dr": True}
    assert undo_order(read_journal(result.run_dir / "journal.jsonl"), after=last) == []

    STATE["flags"]["dns"] = False                    # the primary serves: the wait holds
    STATE["fail_undo_keys"] = {"dns"}                # swept while the DNS undo fails: dr stays held back
    [swept] = sweep(store, lambda _s: StubSession(), now=started["expires_at"] + 2, clock=FakeClock())
    assert swept.outcome == "incomplete" and len(swept.remaining) == 2
    assert STATE["flags"] == {"net": False, "dns": False, "dr": True}

    STATE["fail_undo_keys"] = set()                  # the next sweep finishes it, DNS before the DR fleet
    last = read_journal(result.run_dir / "journal.jsonl")[-1]["seq"]
    [swept] = sweep(store, lambda _s: StubSession(), now=started["expires_at"] + 3, clock=FakeClock())
    assert swept.outcome == "rolled back" and swept.remaining == []
    assert undo_order(read_journal(result.run_dir / "journal.jsonl"), after=last) == ["set dns", "set dr"]
    assert STATE["flags"] == {"net": False, "dns": False, "dr": False}

def test_a_recorded_probe_that_no_longer_loads_does_not_hold():
    from drtool.failback import FailbackEntry
    from drtool.failback_replay import ask_again

    entry = FailbackEntry(1, "wait", "primary serves", probe={"name": "test.no-such-probe", "with": {}})
    held, detail = ask_again(entry, lambda _region: None)
    assert not held and "test.no-such-probe" in detail


def test_an_older_journal_entry_without_a_probe_reads_as_before():
    from drtool.failback import FailbackEntry

    old = {"index": 1, "kind": "wait", "name": "primary serves", "undoes": None}
    entry = FailbackEntry.from_json(old)
    assert entry.probe is None and entry.to_json() == old


def test_a_trailing_failback_wait_guards_the_unnamed_steps_in_drtool_rollback_too(tmp_path):
    # the failback names net and dns, then waits; scale dr (unnamed) is undone only after it
    scenario = SCENARIO.replace("  - undo: move dns\n", "").replace(
        "  - undo: cut network\n", "  - undo: cut network\n  - undo: move dns\n")
    result, events = run(tmp_path, params="{wait_key: dr}", scenario=scenario)   # dr stays set: the wait fails
    assert result.exit_code == 5 and STATE["flags"] == {"net": False, "dns": False, "dr": True}
    last = events[-1]["seq"]
    still, card = rollback_run(result.run_dir / "journal.jsonl", StubSession(), FakeClock())
    assert len(still) == 1 and STATE["flags"]["dr"]                 # asked again, still failing: dr kept
    after = read_journal(result.run_dir / "journal.jsonl")
    assert undo_order(after, after=last) == [] and card["rollback"]["failback"]["status"] == "stopped"
    STATE["flags"]["dr"] = False                                     # it holds now (the probe reads clear)
    still, card = rollback_run(result.run_dir / "journal.jsonl", StubSession(), FakeClock())
    assert still == [] and card["rollback"]["failback"]["status"] == "replayed"


def test_a_second_rollback_of_the_same_run_is_refused_while_one_runs(tmp_path):
    from drtool.errors import DrToolError
    from drtool.rollback import exclusive

    result, events = run(tmp_path, params="{wait_key: dns}")
    path = result.run_dir / "journal.jsonl"
    with exclusive(path), pytest.raises(DrToolError, match="another drtool rollback is undoing this run"):
        rollback_run(path, StubSession(), FakeClock())
    assert read_journal(path) == events and STATE["flags"] == {"net": False, "dns": True, "dr": True}


def test_the_sweeper_leaves_a_failback_blocked_by_someone_elses_change_to_a_person(tmp_path):
    STATE["changed_keys"] = {"dns"}                  # someone moved DNS themselves: the undo leaves it
    scenario = SCENARIO.replace("    with: {key: \"${wait_key}\"", "    with: {key: net")
    result, events = run(tmp_path, scenario=scenario)
    assert result.exit_code == 5 and STATE["flags"] == {"net": False, "dns": True, "dr": True}
    store, started = LocalStore(tmp_path / "results"), events[0]
    last = read_journal(result.run_dir / "journal.jsonl")[-1]["seq"]
    for later in (1, 2):                             # every sweep: reported, nothing retried or re-journaled
        [swept] = sweep(store, lambda _s: StubSession(), now=started["expires_at"] + later, clock=FakeClock())
        assert swept.outcome == "needs a person" and {"set dns", "set dr"} <= set(swept.remaining)
    assert read_journal(result.run_dir / "journal.jsonl")[-1]["seq"] == last
    assert STATE["flags"] == {"net": False, "dns": True, "dr": True}
