"""The run journal: `journal.jsonl`, one JSON event per line, each flushed as written.

Every record that protects or settles a change (`change.*`, `undo.*`, `follow_up`, run
start and end, manual acknowledgements, errors) is also fsynced before `write` returns;
pure observations (`OBSERVATIONS`: step boundaries, resolved targets, fault, impact,
recovery, posture, RPO) are made durable by the next fsync (fsync covers the whole file)
or on close. They survive a killed process either way (they are flushed to the OS); only
an OS crash can lose the last observations, never an intent.

The journal is the truth: the scorecard and `drtool rollback` are folded from it. A
change is journaled as `change.intent` (with its undo) *before* the AWS call and as
`change.done` / `change.failed` after. Readers tolerate a torn last line (SIGKILL).

Hash chain: every line carries `prev`, the sha256 of the previous line's exact bytes
(without its newline; the first line's `prev` is `genesis_digest(run_id)`), and `sha256`,
its own digest (so an edit of the last line shows too). Appending to
an existing journal (as `drtool rollback` does) continues the chain. `verify_journal`
checks the chain, seq continuity and that every line belongs to the run of `run.started`.
An unsigned chain proves the lines are consistent with each other, not who wrote them:
someone with write access can rewrite the whole file. The scorecard records the head
digest (`integrity.journal_sha256`), so a signed scorecard pins the journal too.

Secrets: every string field is passed through `drtool.redact` before it is written (the
secret values given to the journal, URL userinfo and URL query values become `***`).

Subscribers (`Journal.subscribe`, or `observing(...)` for every journal opened while it is
active, e.g. inside `drtool rollback`) see each record dict once it is in the file, in seq
order: the live view and `--events json` follow a drill this way. A subscriber that raises
is dropped (and said once on stderr): it can never stop a drill or its rollback.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from drtool.redact import redact, remember
from drtool.timing import Clock, rfc3339

JOURNAL_NAME = "journal.jsonl"
GENESIS_PREFIX = "drtool.journal/v1 genesis "

Subscriber = Callable[[dict[str, Any]], None]
OBSERVATIONS = frozenset({"step.started", "step.finished", "targets.resolved", "fault", "impact", "recovered",
                          "posture", "note", "rpo.measured", "workaround"})
_OBSERVERS: list[Subscriber] = []     # subscribed to every Journal opened while `observing`


@contextmanager
def observing(callback: Subscriber) -> Iterator[None]:
    """Subscribe `callback` to every Journal opened inside this block (the rollback
    command opens its journal deep in the library)."""
    _OBSERVERS.append(callback)
    try:
        yield
    finally:
        _OBSERVERS.remove(callback)


def genesis_digest(run_id: str) -> str:
    """`prev` of a run's first line: binds the chain to its run id."""
    return hashlib.sha256((GENESIS_PREFIX + run_id).encode("utf-8")).hexdigest()


