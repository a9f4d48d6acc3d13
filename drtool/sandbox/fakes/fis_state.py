"""The AWS FIS fake's state machine: experiment templates and experiments on a clock.

moto (5.2.x) stores FIS templates and experiments but never runs them: an experiment
stays `pending` and changes nothing. Here an experiment moves through the states the
FIS API documents (API_ExperimentState: pending | initiating | running | completed |
stopping | stopped | failed | cancelled; API_ExperimentActionState adds skipped):

    pending --(INITIATE_S)--> initiating --(INITIATE_S)--> running --(all actions done)--> completed
    any of pending/initiating/running --StopExperiment--> stopping --> stopped
    an action whose effect fails -> the experiment fails (the other actions are stopped)

An action starts when the experiment runs, or once every action in its `startAfter` has
completed (https://docs.aws.amazon.com/fis/latest/userguide/action-sequence.html), and
completes after its `duration` parameter (ISO 8601, e.g. PT5M) or at once when it has
none; its effect is reverted then, or when the experiment stops. The clock is the
server's: `settle()` advances everything due, and `Ticker` calls it on a timer, so a
fault ends on time even when the client that started it is gone.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from drtool.sandbox.fakes.backup_state import BackupError
from drtool.timing import Clock

INITIATE_S = 0.5   # pending -> initiating -> running, each step
LIVE = ("pending", "initiating", "running")
FINAL = ("completed", "stopped", "failed", "cancelled")
_ISO = re.compile(r"P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?")


class FisError(BackupError):
    """An FIS error: code, message, HTTP status (FIS API Reference, Common Errors)."""


def iso_seconds(text: str) -> float:
    """Seconds of an ISO 8601 duration as FIS takes it (`PT5M`, `PT1H30M`, `PT90S`)."""
    found = _ISO.fullmatch(text or "")
    if not found or text in ("P", "PT") or not any(found.groups()):
        raise FisError("ValidationException", f"duration {text!r} is not an ISO 8601 duration such as PT5M")
    days, hours, minutes, seconds = (float(g or 0) for g in found.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


@dataclass
class Template:
    id: str
    arn: str
    region: str
    body: dict[str, Any]
    created_at: float
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionRun:
    name: str
    spec: dict[str, Any]
    status: str = "pending"
    reason: str = ""
    started_at: float | None = None
    ends_at: float | None = None
    ended_at: float | None = None
    undo: Any = None   # callable that reverts the effect, or None


@dataclass
class Experiment:
    id: str
    arn: str
    region: str
    template: Template
    created_at: float
    tags: dict[str, str]
    status: str = "pending"
    reason: str = "Experiment is pending."
    started_at: float | None = None
    ended_at: float | None = None
    actions: dict[str, ActionRun] = field(default_factory=dict)


class FisState:
    """Templates and experiments of one account; `effects` applies and reverts the faults."""

    def __init__(self, clock: Clock, account: str, effects: Any) -> None:
        self.clock = clock
        self.account = account
        self.effects = effects
        self.templates: dict[str, Template] = {}
        self.experiments: dict[str, Experiment] = {}
        self._tokens: dict[tuple[str, str], str] = {}
        self._lock = threading.RLock()

    def _id(self, prefix: str) -> str:
        return prefix + uuid.uuid4().hex[:14].upper()

    def settle(self) -> None:
        """Advance every experiment to where the clock says it is."""
        with self._lock:
            now = self.clock.now()
            for exp in self.experiments.values():
                self._advance(exp, now)

    def _advance(self, exp: Experiment, now: float) -> None:
        if exp.status == "pending" and now >= exp.created_at + INITIATE_S:
            exp.status, exp.reason = "initiating", "Experiment is initiating."
        if exp.status == "initiating" and now >= exp.created_at + 2 * INITIATE_S:
            exp.status, exp.reason, exp.started_at = "running", "Experiment is running.", now
        if exp.status == "stopping":
            self._end_all(exp, "stopped", "Action was stopped.")
            exp.status, exp.reason, exp.ended_at = "stopped", "Experiment stopped by user.", now
        if exp.status != "running":
            return
        for run in exp.actions.values():
            if run.status == "running" and run.ends_at is not None and now >= run.ends_at:
                self._end(run, "completed", "Action completed.", now)
        for run in exp.actions.values():
            after = run.spec.get("startAfter") or []
            if run.status == "pending" and all(exp.actions[a].status == "completed" for a in after if a in exp.actions):
                self._start(exp, run, now)
                if exp.status == "failed":
                    return
        if all(r.status in ("completed", "skipped") for r in exp.actions.values()):
            exp.status, exp.reason, exp.ended_at = "completed", "Experiment completed.", now

    def _start(self, exp: Experiment, run: ActionRun, now: float) -> None:
        params = run.spec.get("parameters") or {}
        try:
            duration = iso_seconds(params["duration"]) if params.get("duration") else None
            if run.spec["actionId"] == "aws:ec2:stop-instances" and params.get("startInstancesAfterDuration"):
                duration = iso_seconds(params["startInstancesAfterDuration"])
            targets = self.effects.resolve(exp, run.spec)
            run.undo = self.effects.apply(exp, run.spec, targets, now + (duration or 0.0))
        except Exception as exc:  # noqa: BLE001 - any failure of the effect fails the experiment, as in FIS
            run.status, run.reason, run.ended_at = "failed", f"{type(exc).__name__}: {exc}", now
            self._end_all(exp, "cancelled", "Experiment failed.")
            exp.status, exp.reason, exp.ended_at = "failed", f"Action {run.name} failed: {run.reason}", now
            return
        run.status, run.reason, run.started_at = "running", "Action is running.", now
        run.ends_at = now + duration if duration is not None else now
        if duration is None:
            self._end(run, "completed", "Action completed.", now)

    def _end(self, run: ActionRun, status: str, reason: str, now: float) -> None:
        if run.undo is not None:
            try:
                run.undo()
            except Exception as exc:  # noqa: BLE001 - the fault's end is recorded as FIS records it
                reason = f"{reason} Reverting the fault failed: {type(exc).__name__}: {exc}"
            run.undo = None
        run.status, run.reason, run.ended_at = status, reason, now

    def _end_all(self, exp: Experiment, pending_status: str, reason: str) -> None:
        now = self.clock.now()
        for run in exp.actions.values():
            if run.status == "running":
                self._end(run, "stopped", reason, now)
            elif run.status == "pending":
                run.status, run.reason = pending_status, reason

    def stop_all(self) -> None:
        """Revert every running effect (the sandbox is shutting down)."""
        with self._lock:
            for exp in self.experiments.values():
                if exp.status in LIVE:
                    exp.status = "stopping"
                    self._advance(exp, self.clock.now())


class Ticker:
    """Calls `settle()` every `interval` seconds in a daemon thread (the service's own clock)."""

    def __init__(self, state: FisState, interval: float = 0.2) -> None:
        self.state, self.interval = state, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drtool-sandbox-fis", daemon=True)

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.state.settle()
            except Exception:  # noqa: BLE001, S112 - the ticker must survive a bad step
                continue
