"""The types a drill run is described with: its options, its result, how it stops."""

from __future__ import annotations

import getpass
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drtool.timing import Clock, SystemClock

DEFAULT_WAIT_TIMEOUT = 600.0
# The sandbox runs AWS's clock this much faster (issue 11's `time_scale`): a drill's own
# AWS-sized windows (`impact.within`, `recovery.stable_for`) shrink by the same factor so
# a sandbox rehearsal keeps the live drill's shape in seconds instead of minutes.
SANDBOX_TIME_SCALE = 1 / 30


class DrillStop(Exception):
    """Ends the phases early with a status: `failed` (recovery not achieved, exit 1) or
    `aborted` (stop condition, time limit, a step that could not run: exit 3)."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class RunOptions:
    results: Path = Path("drill-results")
    yes: bool = False
    interactive: bool = False
    assume_manual: bool = False
    mode: str = "live"
    clock: Clock = field(default_factory=SystemClock)
    seed: int | None = None
    confirm: Callable[[str], bool] | None = None
    ask_manual: Callable[[str], str | None] | None = None
    report: Callable[[str], None] = lambda _line: None
    run_id: str | None = None
    previous_sha256: Callable[[str], Any] | None = None   # store.previous_integrity (or _digest)
    time_scale: float | None = None      # None: 1 live, SANDBOX_TIME_SCALE in the sandbox
    store: Any = None                    # results store for locks and the journal mirror (default: local)
    on_event: Callable[[dict[str, Any]], None] | None = None   # every journal record (live view, --events)
    on_poll: Callable[[str, Any], None] | None = None           # (check label, ProbeResult) after each poll

    @property
    def scale(self) -> float:
        if self.time_scale is not None:
            return self.time_scale
        return SANDBOX_TIME_SCALE if self.mode == "sandbox" else 1.0


@dataclass
class RunResult:
    scorecard: dict[str, Any]
    run_dir: Path
    exit_code: int


def new_run_id(clock: Clock) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(clock.now())) + "-" + secrets.token_hex(3)


def error_text(exc: BaseException) -> str:
    """One line for any exception: the AWS operation and error code where there is one."""
    from drtool.aws.errors import translate

    return translate(exc, getattr(exc, "operation_name", None) or "AWS call").message   # never raises


def operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return "unknown"


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
