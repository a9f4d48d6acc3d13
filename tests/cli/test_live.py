"""The live view's state and its two renderings, fed journal records and polls."""

from __future__ import annotations

import io
import json
import re

from drtool.journal import Journal, observing, read_journal
from drtool.live import JsonEvents, LiveState, PlainView, RichView, make_view
from drtool.resources import ProbeResult
from drtool.timing import FakeClock


class Now:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def started(rto: float = 30.0) -> dict:
    return {"event": "run.started", "drill": "shop", "mode": "sandbox", "objectives": {"rto_s": rto}, "t": 990.0}


def test_budget_moves_with_the_clock_and_freezes_at_recovery():
    now = Now()
    state = LiveState(now=now)
    state.on_event(started(rto=30))
    assert state.snapshot().elapsed_s is None
    state.on_event({"event": "fault", "t": 1000.0})
    now.t = 1012.5
    snap = state.snapshot()
    assert snap.elapsed_s == 12.5 and snap.left_s == 17.5 and not snap.exceeded
    assert "17.5s left" in snap.budget()
    now.t = 1040.0
    assert state.snapshot().exceeded
    assert "RTO BUDGET EXCEEDED" in (state.snapshot().banner() or "")
    state.on_event({"event": "recovered", "t": 1020.0})
    now.t = 2000.0
    snap = state.snapshot()
    assert snap.elapsed_s == 20.0 and snap.recovered and not snap.exceeded


def test_plain_view_prints_the_failing_checks_reason_only_on_change():
    now, out = Now(), io.StringIO()
    view = PlainView(out, now=now, heartbeat=60)
    view.on_event(started())
    view.on_event({"event": "fault", "t": 1000.0})
    view.on_event({"event": "step.started", "phase": "verify", "step": "service answers"})
    bad = ProbeResult(False, "GET https://shop.example/health answered 503, expected 200")
    view.on_poll("service answers", bad)
    first = out.getvalue()
    assert "waiting on service answers: GET https://shop.example/health answered 503" in first
    now.t += 1
    view.on_poll("service answers", bad)                         # nothing changed: nothing printed
    assert out.getvalue() == first
    now.t += 61                                                  # heartbeat: the budget moves in the log
    view.on_poll("service answers", bad)
    assert out.getvalue() != first and "RTO 1m02s since the fault" in out.getvalue()
    view.on_poll("service answers", ProbeResult(True, "answered 200"))
    assert "waiting on" not in out.getvalue().splitlines()[-1]
    assert "\x1b[" not in out.getvalue()                         # no escape codes in CI logs


def test_plain_view_banner_when_the_budget_is_exceeded_and_canary_count():
    now, out = Now(), io.StringIO()
    view = PlainView(out, now=now)
    view.on_event(started(rto=5))
    view.on_event({"event": "note", "message": "stopped", "canaries_written": 34, "canaries_replicated": 30})
    view.on_event({"event": "fault", "t": 1000.0})
    now.t = 1006.0
    view.on_poll("db writable", ProbeResult(False, "shop-db-dr is a read replica"))
    text = out.getvalue()
    assert "!! RTO BUDGET EXCEEDED: 6.00s since the fault" in text
    assert "canaries 34 written, 30 in the replica at the fault" in text


def test_rich_view_renders_budget_reason_and_banner():
    now = Now()
    view = RichView(io.StringIO(), now=now)
    view.on_event({**started(rto=5), "event": "run.created"})     # not run.started: Live is not started
    view.state.on_event(started(rto=5))
    view.state.on_event({"event": "fault", "t": 1000.0})
    view.on_poll("service answers", ProbeResult(False, "GET http://127.0.0.1/nope answered 404, expected 200"))
    now.t = 1009.0
    from rich.console import Console

    console = Console(file=io.StringIO(), width=160, force_terminal=False, color_system=None)
    console.print(view)
    text = console.file.getvalue()
    assert "drtool  shop  [sandbox]" in text
    assert "FAIL service answers: GET http://127.0.0.1/nope answered 404" in text
    assert "RTO 9.00s since the fault, budget 5.00s, OVER by 4.00s" in text
    assert "RTO BUDGET EXCEEDED" in text


