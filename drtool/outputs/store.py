"""Results store: `<root>/<drill>/<run_id>/{scorecard.json, journal.jsonl, ...}`.

`open_store(None | "./dir" | "s3://bucket/prefix", session_factory)` gives a LocalStore
(default ./drill-results) or an S3Store. The runner asks `previous_digest(drill)` before
sealing a scorecard and calls `publish(run_dir, drill, run_id)` when the run folder is
complete. On an S3 bucket with Object Lock, every object gets the bucket's default mode
(COMPLIANCE or GOVERNANCE; GOVERNANCE when the bucket names none) and a retain-until
date `retain_s` from publishing; retention is read back with head_object.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from drtool.errors import UsageError
from drtool.outputs.mirror import LIVE_DIR, MIRROR_EVERY_S, JournalMirror

DEFAULT_ROOT = Path("drill-results")
SCORECARD = "scorecard.json"
HEAD = "HEAD.json"                 # <root>/<drill>/HEAD.json: see drtool.outputs.head
_CONTENT_TYPES = {".json": "application/json", ".jsonl": "application/x-ndjson",
                  ".html": "text/html; charset=utf-8", ".md": "text/markdown; charset=utf-8",
                  ".xml": "application/xml"}


@dataclass
class RunRecord:
    """One run folder as read from a store or given on the command line."""

    location: str                                  # path or s3:// URL of scorecard.json
    scorecard: dict[str, Any] | None
    error: str | None                              # why the scorecard could not be read
    files: list[str]                               # names in the run folder
    read_file: Callable[[str], bytes]
    write_file: Callable[[str, bytes], str]        # returns the location written
    in_store: bool = False                         # read as part of a drill's whole stored population
    store_key: tuple[str, str] | None = None       # (drill, run_id) from the folder names
    store_url: str | None = None                   # the store it sits in (when in the layout)
    findings: list[str] = field(default_factory=list)  # store-level tampering (overwritten, deleted)

    @property
    def drill(self) -> str | None:
        run = (self.scorecard or {}).get("run")
        return run.get("drill") if isinstance(run, dict) else (self.store_key or (None, None))[0]

    @property
    def run_id(self) -> str | None:
        run = (self.scorecard or {}).get("run")
        return run.get("id") if isinstance(run, dict) else (self.store_key or (None, None))[1]


@dataclass(frozen=True)
class Published:
    location: str
    lock_mode: str | None = None
    retain_until: str | None = None
    problem: str | None = None


class Store(Protocol):
    url: str

    def list_runs(self, drill: str | None = None) -> list[RunRecord]: ...
    def list_scorecards(self, drill: str | None = None) -> list[dict[str, Any]]: ...
    def previous_digest(self, drill: str) -> str | None: ...
    def publish(self, run_dir: Path, drill: str, run_id: str) -> list[Published]: ...


def parse_scorecard(data: bytes, location: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{location}: not JSON ({exc})"
    if not isinstance(doc, dict) or not str(doc.get("schema", "")).startswith("drtool.scorecard/"):
        return None, f"{location}: not a drtool scorecard (no schema drtool.scorecard/v1)"
    return doc, None


def _safe_name(value: str, what: str) -> str:
    if not value or value in (".", "..") or "/" in value or "\\" in value:
        raise UsageError(f"{what} {value!r} cannot be used as a folder name in the results store")
    return value


def _newest_digest(scorecards: list[dict[str, Any]]) -> str | None:
    def started(sc: dict[str, Any]) -> str:
        return str((sc.get("run") or {}).get("started_at") or "")

    for sc in sorted(scorecards, key=started, reverse=True):
        digest = (sc.get("integrity") or {}).get("sha256")
        if digest:
            return str(digest)
    return None


class _Listing:
    def list_scorecards(self, drill: str | None = None) -> list[dict[str, Any]]:
        return [r.scorecard for r in self.list_runs(drill) if r.scorecard is not None]  # type: ignore[attr-defined]

    def previous_digest(self, drill: str) -> str | None:
        """integrity.sha256 of the newest (by run.started_at) scorecard of `drill`."""
        return _newest_digest([sc for sc in self.list_scorecards(drill)
                               if (sc.get("run") or {}).get("drill") == drill])

    def previous_integrity(self, drill: str) -> dict[str, Any] | None:
        """The newest scorecard's `integrity` block plus its `run_id`: what
        `drtool.integrity.seal` links the next run to."""
        cards = [sc for sc in self.list_scorecards(drill) if (sc.get("run") or {}).get("drill") == drill
                 and isinstance(sc.get("integrity"), dict) and (sc.get("integrity") or {}).get("sha256")]
        if not cards:
            return None
        newest = max(cards, key=lambda sc: str((sc.get("run") or {}).get("started_at") or ""))
        return {**newest["integrity"], "run_id": (newest.get("run") or {}).get("id")}


class LocalStore(_Listing):
    def __init__(self, root: Path = DEFAULT_ROOT) -> None:
        self.root = Path(root)
        self.url = str(self.root)

    def run_dir(self, drill: str, run_id: str) -> Path:
        return self.root / _safe_name(drill, "drill name") / _safe_name(run_id, "run id")

    def head_bytes(self, drill: str) -> bytes:
        """HEAD.json of `drill`; OSError when there is none."""
        return (self.root / _safe_name(drill, "drill name") / HEAD).read_bytes()

    def list_runs(self, drill: str | None = None) -> list[RunRecord]:
        pattern = f"{drill}/*/{SCORECARD}" if drill else f"*/*/{SCORECARD}"
        if drill is not None:
            _safe_name(drill, "drill name")
        return [local_record(path, in_store=True) for path in sorted(self.root.glob(pattern))]

    def journal_mirror(self, drill: str, run_id: str) -> JournalMirror:
        """A no-op: with a local results folder the journal is written in the store itself."""
        return JournalMirror(None)

    def publish(self, run_dir: Path, drill: str, run_id: str) -> list[Published]:
        target = self.run_dir(drill, run_id)
        if Path(run_dir).resolve() != target.resolve():
            shutil.copytree(run_dir, target, dirs_exist_ok=True)
        return [Published(str(p)) for p in sorted(target.rglob("*")) if p.is_file()]


def local_record(path: Path, in_store: bool = False) -> RunRecord:
    folder = path.parent
    scorecard, error = parse_scorecard(path.read_bytes(), str(path))

    def write(name: str, data: bytes) -> str:
        (folder / name).write_bytes(data)
        return str(folder / name)

    return RunRecord(location=str(path), scorecard=scorecard, error=error,
                     files=sorted(p.name for p in folder.iterdir() if p.is_file()),
                     read_file=lambda name: (folder / name).read_bytes(), write_file=write,
                     in_store=in_store, store_key=(folder.parent.name, folder.name))


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix")."""
    rest = url[len("s3://"):] if url.startswith("s3://") else ""
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise UsageError(f"{url!r} is not an S3 URL", "write it as s3://bucket/prefix")
    return bucket, key


