"""The dead man's switch: `drtool rollback --expired` rolls back runs whose runner died.

Scans the results store for run journals (`<results>/<drill>/<run>/journal.jsonl`
locally; the live mirrors `s3://.../.live/<drill>/<run>/journal.jsonl` on S3). A run is
swept when its expiry (`expires_at` in run.started, else start + time limit + margin)
has passed, no unexpired lock of it remains, and it either never finished or still has
undos pending. Its undos are replayed by `drtool.rollback.rollback_run` (idempotent), its
scorecard is rewritten, and (S3) the appended journal and scorecard are published. A
second sweep finds nothing to do. Changes an undo left as found (someone changed them
since) are reported, never retried.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drtool.errors import LEFT_AS_FOUND
from drtool.expiry import DEFAULT_MARGIN_S, expires_at, untag_undone
from drtool.journal import JOURNAL_NAME, read_journal
from drtool.locks import backend_for, live_locks, parse_lock
from drtool.outputs.mirror import LIVE_DIR
from drtool.rollback import pending_undos
from drtool.timing import rfc3339


@dataclass
class Candidate:
    drill: str
    run_id: str
    location: str                    # path or s3:// URL of the journal
    fetch: Callable[[Path], Path]    # copy the journal into a folder, return its local path
    upload: Callable[[Path], None]   # publish the run folder after the rollback


@dataclass
class Swept:
    drill: str
    run_id: str
    location: str
    outcome: str                     # "rolled back", "incomplete", "finished", "needs a person"
    undone: int = 0
    remaining: list[str] = field(default_factory=list)
    expired_at: float | None = None


def run_expiry(started: dict[str, Any]) -> float:
    """When a run counts as abandoned: journaled `expires_at`, else start + limit + margin."""
    if started.get("expires_at") is not None:
        return float(started["expires_at"])
    return expires_at(float(started.get("t") or 0.0), started.get("time_limit_s"), DEFAULT_MARGIN_S)


def candidates(store: Any) -> list[Candidate]:
    """Every run journal in the store."""
    if hasattr(store, "bucket"):
        return _s3_candidates(store)
    found = []
    for path in sorted(Path(store.root).glob(f"*/*/{JOURNAL_NAME}")):
        if path.parent.name.startswith(".") or path.parent.parent.name.startswith("."):
            continue
        found.append(Candidate(path.parent.parent.name, path.parent.name, str(path),
                               fetch=_fixed(path), upload=_nothing))
    return found


def _fixed(path: Path) -> Callable[[Path], Path]:
    """A local journal is rolled back in place."""
    return lambda _folder: path


def _nothing(_run_dir: Path) -> None:
    """A local run folder is already in the store."""


def _s3_candidates(store: Any) -> list[Candidate]:
    prefix = store.key(LIVE_DIR) + "/"
    found = []
    for page in store.client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            parts = obj["Key"][len(prefix):].split("/")
            if len(parts) != 3 or parts[2] != JOURNAL_NAME:
                continue
            drill, run_id, key = parts[0], parts[1], obj["Key"]

            def fetch(folder: Path, key: str = key, drill: str = drill, run_id: str = run_id) -> Path:
                path = folder / drill / run_id / JOURNAL_NAME
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(store.read(key))
                return path

            def upload(run_dir: Path, key: str = key, drill: str = drill, run_id: str = run_id) -> None:
                store._call("PutObject", "put_object", Bucket=store.bucket, Key=key,
                            Body=(run_dir / JOURNAL_NAME).read_bytes(), ContentType="application/x-ndjson")
                store.publish(run_dir, drill, run_id)

            found.append(Candidate(drill, run_id, f"s3://{store.bucket}/{key}", fetch, upload))
    return found


def sweep(store: Any, session_for: Callable[[dict[str, Any]], Any], *, now: float,
          clock: Any = None, report: Callable[[str], None] = lambda _l: None,
          approve: Callable[[Swept], bool] | None = None) -> list[Swept]:
    """Roll back every expired, abandoned run in `store`; return what was found and done.

    `session_for(run_started_event)` gives the AWS session to undo with (the run's
    profile/role/region). `approve(item)` may veto a run (a confirmation prompt)."""
    from drtool.errors import DrToolError
    from drtool.failback_replay import left_to_a_person
    from drtool.rollback import rollback_run

    held = live_locks(store, now)
    results: list[Swept] = []
    with tempfile.TemporaryDirectory(prefix="drtool-sweep-") as tmp:
        for cand in candidates(store):
            path = cand.fetch(Path(tmp))
            altered = _altered(path)
            if altered:
                results.append(Swept(cand.drill, cand.run_id, cand.location, "refused: altered journal",
                                     remaining=[altered]))
                continue
            events = read_journal(path)
            started = next((e for e in events if e["event"] == "run.started"), None)
            if started is None:
                continue
            pending = pending_undos(events)
            actionable = [p for p in pending if not p.reason.startswith(LEFT_AS_FOUND)]
            finished = any(e["event"] == "run.finished" for e in events)
            expiry = run_expiry(started)
            blocked = left_to_a_person(events) if finished else None
            if (finished and (not actionable or blocked)) or expiry > now or cand.run_id in held:
                if finished and pending and (not actionable or blocked) and expiry <= now:
                    results.append(Swept(cand.drill, cand.run_id, cand.location, "needs a person",
                                         remaining=[p.summary for p in pending], expired_at=expiry))
                continue
            item = Swept(cand.drill, cand.run_id, cand.location, "rolled back", len(actionable), expired_at=expiry)
            if approve is not None and not approve(item):
                continue
            report(f"run {cand.run_id} ({cand.drill}) expired at {rfc3339(expiry)}: "
                   f"{len(actionable)} change(s) to undo")
            session = session_for(started)
            last_seq = events[-1]["seq"]
            try:
                remaining, _card = rollback_run(path, session, clock=clock, report=report,
                                                previous_sha256=store.previous_integrity)
            except DrToolError as exc:        # e.g. a drtool rollback of this run is under way
                results.append(Swept(cand.drill, cand.run_id, cand.location, f"skipped: {exc}",
                                     remaining=[p.summary for p in pending], expired_at=expiry))
                continue
            untag_undone(read_journal(path), session, started, clock)
            cand.upload(path.parent)
            _clear_locks(store, cand.run_id, now)
            item.remaining = remaining
            item.undone = sum(1 for e in read_journal(path) if e["event"] == "undo.done" and e["seq"] > last_seq)
            item.outcome = "incomplete" if remaining else ("rolled back" if actionable else "finished")
            results.append(item)
    return results


def _altered(path: Path) -> str | None:
    """Why a journal must not be obeyed (a broken hash chain), or None. A sweeper acts
    unattended, so an unchained (pre-chain) journal is left to `drtool rollback`."""
    from drtool.journal import is_chained, verify_journal

    if not is_chained(path.read_bytes()):
        return f"{path.name} carries no hash chain; roll it back by hand with drtool rollback --allow-unchained"
    problems = verify_journal(path)
    return f"journal altered: {'; '.join(problems[:3])}" if problems else None


def _clear_locks(store: Any, run_id: str, now: float) -> None:
    """Delete the swept run's expired locks (they would be taken over anyway)."""
    backend = backend_for(store)
    for name in backend.names():
        found = backend.read(name)
        if found is None:
            continue
        doc = parse_lock(found[0])
        if doc.get("run_id") == run_id and float(doc.get("expires_at") or 0) <= now:
            backend.delete(name, found[1])


