"""One drill at a time per target: locks in the results store.

A run takes one lock per target (the resolved resources of its plan) before it changes
anything, and releases them at the end. Each lock is a small JSON object
`{run_id, drill, expires_at, targets}` under `<results>/.locks/`:

- local folder: one file per target key, created atomically (written aside, then
  `os.link`ed into place, which fails if the name exists: O_CREAT|O_EXCL semantics with
  complete content);
- S3: one object per target key, written with `IfNoneMatch="*"` so that only one writer
  can create it (S3 User Guide, "Preventing object overwrites with conditional writes":
  412 Precondition Failed when the key exists, 409 ConditionalRequestConflict when a
  concurrent write wins).

A lock past its `expires_at` may be taken over (with a note): compare-and-swap on the
content read (local: rename aside and compare; S3: `IfMatch=<ETag>`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from drtool.errors import GuardrailRefusal
from drtool.timing import rfc3339

LOCK_DIR = ".locks"


class Backend(Protocol):
    def create(self, name: str, body: bytes) -> str | None: ...          # token, or None if it exists
    def read(self, name: str) -> tuple[bytes, str] | None: ...        # (content, token)
    def replace(self, name: str, body: bytes, token: str) -> str | None: ...
    def delete(self, name: str, token: str) -> None: ...
    def names(self) -> list[str]: ...


class LocalBackend:
    """Lock files in `<root>/.locks/`; the token is the file's content digest."""

    def __init__(self, root: Path) -> None:
        self.dir = Path(root) / LOCK_DIR

    def _aside(self, body: bytes) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".tmp-{secrets.token_hex(8)}"
        with open(tmp, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        return tmp

    def create(self, name: str, body: bytes) -> str | None:
        tmp = self._aside(body)
        try:
            os.link(tmp, self.dir / name)      # atomic; fails if the name exists
            return hashlib.sha256(body).hexdigest()
        except FileExistsError:
            return None
        finally:
            tmp.unlink(missing_ok=True)

    def read(self, name: str) -> tuple[bytes, str] | None:
        try:
            data = (self.dir / name).read_bytes()
        except FileNotFoundError:
            return None
        return data, hashlib.sha256(data).hexdigest()

    def replace(self, name: str, body: bytes, token: str) -> str | None:
        """Move the old lock aside (atomic), check it is the one we judged expired, then create."""
        moved = self.dir / f".old-{secrets.token_hex(8)}"
        try:
            os.rename(self.dir / name, moved)
        except FileNotFoundError:
            return self.create(name, body)
        try:
            if hashlib.sha256(moved.read_bytes()).hexdigest() != token:   # someone renewed it meanwhile
                with contextlib.suppress(FileExistsError):
                    os.link(moved, self.dir / name)
                return None
            return self.create(name, body)
        finally:
            moved.unlink(missing_ok=True)

    def delete(self, name: str, token: str) -> None:
        found = self.read(name)
        if found is not None and found[1] == token:
            (self.dir / name).unlink(missing_ok=True)

    def names(self) -> list[str]:
        return sorted(p.name for p in self.dir.glob("*.json")) if self.dir.is_dir() else []


class S3Backend:
    """Lock objects under `<prefix>/.locks/`; the token is the ETag."""

    _LOST = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")

    def __init__(self, store: Any) -> None:
        self.store = store

    def _key(self, name: str) -> str:
        return self.store.key(LOCK_DIR, name)

    def _put(self, name: str, body: bytes, **condition: str) -> str | None:
        from drtool.aws.errors import error_code, translate

        try:
            put = self.store.client.put_object(Bucket=self.store.bucket, Key=self._key(name), Body=body,
                                               ContentType="application/json", **condition)
        except Exception as exc:  # noqa: BLE001
            if error_code(exc) in self._LOST:
                return None
            raise translate(exc, "s3:PutObject", "lock") from exc
        return str(put["ETag"])

    def create(self, name: str, body: bytes) -> str | None:
        return self._put(name, body, IfNoneMatch="*")

    def read(self, name: str) -> tuple[bytes, str] | None:
        from drtool.aws.errors import error_code, translate

        try:
            got = self.store.client.get_object(Bucket=self.store.bucket, Key=self._key(name))
        except Exception as exc:  # noqa: BLE001
            if error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise translate(exc, "s3:GetObject", "lock") from exc
        return got["Body"].read(), got["ETag"]

    def replace(self, name: str, body: bytes, token: str) -> str | None:
        return self._put(name, body, IfMatch=token)

    def delete(self, name: str, token: str) -> None:
        """Delete after checking the ETag (a plain delete: conditional deletes are not
        assumed on general purpose buckets). A lock is only deleted by its holder."""
        from drtool.aws.errors import call_aws

        found = self.read(name)
        if found is not None and found[1] == token:
            call_aws(self.store.client.delete_object, "s3:DeleteObject", Bucket=self.store.bucket,
                     Key=self._key(name))

    def names(self) -> list[str]:
        prefix = self.store.key(LOCK_DIR) + "/"
        names = []
        for page in self.store.client.get_paginator("list_objects_v2").paginate(Bucket=self.store.bucket,
                                                                                 Prefix=prefix):
            names += [o["Key"][len(prefix):] for o in page.get("Contents", []) if o["Key"].endswith(".json")]
        return sorted(names)


def backend_for(store: Any) -> Backend:
    """The lock backend of a results store (LocalStore or S3Store)."""
    if hasattr(store, "bucket"):
        return S3Backend(store)
    return LocalBackend(Path(store.root))


def lock_name(target: str) -> str:
    return hashlib.sha256(target.encode()).hexdigest()[:40] + ".json"


def target_keys(plan: Any) -> list[str]:
    """The plan's targets and `with:`-named resources as `account/region/type/id` keys."""
    account = plan.account or "-"
    keys = {f"{account}/{r.region}/{r.type}/{r.id}"
            for resources in (*plan.targets.values(), *plan.touched.values()) for r in resources
            if not r.attrs.get("missing")}
    return sorted(keys)


@dataclass
class Lock:
    """The locks one run holds; `release()` is idempotent and never raises."""

    backend: Backend
    run_id: str
    expires_at: float
    held: dict[str, str] = field(default_factory=dict)   # lock name -> token
    notes: list[str] = field(default_factory=list)

    def release(self) -> list[str]:
        """Delete every lock still ours; return the problems (a lock left expires anyway)."""
        problems = []
        for name, token in list(self.held.items()):
            try:
                self.backend.delete(name, token)
            except Exception as exc:  # noqa: BLE001 - the lock expires with the run anyway
                problems.append(f"lock {name} not released: {getattr(exc, 'message', exc)}")
            self.held.pop(name, None)
        return problems


def parse_lock(data: bytes) -> dict[str, Any]:
    """A lock's content; unreadable content counts as expired (a torn write cannot block forever)."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"run_id": "?", "expires_at": 0.0, "targets": []}
    return doc if isinstance(doc, dict) else {"run_id": "?", "expires_at": 0.0, "targets": []}


def acquire(store: Any, run_id: str, targets: Iterable[str], expires_at: float, *, drill: str = "",
            now: Callable[[], float] = time.time, backend: Backend | None = None) -> Lock:
    """Take a lock on every target or none; raise GuardrailRefusal (exit 4) naming the holder."""
    backend = backend or backend_for(store)
    keys = sorted(set(targets))
    body = json.dumps({"run_id": run_id, "drill": drill, "expires_at": expires_at,
                       "expires": rfc3339(expires_at), "targets": keys}, sort_keys=True).encode()
    lock = Lock(backend, run_id, expires_at)
    try:
        for key in keys:
            _take(lock, backend, lock_name(key), key, body, now)
    except BaseException:
        lock.release()
        raise
    return lock


def _take(lock: Lock, backend: Backend, name: str, key: str, body: bytes, now: Callable[[], float]) -> None:
    for _attempt in range(3):
        token = backend.create(name, body)
        if token is not None:
            lock.held[name] = token
            return
        found = backend.read(name)
        if found is None:
            continue                                        # released meanwhile: try again
        holder = parse_lock(found[0])
        if holder.get("run_id") == lock.run_id:
            lock.held[name] = found[1]
            return
        if float(holder.get("expires_at") or 0) > now():
            raise GuardrailRefusal(
                "lock", f"run {holder.get('run_id')} (drill {holder.get('drill') or '?'}) holds {key} "
                        f"until {holder.get('expires') or rfc3339(float(holder['expires_at']))}",
                "one drill at a time per target: wait for that run to finish (or its lock to expire); "
                "nothing was changed")
        token = backend.replace(name, body, found[1])
        if token is not None:
            lock.notes.append(f"took over the expired lock of run {holder.get('run_id')} on {key}")
            lock.held[name] = token
            return
    raise GuardrailRefusal("lock", f"could not take the lock on {key} (it kept changing)",
                           "another run is starting on the same targets; nothing was changed")


def live_locks(store: Any, now: float, backend: Backend | None = None) -> dict[str, float]:
    """run id -> the latest expires_at among its locks that have not expired."""
    backend = backend or backend_for(store)
    held: dict[str, float] = {}
    for name in backend.names():
        found = backend.read(name)
        if found is None:
            continue
        doc = parse_lock(found[0])
        expires = float(doc.get("expires_at") or 0)
        if expires > now:
            run = str(doc.get("run_id"))
            held[run] = max(held.get(run, 0.0), expires)
    return held
