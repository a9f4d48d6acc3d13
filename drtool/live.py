"""What a running drill is doing, as it does it: the live view and the event stream.

`LiveState` folds the journal's records (via `Journal.subscribe`) and every check poll
(`RunOptions.on_poll`) into: phase and step, time since the fault against the RTO
budget, the latest detail of every check still failing, the canary count, the ending.

Two renderings on stderr: `RichView` (a `rich.live.Live` panel redrawn four times a
second, so the budget moves between polls; for a terminal, tmux included) and
`PlainView` (plain lines printed only when something changed, plus a heartbeat while a
wait drags on; for CI logs and pipes). `JsonEvents` prints each journal record as one
JSON line on stdout (`--events json`).

Nothing here may stop a drill: every callback swallows its own errors.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from drtool.durations import format_duration

PROGRESS_MODES = ("auto", "rich", "plain", "off")
_DURATION = re.compile(r"\d+(?:\.\d+)?(?:ms|s)\b")     # a latency in a detail is not a change
ENDINGS = {"passed": "PASSED", "failed": "FAILED", "aborted": "ABORTED",
           "rollback-incomplete": "ROLLBACK INCOMPLETE"}


@dataclass
class Check:
    ok: bool
    detail: str
    polls: int = 1


@dataclass
class Snapshot:
    """The state at one instant, ready to print."""

    drill: str
    mode: str
    phase: str
    step: str
    rto_s: float | None
    elapsed_s: float | None         # since the fault; frozen at recovery; None before the fault
    recovered: bool
    checks: dict[str, Check]
    canaries: str | None
    ending: str | None
    workaround: str | None = None   # the workaround track, beside recovery (None: the scenario has none)

    @property
    def left_s(self) -> float | None:
        if self.elapsed_s is None or self.rto_s is None:
            return None
        return self.rto_s - self.elapsed_s

    @property
    def exceeded(self) -> bool:
        return self.left_s is not None and self.left_s < 0

    @property
    def pending(self) -> dict[str, Check]:
        return {label: c for label, c in self.checks.items() if not c.ok}

    def budget(self) -> str:
        if self.elapsed_s is None:
            return "RTO clock not started (fault not injected yet)" if self.rto_s is not None else ""
        if self.recovered:
            text = f"recovered {format_duration(self.elapsed_s)} after the fault, RTO budget {format_duration(self.rto_s)}"
        else:
            text = f"RTO {format_duration(self.elapsed_s)} since the fault, budget {format_duration(self.rto_s)}"
        left = self.left_s
        if left is None:
            return text
        return text + (f", {format_duration(left)} left" if left >= 0 else f", OVER by {format_duration(-left)}")

    def banner(self) -> str | None:
        if not self.exceeded:
            return None
        return (f"RTO BUDGET EXCEEDED: {format_duration(self.elapsed_s)} since the fault, "
                f"objective {format_duration(self.rto_s)} is missed")


@dataclass
class LiveState:
    """The drill as seen from its journal and its polls. Thread-safe."""

    now: Callable[[], float] = time.time
    drill: str = ""
    mode: str = ""
    phase: str = "start"
    step: str = ""
    rto_s: float | None = None
    fault_at: float | None = None
    recovered_at: float | None = None
    ended_at: float | None = None
    canaries: str | None = None
    ending: str | None = None
    workaround_step: str | None = None
    workaround_at: float | None = None
    checks: dict[str, Check] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on_event(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._fold(record)

    def _fold(self, r: dict[str, Any]) -> None:
        event = r.get("event")
        if event == "run.started":
            self.drill, self.mode = str(r.get("drill", "")), str(r.get("mode", ""))
            self.rto_s = (r.get("objectives") or {}).get("rto_s")
            self.phase = "steady state"
        elif event == "step.started" and r.get("phase") == "workaround":
            self.workaround_step = str(r.get("step", ""))    # its own track: the main phase line stays
        elif event == "workaround":
            self.workaround_at = _num(r.get("t"))
        elif event == "step.started":
            self.phase, self.step = str(r.get("phase", "")), str(r.get("step", ""))
        elif event == "fault":
            self.fault_at, self.phase, self.step = _num(r.get("t")), "recover", ""
        elif event == "recovered":
            self.recovered_at, self.phase, self.step = _num(r.get("t")), "recovered", ""
        elif event == "note" and "canaries_written" in r:
            self.canaries = (f"{r['canaries_written']} written, {r.get('canaries_replicated', '?')} "
                             "in the replica at the fault")
        elif event == "change.intent" and str(r.get("summary", "")).startswith("write RPO canaries"):
            self.canaries = "writing until the fault"
        elif event in ("undo.started", "undo.done", "undo.failed"):
            self.phase, self.step = "rollback", ""
        elif event == "run.finished":
            reason = f": {r['reason']}" if r.get("reason") else ""
            self.ending = f"run ended ({r.get('status')}){reason}"
            self.ended_at = _num(r.get("t"))
            self.phase, self.step = "finished", ""

    def on_poll(self, label: str, result: Any) -> None:
        with self._lock:
            previous = self.checks.get(label)
            self.checks[label] = Check(bool(getattr(result, "ok", False)), str(getattr(result, "detail", "")),
                                       (previous.polls + 1) if previous else 1)

    def snapshot(self) -> Snapshot:
        with self._lock:
            elapsed = None
            if self.fault_at is not None:
                end = next((t for t in (self.recovered_at, self.ended_at) if t is not None), None) or self.now()
                elapsed = max(0.0, end - self.fault_at)
            return Snapshot(self.drill, self.mode, self.phase, self.step, self.rto_s, elapsed,
                            self.recovered_at is not None, dict(self.checks), self.canaries, self.ending,
                            self._workaround())

    def _workaround(self) -> str | None:
        if self.workaround_at is not None:
            since = (f" {format_duration(max(0.0, self.workaround_at - self.fault_at))} after the fault"
                     if self.fault_at is not None else "")
            return f"in place{since}: the business continues, degraded"
        if self.workaround_step is not None:
            return f"running {self.workaround_step}".strip()
        return None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _safe(func: Callable[..., None]) -> Callable[..., None]:
    """A viewer must never stop the drill it watches."""

    def guarded(*args: Any) -> None:
        with contextlib.suppress(Exception):
            func(*args)

    return guarded


class PlainView:
    """Plain lines on `stream` when the state changes (CI logs, pipes), plus a heartbeat
    every `heartbeat` seconds while nothing changes, so a log shows the budget moving."""

    PREFIX = "live"

    def __init__(self, stream: IO[str], *, now: Callable[[], float] = time.time, heartbeat: float = 15.0,
                 redact: Callable[[str], str] = lambda s: s) -> None:
        self.state = LiveState(now=now)
        self.stream, self.now, self.heartbeat, self.redact = stream, now, heartbeat, redact
        self._last_key: Any = None
        self._last_at = 0.0
        self._lock = threading.Lock()

    def __enter__(self) -> PlainView:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        yield

    def log(self, line: str) -> None:
        self._write([line])

    def on_event(self, record: dict[str, Any]) -> None:
        _safe(self.state.on_event)(record)
        _safe(self._maybe_print)()

    def on_poll(self, label: str, result: Any) -> None:
        _safe(self.state.on_poll)(label, result)
        _safe(self._maybe_print)()

    def lines(self, snap: Snapshot) -> list[str]:
        step = f" {snap.step}" if snap.step else ""
        head = [f"[{snap.phase}]{step}"]
        if snap.budget():
            head.append(snap.budget())
        if snap.workaround:
            head.append(f"workaround {snap.workaround}")
        if snap.canaries:
            head.append(f"canaries {snap.canaries}")
        if snap.ending:
            head.append(snap.ending)
        out = [f"{self.PREFIX}  " + " | ".join(head)]
        out += [f"{self.PREFIX}    waiting on {label}: {check.detail}" for label, check in snap.pending.items()]
        banner = snap.banner()
        if banner and not snap.ending:
            out.append(f"{self.PREFIX}  !! {banner}")
        return out

    def _maybe_print(self) -> None:
        snap = self.state.snapshot()
        if not snap.drill:
            return
        key = (snap.phase, snap.step, tuple((k, _DURATION.sub("#", c.detail)) for k, c in snap.pending.items()),
               snap.canaries, snap.workaround,
               snap.exceeded, snap.recovered, snap.ending)
        now = self.now()
        if key == self._last_key and now - self._last_at < self.heartbeat:
            return
        self._last_key, self._last_at = key, now
        self._write(self.lines(snap))

    def _write(self, lines: list[str]) -> None:
        with self._lock, contextlib.suppress(Exception):
            self.stream.write("".join(self.redact(line) + "\n" for line in lines))
            self.stream.flush()


class RichView(PlainView):
    """A panel redrawn in place by `rich.live.Live` on a terminal (stderr)."""

    def __init__(self, stream: IO[str], *, now: Callable[[], float] = time.time,
                 redact: Callable[[str], str] = lambda s: s, refresh_per_second: float = 4.0) -> None:
        from rich.console import Console
        from rich.live import Live

        super().__init__(stream, now=now, redact=redact)
        self.console = Console(file=stream, force_terminal=True, highlight=False, soft_wrap=False)
        self.live = Live(self, console=self.console, refresh_per_second=refresh_per_second, transient=False,
                         redirect_stdout=False, redirect_stderr=False, auto_refresh=True)
        self._started = False

    def __enter__(self) -> RichView:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _start(self) -> None:
        if not self._started:
            self._started = True
            self.live.start()

    def _stop(self) -> None:
        if self._started:
            self._started = False
            with contextlib.suppress(Exception):
                self.live.refresh()
                self.live.stop()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Stop redrawing while the operator answers a prompt."""
        was = self._started
        self._stop()
        try:
            yield
        finally:
            if was:
                self._start()

    def log(self, line: str) -> None:
        with contextlib.suppress(Exception):
            if self._started:
                self.console.print(self.redact(line), markup=False, highlight=False, overflow="fold")
            else:
                self._write([line])

    def on_event(self, record: dict[str, Any]) -> None:
        _safe(self.state.on_event)(record)
        if record.get("event") == "run.started":
            _safe(self._start)()

    def on_poll(self, label: str, result: Any) -> None:
        _safe(self.state.on_poll)(label, result)

    def __rich__(self) -> Any:
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        snap = self.state.snapshot()
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row("phase", Text(self.redact(f"{snap.phase}  {snap.step}".strip())))
        budget = Text(self.redact(snap.budget()), style="bold red" if snap.exceeded else
                      "green" if snap.recovered else "")
        grid.add_row("budget", budget)
        if snap.workaround:
            grid.add_row("workaround", Text(self.redact(snap.workaround), style="yellow"))
        for label, check in snap.checks.items():
            mark = Text("ok  ", style="green") if check.ok else Text("FAIL", style="bold red")
            grid.add_row("check", mark + Text(self.redact(f" {label}: {check.detail}")))
        if snap.canaries:
            grid.add_row("canaries", Text(snap.canaries))
        banner = snap.banner()
        if banner:
            grid.add_row("", Text(f" {banner} ", style="bold white on red"))
        if snap.ending:
            grid.add_row("ending", Text(self.redact(snap.ending)))
        title = f"drtool  {snap.drill}  [{snap.mode}]" if snap.drill else "drtool"
        return Panel(grid, title=Text(title), title_align="left", border_style="red" if snap.exceeded else "blue")


class JsonEvents:
    """`--events json`: every journal record as one JSON object per line on `stream`."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self._lock = threading.Lock()

    def emit(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False)
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()


def make_view(progress: str, stream: IO[str] | None = None, *,
              redact: Callable[[str], str] = lambda s: s) -> PlainView | None:
    """`auto`: rich on a terminal, plain lines otherwise; `off`: none."""
    stream = stream if stream is not None else sys.stderr
    if progress == "off":
        return None
    tty = bool(getattr(stream, "isatty", lambda: False)())
    if progress == "rich" or (progress == "auto" and tty):
        return RichView(stream, redact=redact)
    return PlainView(stream, redact=redact)


def fan_out(*callbacks: Callable[..., None] | None) -> Callable[..., None] | None:
    """One callback calling each given one (None when there is none)."""
    present = [c for c in callbacks if c is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]

    def call(*args: Any) -> None:
        for callback in present:
            callback(*args)

    return call
