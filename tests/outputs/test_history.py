"""History: due dates, overdue with an injected now, aborted runs not resetting the clock,
failed runs resetting it and opening a retest flag, trends, and the CLI exit code."""

from __future__ import annotations

import json

from drtool.cli import invoke
from drtool.outputs.history import drill_history, summarize
from drtool.timing import parse_rfc3339
from tests.outputs.conftest import write_run

DAY = 86400.0
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z; schedule every 90 days


def _at(text: str) -> float:
    return parse_rfc3339(text) or 0.0


def test_due_and_overdue_by_injected_now(make_scorecard):
    runs = [make_scorecard(start=0)]
    before = drill_history("d", runs, now=_at("2026-03-31T23:59:59Z"))
    assert (before.state, before.overdue, before.next_due_at) == ("ok", False, "2026-04-01T00:00:00.000Z")
    assert before.due_in_s == 1.0
    after = drill_history("d", runs, now=_at("2026-04-01T00:00:01Z"))
    assert (after.state, after.overdue, after.due_in_s) == ("overdue", True, -1.0)


def test_aborted_run_does_not_reset_the_clock(make_scorecard):
    runs = [make_scorecard(start=0, run_id="r1"), make_scorecard("aborted", start=80 * DAY, run_id="r2")]
    h = drill_history("d", runs, now=T0 + 91 * DAY)
    assert h.overdue and h.last_tested_run == "r1" and h.next_due_at == "2026-04-01T00:00:00.000Z"
    assert [r.counts_as_test for r in h.runs] == [False, True]


def test_failed_run_resets_the_clock_and_opens_a_retest(make_scorecard):
    runs = [make_scorecard(start=0, run_id="r1"), make_scorecard("failed", start=80 * DAY, run_id="r2")]
    h = drill_history("d", runs, now=T0 + 91 * DAY)
    assert not h.overdue and h.last_tested_run == "r2" and h.next_due_at == "2026-06-20T00:00:00.000Z"
    assert h.retest_open and h.retest_of == "r2"
    closed = drill_history("d", [*runs, make_scorecard(start=85 * DAY, run_id="r3")], now=T0 + 91 * DAY)
    assert not closed.retest_open and closed.last_tested_run == "r3"


def test_never_tested_is_due_one_interval_after_the_first_attempt(make_scorecard):
    h = drill_history("d", [make_scorecard("aborted", start=0)], now=T0 + 10 * DAY)
    assert (h.state, h.overdue, h.last_tested_at) == ("never-tested", False, None)
    assert drill_history("d", [make_scorecard("aborted", start=0)], now=T0 + 100 * DAY).overdue


def test_unscheduled_drill_is_never_overdue(make_scorecard):
    sc = make_scorecard()
    sc["schedule"] = {"every_s": None}
    h = drill_history("d", [sc], now=T0 + 1000 * DAY)
    assert (h.state, h.overdue, h.next_due_at) == ("unscheduled", False, None)


def test_trends_and_last_n(make_scorecard):
    runs = [make_scorecard(start=0, run_id="r1"), make_scorecard("failed", start=DAY, run_id="r2"),
            make_scorecard("aborted", start=2 * DAY, run_id="r3"), make_scorecard(start=3 * DAY, run_id="r4")]
    h = drill_history("d", runs, now=T0 + 4 * DAY, last=3)
    assert [r.run_id for r in h.runs] == ["r4", "r3", "r2"]
    assert [r.rto_trend for r in h.runs] == ["better", None, "worse"]
    assert h.runs[0].rpo_trend == "same"


def test_history_groups_by_drill(make_scorecard):
    hs = summarize([make_scorecard(drill="b"), make_scorecard(drill="a")], now=T0)
    assert [h.drill for h in hs] == ["a", "b"]


def test_cli_exit_codes_and_json(tmp_path, make_scorecard, capsys):
    root = tmp_path / "results"
    write_run(root, make_scorecard(start=0, run_id="r1"))
    write_run(root, make_scorecard("aborted", start=80 * DAY, run_id="r2", drill="other"))
    assert invoke(["history", "--results", str(root), "--now", "2026-02-01T00:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert "next due 2026-04-01T00:00:00.000Z" in out and "aborted*" in out
    assert invoke(["history", "--results", str(root), "--now", "2026-05-01T00:00:00Z", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["overdue"] == ["checkout-region-loss"]
    assert {d["drill"]: d["state"] for d in result["drills"]} == {"checkout-region-loss": "overdue",
                                                                 "other": "never-tested"}
    assert invoke(["history", "--results", str(root), "--drill", "other", "--now", "2026-05-01T00:00:00Z"]) == 0
    assert "OVERDUE" not in capsys.readouterr().out


def test_cli_bad_input(tmp_path, capsys):
    assert invoke(["history", "--results", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert invoke(["history", "--results", str(tmp_path), "--now", "yesterday"]) == 2
    assert "RFC 3339" in capsys.readouterr().err


def test_cli_skips_unreadable_scorecards_with_a_warning(tmp_path, make_scorecard, capsys):
    folder = write_run(tmp_path, make_scorecard())
    broken = folder.parent / "broken"
    broken.mkdir()
    (broken / "scorecard.json").write_text("{")
    assert invoke(["history", "--results", str(tmp_path), "--now", "2026-01-02T00:00:00Z"]) == 0
    assert "warning: skipped" in capsys.readouterr().err


def test_sandbox_runs_never_satisfy_the_schedule(make_scorecard):
    """A live run 100 days ago and a passed sandbox rehearsal yesterday: still overdue."""
    runs = [make_scorecard(start=0, run_id="live-1"),
            make_scorecard(start=99 * DAY, run_id="sandbox-1", mode="sandbox")]
    h = drill_history("d", runs, now=T0 + 100 * DAY)
    assert h.overdue and h.last_tested_run == "live-1" and h.next_due_at == "2026-04-01T00:00:00.000Z"
    assert [r.run_id for r in h.runs] == ["live-1"]
    assert [(r.run_id, r.mode, r.counts_as_test) for r in h.sandbox_runs] == [("sandbox-1", "sandbox", False)]


def test_sandbox_failure_opens_no_retest_and_only_rehearsals_never_test(make_scorecard):
    runs = [make_scorecard(start=0, run_id="live-1"),
            make_scorecard("failed", start=DAY, run_id="sandbox-1", mode="sandbox")]
    assert not drill_history("d", runs, now=T0 + 2 * DAY).retest_open
    only = [make_scorecard(start=0, run_id="s1", mode="sandbox"), make_scorecard(start=DAY, run_id="s2", mode="sandbox")]
    h = drill_history("d", only, now=T0 + 91 * DAY)
    assert (h.state, h.overdue, h.last_tested_run, h.runs) == ("overdue", True, None, [])
    assert [r.run_id for r in h.sandbox_runs] == ["s2", "s1"]


def test_history_text_shows_rehearsals_apart(make_scorecard):
    from drtool.outputs.history import render_text

    runs = [make_scorecard(start=0, run_id="live-1"),
            make_scorecard(start=DAY, run_id="sandbox-1", mode="sandbox")]
    out = render_text(summarize(runs, now=T0 + 2 * DAY), now=T0 + 2 * DAY)
    live, rehearsals = out.split("sandbox rehearsals (never count as a test):")
    assert "live-1" in live and "sandbox-1" not in live and "sandbox-1" in rehearsals
    assert "last tested 2026-01-01T00:00:00.000Z (run live-1)" in out