class S3Store(_Listing):
    def __init__(self, bucket: str, prefix: str, session_factory: Callable[[], Any],
                 retain_s: float | None = None, clock: Callable[[], float] = time.time) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        self.retain_s = retain_s
        self._session_factory = session_factory
        self._clock = clock
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = s3_client(self._session_factory)
        return self._client

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def _call(self, operation: str, method: str, **kwargs: Any) -> Any:
        from drtool.aws.errors import call_aws

        return call_aws(getattr(self.client, method), f"s3:{operation}", **kwargs)

    def object_lock(self) -> tuple[bool, str | None]:
        """(Object Lock enabled, default retention mode or None)."""
        from drtool.aws.errors import error_code

        try:
            config = self.client.get_object_lock_configuration(Bucket=self.bucket)["ObjectLockConfiguration"]
        except Exception as exc:  # noqa: BLE001
            if error_code(exc) == "ObjectLockConfigurationNotFoundError":
                return False, None
            from drtool.aws.errors import translate

            raise translate(exc, "s3:GetObjectLockConfiguration") from exc
        mode = (config.get("Rule") or {}).get("DefaultRetention", {}).get("Mode")
        return config.get("ObjectLockEnabled") == "Enabled", mode

    def preflight(self) -> None:
        """Fail before a drill when the bucket is unreachable or `--retain` cannot be honoured."""
        self._call("HeadBucket", "head_bucket", Bucket=self.bucket)
        if self.retain_s and not self.object_lock()[0]:
            raise UsageError(f"--retain needs S3 Object Lock, and bucket {self.bucket} does not have it",
                             "create the bucket with Object Lock enabled, or drop --retain")

    def objects(self, prefix: str) -> tuple[dict[str, list[dict[str, Any]]], set[str]]:
        """key -> versions (newest first) and the keys whose latest version is a delete marker.
        Falls back to a plain listing where ListBucketVersions is not allowed."""
        from drtool.aws.errors import error_code

        versions: dict[str, list[dict[str, Any]]] = {}
        deleted: set[str] = set()
        try:
            for page in self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix):
                for v in page.get("Versions", []):
                    versions.setdefault(v["Key"], []).append(v)
                for marker in page.get("DeleteMarkers", []):
                    if marker.get("IsLatest"):
                        deleted.add(marker["Key"])
        except Exception as exc:  # noqa: BLE001
            if error_code(exc) not in ("AccessDenied", "NotImplemented"):
                from drtool.aws.errors import translate

                raise translate(exc, "s3:ListObjectVersions") from exc
            versions, deleted = {}, set()
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    versions[obj["Key"]] = [obj]
        return versions, deleted

    def list_runs(self, drill: str | None = None) -> list[RunRecord]:
        base = self.key(_safe_name(drill, "drill name")) + "/" if drill else (self.key() + "/" if self.prefix else "")
        versions, deleted = self.objects(base)
        runs: dict[tuple[str, str], dict[str, Any]] = {}
        for key in sorted(set(versions) | deleted):
            parts = key[len(self.key()) + 1 if self.prefix else 0:].split("/")
            if len(parts) != 3:
                continue
            run = runs.setdefault((parts[0], parts[1]), {"files": [], "findings": []})
            live = key not in deleted
            if live:
                run["files"].append(parts[2])
            else:
                run["findings"].append(f"s3://{self.bucket}/{key} was deleted (a delete marker hides it; "
                                       "earlier versions are retained)")
            etags = {v.get("ETag") for v in versions.get(key, [])}
            if live and len(etags) > 1:
                run["findings"].append(f"s3://{self.bucket}/{key} was overwritten: {len(versions[key])} "
                                       "versions with different content")
        return [self._record(d, r, info) for (d, r), info in sorted(runs.items())
                if SCORECARD in info["files"] or info["findings"]]

    def _record(self, drill: str, run_id: str, info: dict[str, Any]) -> RunRecord:
        folder = self.key(drill, run_id)
        location = f"s3://{self.bucket}/{folder}/{SCORECARD}"
        if SCORECARD in info["files"]:
            scorecard, error = parse_scorecard(self.read(f"{folder}/{SCORECARD}"), location)
        else:
            scorecard, error = None, f"{location}: missing"
        return RunRecord(location=location, scorecard=scorecard, error=error, files=sorted(info["files"]),
                         read_file=lambda name: self.read(f"{folder}/{name}"),
                         write_file=lambda name, data: self.put(f"{folder}/{name}", data).location,
                         in_store=True, store_key=(drill, run_id), findings=info["findings"])

    def read(self, key: str) -> bytes:
        return self._call("GetObject", "get_object", Bucket=self.bucket, Key=key)["Body"].read()

    def head_bytes(self, drill: str) -> bytes:
        """HEAD.json of `drill`; FileNotFoundError when there is none."""
        from drtool.errors import AwsError

        try:
            return self.read(self.key(_safe_name(drill, "drill name"), HEAD))
        except AwsError as exc:
            if exc.code in ("NoSuchKey", "404"):
                raise FileNotFoundError(HEAD) from None
            raise

    def put(self, key: str, data: bytes, lock: tuple[bool, str | None] | None = None) -> Published:
        """Upload one object; with Object Lock and `retain_s`, set its retention and read it back."""
        lock = self.object_lock() if lock is None else lock
        kwargs: dict[str, Any] = {}
        if lock[0] and self.retain_s:
            until = datetime.fromtimestamp(self._clock() + self.retain_s, tz=UTC).replace(microsecond=0)
            kwargs = {"ObjectLockMode": lock[1] or "GOVERNANCE", "ObjectLockRetainUntilDate": until}
        content_type = _CONTENT_TYPES.get(Path(key).suffix, "application/octet-stream")
        self._call("PutObject", "put_object", Bucket=self.bucket, Key=key, Body=data,
                   ContentType=content_type, **kwargs)
        head = self._call("HeadObject", "head_object", Bucket=self.bucket, Key=key)
        mode, until_read = head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")
        problem = None
        if kwargs and (mode != kwargs["ObjectLockMode"] or until_read is None
                       or until_read < kwargs["ObjectLockRetainUntilDate"]):
            problem = f"retention read back as {mode} until {until_read}, not as requested"
        return Published(f"s3://{self.bucket}/{key}", mode,
                         until_read.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if until_read else None, problem)

    def journal_mirror(self, drill: str, run_id: str, every_s: float = MIRROR_EVERY_S) -> JournalMirror:
        """Mirror a running journal to `<prefix>/.live/<drill>/<run_id>/journal.jsonl`
        (outside the published layout, so `--retain` and tamper checks see one final copy).
        The whole object is re-put: at once for the events the dead man's switch needs
        (run.started, change.intent, undo.*, run.finished), otherwise at most every `every_s`."""
        key = self.key(LIVE_DIR, _safe_name(drill, "drill name"), _safe_name(run_id, "run id"), "journal.jsonl")

        def put(data: bytes) -> None:
            self._call("PutObject", "put_object", Bucket=self.bucket, Key=key, Body=data,
                       ContentType=_CONTENT_TYPES[".jsonl"])

        return JournalMirror(put, every_s)

    def publish(self, run_dir: Path, drill: str, run_id: str) -> list[Published]:
        folder = self.key(_safe_name(drill, "drill name"), _safe_name(run_id, "run id"))
        lock = self.object_lock()
        published = [self.put(f"{folder}/{path.relative_to(run_dir).as_posix()}", path.read_bytes(), lock)
                     for path in sorted(Path(run_dir).rglob("*")) if path.is_file()]
        head = Path(run_dir).parent / HEAD
        if head.is_file() and f'"run_id": {json.dumps(run_id)}' in head.read_text(encoding="utf-8"):
            published.append(self.put(self.key(drill, HEAD), head.read_bytes(), lock))  # last: names this run
        return published


