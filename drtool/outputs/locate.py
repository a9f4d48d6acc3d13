"""Turn SCORECARD arguments (files, run folders, results folders, s3:// URLs) into runs.

A scorecard that sits in the store layout `<root>/<drill>/<run_id>/scorecard.json` brings
its store along: `population()` then reads every stored run of that drill, so the hash
chain is checked across the whole stored history, not only the files given.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from drtool.errors import AwsError, UsageError
from drtool.outputs.store import SCORECARD, LocalStore, RunRecord, S3Store, local_record, parse_s3_url


class Located:
    def __init__(self) -> None:
        self.given: list[RunRecord] = []
        self.stores: dict[str, LocalStore | S3Store] = {}

    def population(self) -> list[RunRecord]:
        """Given runs plus every stored run of the same drills, each location once."""
        seen: dict[str, RunRecord] = {r.location: r for r in self.given}
        drills_by_store: dict[str, set[str]] = {}
        for record in self.given:
            store = self._store_of(record)
            if store is not None and record.drill:
                drills_by_store.setdefault(store.url, set()).add(record.drill)
        for url, drills in drills_by_store.items():
            for drill in sorted(drills):
                for record in self.stores[url].list_runs(drill):
                    known = seen.get(record.location)
                    if known is not None:
                        known.in_store = True
                        known.findings[:] = sorted(set(known.findings) | set(record.findings))
                    else:
                        seen[record.location] = record
        return sorted(seen.values(), key=lambda r: r.location)

    def _store_of(self, record: RunRecord) -> LocalStore | S3Store | None:
        return self.stores.get(record.store_url or "")

    def add(self, record: RunRecord, store: LocalStore | S3Store | None) -> None:
        if store is not None and _in_layout(record):
            self.stores.setdefault(store.url, store)
            record.store_url = store.url
        else:
            record.store_url = None
        record.in_store = False
        self.given.append(record)


def _in_layout(record: RunRecord) -> bool:
    return record.scorecard is not None and record.store_key == (record.drill, record.run_id)


def locate(args: list[str], session_factory: Callable[[], Any] | None) -> Located:
    """Resolve every argument; bad input (missing file, not JSON, not a scorecard) is a
    UsageError (exit 2) naming the argument."""
    located = Located()
    for arg in args:
        if arg.startswith("s3://"):
            _locate_s3(arg, session_factory, located)
        else:
            _locate_local(Path(arg), located)
    if not located.given:
        raise UsageError("no scorecard given")
    return located


def _locate_local(path: Path, located: Located) -> None:
    if path.is_dir():
        files = [path / SCORECARD] if (path / SCORECARD).is_file() else sorted(path.rglob(SCORECARD))
        if not files:
            raise UsageError(f"{path}: no {SCORECARD} in this folder or below it")
    elif path.is_file():
        files = [path]
    else:
        raise UsageError(f"{path}: no such file or folder")
    for file in files:
        record = local_record(file)
        if record.error:
            raise UsageError(record.error)
        located.add(record, LocalStore(file.parent.parent.parent))


def _locate_s3(url: str, session_factory: Callable[[], Any] | None, located: Located) -> None:
    if session_factory is None:
        raise UsageError(f"{url}: reading S3 needs AWS credentials")
    bucket, key = parse_s3_url(url)
    if key.endswith(".json"):
        keys = [key]
    else:
        probe = S3Store(bucket, "", session_factory)
        prefix = key.rstrip("/") + "/" if key else ""
        versions, deleted = probe.objects(prefix)
        keys = sorted(k for k in versions if k.split("/")[-1] == SCORECARD and k not in deleted)
        if not keys:
            raise UsageError(f"{url}: no {SCORECARD} under this prefix")
    for one in keys:
        parts = one.split("/")
        root = "/".join(parts[:-3])
        store = S3Store(bucket, root, session_factory)
        try:
            data = store.read(one)
        except AwsError as exc:
            if exc.code in ("NoSuchKey", "404", "NoSuchBucket"):
                raise UsageError(f"s3://{bucket}/{one}: no such object ({exc.code})") from None
            raise
        folder = "/".join(parts[:-1])
        located.add(_s3_record(store, bucket, folder, one, data, parts), store)


def _s3_record(store: S3Store, bucket: str, folder: str, key: str, data: bytes, parts: list[str]) -> RunRecord:
    from drtool.outputs.store import parse_scorecard

    location = f"s3://{bucket}/{key}"
    scorecard, error = parse_scorecard(data, location)
    if error:
        raise UsageError(error)
    versions, deleted = store.objects(folder + "/")
    names = sorted(k[len(folder) + 1:] for k in versions if "/" not in k[len(folder) + 1:] and k not in deleted)
    whole = S3Store(bucket, "", store._session_factory)
    return RunRecord(location=location, scorecard=scorecard, error=None, files=names,
                     read_file=lambda name: whole.read(f"{folder}/{name}"),
                     write_file=lambda name, body: whole.put(f"{folder}/{name}", body).location,
                     store_key=(parts[-3], parts[-2]) if len(parts) >= 3 else None)