def describe(results: list[Swept]) -> list[str]:
    """One line per swept run (for the command's output)."""
    lines = []
    for r in results:
        head = f"{r.outcome:<14} {r.drill}/{r.run_id} (expired {rfc3339(r.expired_at)})"
        lines.append(head + (f": {r.undone} change(s) undone" if r.undone else ""))
        lines += [f"    still changed: {item}" for item in r.remaining]
    return lines


def sweep_command(results: str, *, yes: bool, profile: str | None, region: str | None,
                  now: float | None = None) -> int:
    """`drtool rollback --expired --results DIR|s3://...`: exit 0 when nothing is left
    changed, 5 when something remains (RollbackIncomplete)."""
    import sys
    import time

    import click

    from drtool.aws.session import AwsSession
    from drtool.cli.execute import report
    from drtool.cli.rollback import external_id
    from drtool.errors import GuardrailRefusal, RollbackIncomplete
    from drtool.outputs.store import open_store, session_factory_for

    store = open_store(results, session_factory_for(profile, region))
    sessions: dict[tuple[Any, ...], Any] = {}

    def session_for(started: dict[str, Any]) -> Any:
        aws = started.get("aws") or {}
        key = (profile or aws.get("profile"), region or aws.get("default_region"), aws.get("role_arn"),
               external_id(started), started.get("run_id"))
        if key not in sessions:
            sessions[key] = AwsSession(profile=key[0], region=key[1], role_arn=key[2], external_id=key[3],
                                       run_id=key[4])
        return sessions[key]

    def approve(item: Swept) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise GuardrailRefusal("confirmation", "stdin is not a terminal and --yes was not given",
                                   "pass --yes (a scheduler always should); nothing was changed")
        return click.confirm(f"Run {item.drill}/{item.run_id} expired at {rfc3339(item.expired_at)} with "
                             f"{item.undone} change(s) still in place. Undo them now?", default=False)

    swept = sweep(store, session_for, now=time.time() if now is None else now, report=report, approve=approve)
    for line in describe(swept) or [f"nothing expired to roll back in {store.url}"]:
        click.echo(line)
    left = [f"{r.drill}/{r.run_id}: {item}" for r in swept for item in r.remaining]
    if left:
        raise RollbackIncomplete(left)
    return 0