def s3_client(session_factory: Callable[[], Any]) -> Any:
    session = session_factory()
    try:
        region = session.default_region
    except UsageError:
        region = "us-east-1"
    return session.client("s3", region)


def open_store(url: str | None, session_factory: Callable[[], Any] | None = None,
               retain_s: float | None = None, *, retain: str | float | None = None) -> LocalStore | S3Store:
    """None or a path -> LocalStore (default ./drill-results); s3://bucket/prefix -> S3Store.

    `retain` takes the `--retain` value as given ("400d" or seconds); `retain_s` seconds.
    Without a session factory, S3 uses the standard AWS environment (AWS_PROFILE, ...)."""
    if retain is not None and retain_s is None:
        from drtool.durations import parse_duration

        try:
            retain_s = parse_duration(retain)
        except ValueError as exc:
            raise UsageError(f"--retain: {exc}") from None
    if url and url.startswith("s3://"):
        bucket, prefix = parse_s3_url(url)
        return S3Store(bucket, prefix, session_factory or session_factory_for(), retain_s)
    if retain_s:
        raise UsageError("--retain applies to an s3:// results store with Object Lock, not to a local folder")
    return LocalStore(Path(url) if url else DEFAULT_ROOT)


def session_factory_for(profile: str | None = None, region: str | None = None) -> Callable[[], Any]:
    """A lazy, cached AwsSession maker: commands that never touch AWS never build one."""
    cache: dict[str, Any] = {}

    def make() -> Any:
        if "session" not in cache:
            from drtool.aws.session import AwsSession

            cache["session"] = AwsSession(profile=profile, region=region)
        return cache["session"]

    return make