def test_viewer_errors_never_reach_the_drill():
    view = PlainView(io.StringIO())
    view.on_event({"event": "run.started", "objectives": "not a dict"})     # broken record: swallowed
    view.on_poll("x", object())                                              # not a ProbeResult: swallowed


def test_make_view_picks_plain_off_a_terminal():
    assert type(make_view("auto", io.StringIO())) is PlainView
    assert make_view("off", io.StringIO()) is None
    assert type(make_view("rich", io.StringIO())) is RichView


def test_journal_subscribers_see_every_record_in_order_and_a_broken_one_is_dropped(tmp_path, capsys):
    seen: list[dict] = []
    calls = {"n": 0}

    def broken(_record: dict) -> None:
        calls["n"] += 1
        raise BrokenPipeError("stdout closed")

    journal = Journal(tmp_path / "journal.jsonl", FakeClock(), mirror=lambda _line: None)
    journal.subscribe(seen.append)
    journal.subscribe(broken)
    journal.write("run.started", run_id="r1", drill="d")
    journal.write("fault")
    journal.write("run.finished", status="passed", reason=None)
    journal.close()
    on_disk = read_journal(tmp_path / "journal.jsonl")
    assert seen == on_disk                                     # the journal's own schema, every record
    assert calls["n"] == 1                                     # dropped after its first failure
    assert "journal subscriber dropped: BrokenPipeError" in capsys.readouterr().err


def test_observing_subscribes_journals_opened_inside_the_block(tmp_path):
    out = io.StringIO()
    printer = JsonEvents(out)
    with observing(printer.emit):
        journal = Journal(tmp_path / "journal.jsonl", FakeClock())
    outside = Journal(tmp_path / "other.jsonl", FakeClock())
    journal.write("run.started", run_id="r1", drill="d")
    outside.write("run.started", run_id="r2", drill="d")
    lines = out.getvalue().splitlines()
    assert [json.loads(line)["run_id"] for line in lines] == ["r1"]
    assert json.loads(lines[0])["sha256"] == read_journal(tmp_path / "journal.jsonl")[0]["sha256"]


def test_both_tracks_show_recovery_and_the_workaround_apart():
    """Issue 15: the workaround runs beside `recover`; the view keeps the main phase line and
    shows the workaround's own step, then the instant it was in place."""
    now, out = Now(), io.StringIO()
    view = PlainView(out, now=now, heartbeat=60)
    view.on_event(started(rto=60))
    view.on_event({"event": "fault", "t": 1000.0})
    view.on_event({"event": "step.started", "phase": "recover", "step": "promote the DR database"})
    view.on_event({"event": "step.started", "phase": "workaround", "step": "serve the static checkout page"})
    snap = view.state.snapshot()
    assert (snap.phase, snap.step) == ("recover", "promote the DR database")
    assert snap.workaround == "running serve the static checkout page"
    assert "workaround running serve the static checkout page" in out.getvalue().splitlines()[-1]
    view.on_event({"event": "workaround", "t": 1004.0, "steps": 1})
    last = out.getvalue().splitlines()[-1]
    assert "[recover] promote the DR database" in last
    assert "workaround in place 4.00s after the fault: the business continues, degraded" in last
    from rich.console import Console

    rich_view = RichView(io.StringIO(), now=now)
    for record in (started(rto=60), {"event": "fault", "t": 1000.0}, {"event": "workaround", "t": 1004.0}):
        rich_view.state.on_event(record)
    console = Console(file=io.StringIO(), width=160, force_terminal=False, color_system=None)
    console.print(rich_view)
    assert re.search(r"workaround +in place 4.00s after the fault", console.file.getvalue())


def test_no_workaround_track_without_workaround_steps():
    state = LiveState(now=Now())
    state.on_event(started())
    state.on_event({"event": "step.started", "phase": "recover", "step": "scale out"})
    assert state.snapshot().workaround is None