def record_digest(record: dict[str, Any]) -> str:
    """A line's own digest: sha256 of its JSON (sorted keys) without the `sha256` field.
    With it an edit of the *last* line shows too (no later `prev` covers that one)."""
    body = {k: v for k, v in record.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def line_digest(line: str | bytes) -> str:
    data = line.encode("utf-8") if isinstance(line, str) else line
    return hashlib.sha256(data.rstrip(b"\r\n")).hexdigest()


class Journal:
    """Append-only event writer. Thread-safe (the canary writer journals too)."""

    def __init__(self, path: Path, clock: Clock,
                 mirror: Callable[[str], None] | None = None, secrets: Iterable[str] = ()) -> None:
        """`mirror(line)` sees every line once it is in the file (e.g. a copy in the results
        store, so a runner that dies with its disk still leaves its journal behind).
        `secrets` are values masked as `***` wherever they appear (see `add_secrets`)."""
        self.path = Path(path)
        self._mirror = mirror
        self._subscribers: list[Subscriber] = list(_OBSERVERS)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self.add_secrets(secrets)
        lines = _complete_lines(self.path) if self.path.exists() else []
        self._seq = 0
        self._prev: str | None = None
        self._run_id: str | None = None
        for raw in lines:
            try:
                record = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                self._seq = max(self._seq, int(record.get("seq", 0) or 0))
                if record.get("event") == "run.started" and self._run_id is None:
                    self._run_id = str(record.get("run_id"))
            self._prev = line_digest(raw)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
        if self.path.stat().st_size and not self.path.read_bytes().endswith(b"\n"):
            self._file.write("\n")  # a torn last line (crash) must not swallow the next event

    def add_secrets(self, values: Iterable[Any]) -> None:
        """Mask these values from now on (in this journal and on the terminal)."""
        values = [str(v) for v in values if v is not None and str(v)]
        self._secrets.update(values)
        remember(values)

    def subscribe(self, callback: Subscriber) -> None:
        """Call `callback(record)` with every record written from now on, once it is in the file."""
        with self._lock:
            self._subscribers.append(callback)

    def _notify(self, record: dict[str, Any]) -> None:
        for callback in list(self._subscribers):
            try:
                callback(dict(record))
            except Exception as exc:  # noqa: BLE001 - a broken viewer (closed pipe) never stops a drill
                self._subscribers.remove(callback)
                with suppress(Exception):             # stderr gone too: nothing left to tell
                    sys.stderr.write(f"warning: journal subscriber dropped: {type(exc).__name__}: {exc}\n")

    @property
    def head(self) -> str | None:
        """sha256 of the last line written (the chain head), None while empty."""
        return self._prev

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            t = fields.pop("t", None)
            t = self._clock.now() if t is None else t
            fields = redact(json.loads(json.dumps(fields, default=str)), self._secrets)
            if event == "run.started" and self._prev is None:
                self._run_id = str(fields.get("run_id"))
            prev = self._prev or genesis_digest(self._run_id or "")
            record = {"seq": self._seq, "event": event, "t": t, "at": rfc3339(t), **fields, "prev": prev}
            record["sha256"] = record_digest(record)
            line = json.dumps(record, sort_keys=True, default=str)
            self._file.write(line + "\n")
            self._file.flush()
            if event not in OBSERVATIONS:
                os.fsync(self._file.fileno())
            self._prev = line_digest(line)
            if self._mirror is not None:
                self._mirror(line)
            self._notify(record)
            return record

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()


def _complete_lines(path: Path) -> list[str]:
    """Non-empty lines; a last line without its newline (torn) is left out only if it is not JSON."""
    data = Path(path).read_bytes().decode("utf-8", errors="replace")
    lines = data.split("\n")
    out = [line.rstrip("\r") for line in lines[:-1] if line.strip()]
    tail = lines[-1].strip()
    if tail:
        try:
            json.loads(tail)
            out.append(lines[-1].rstrip("\r"))
        except json.JSONDecodeError:
            pass
    return out


def read_journal(path: Path) -> list[dict[str, Any]]:
    """All complete events; a torn final line (crash mid-write) is skipped."""
    events: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


def journal_head(path: Path) -> str | None:
    """sha256 of the journal's last complete line (what the scorecard records)."""
    lines = _complete_lines(path) if Path(path).exists() else []
    return line_digest(lines[-1]) if lines else None


def chain_digests(data: bytes) -> list[str]:
    """The digest of every JSON line, in order (the heads the chain passed through)."""
    out = []
    for raw in data.decode("utf-8", errors="replace").split("\n"):
        raw = raw.rstrip("\r")
        if raw.strip():
            try:
                json.loads(raw)
            except json.JSONDecodeError:
                continue
            out.append(line_digest(raw))
    return out


def is_chained(data: bytes) -> bool:
    """True when the journal carries chain digests (written by drtool with hash chaining)."""
    return b'"prev":' in data


def verify_journal(path: Path) -> list[str]:
    """Problems with a journal's hash chain, seq order and run identity; [] when intact."""
    try:
        return journal_problems(Path(path).read_bytes())
    except OSError as exc:
        return [f"{path}: unreadable ({exc})"]


def journal_problems(data: bytes) -> list[str]:
    """`verify_journal` over the journal's bytes.

    A torn line (crash mid-write, later followed by lines `drtool rollback` appended) is
    skipped: the next line's `prev` chains to the line before it, so nothing is lost."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [f"not UTF-8 ({exc})"]
    raw_lines = text.split("\n")
    problems: list[str] = []
    prev: str | None = None
    run_id: str | None = None
    seq = 0
    for number, raw in enumerate(raw_lines, start=1):
        raw = raw.rstrip("\r")
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if not isinstance(record, dict):
            problems.append(f"line {number}: not a journal event")
            continue
        if prev is None:
            if record.get("event") != "run.started" or not isinstance(record.get("run_id"), str):
                problems.append(f"line {number}: the journal does not start with run.started")
                return problems
            run_id = record["run_id"]
            expected = genesis_digest(run_id)
        else:
            expected = prev
        if "prev" not in record or "sha256" not in record:
            problems.append(f"line {number}: no chain digests (prev, sha256); not written by this drtool, or edited")
        elif record.get("sha256") != record_digest(record):
            problems.append(f"line {number} ({record.get('event')}): its content does not match its sha256 (edited)")
        elif record.get("prev") != expected:
            problems.append(f"line {number} ({record.get('event')}): chain broken: prev does not match "
                            f"the digest of the line before (a line was edited, inserted or removed)")
        if record.get("seq") != seq + 1:
            problems.append(f"line {number}: seq {record.get('seq')!r}, expected {seq + 1}")
        seq = record["seq"] if isinstance(record.get("seq"), int) else seq + 1
        if record.get("event") == "run.started" and prev is not None:
            problems.append(f"line {number}: a second run.started")
        if "run_id" in record and record.get("run_id") != run_id:
            problems.append(f"line {number}: belongs to run {record.get('run_id')!r}, not {run_id!r}")
        prev = line_digest(raw)
    if prev is None:
        problems.append("empty journal")
    return problems
