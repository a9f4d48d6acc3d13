"""RPO by canary: sequence-numbered, timestamped writes to the primary store until the
fault; the newest one found in the recovered store gives the data actually lost."""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

from drtool.durations import format_duration
from drtool.estimate import canary_rpo_bounds
from drtool.resources import UndoSpec
from drtool.rpo.config import DynamoDbCanaryConfig, RpoMeasurement, S3CanaryConfig
from drtool.timing import PollTimeout, rfc3339, wait_until


def _err(exc: BaseException) -> str:
    from drtool.aws.errors import error_code

    code = error_code(exc)
    return f"{code}: {exc}" if code and code not in str(exc) else f"{type(exc).__name__}: {exc}"


# --- canary stores ---------------------------------------------------------------------


class CanaryStore(Protocol):
    label: str           # the primary store, for sentences
    replica_label: str   # the recovered store

    def prepare(self) -> None: ...
    def undo_spec(self) -> UndoSpec: ...
    def write(self, seq: int, written_at: float) -> None: ...
    def replica_seqs(self, candidates: list[int]) -> dict[int, float | None]: ...
    def read_written_at(self, seq: int) -> float | None: ...
    def remove(self) -> str: ...


class S3CanaryStore:
    """Canary objects in the primary bucket; the replica bucket is the recovered store."""

    def __init__(self, ctx: Any, cfg: S3CanaryConfig) -> None:
        self.ctx, self.cfg = ctx, cfg
        self.region = cfg.region or ctx.region
        self.replica_region = cfg.replica_region or self.region
        self.label = f"s3://{cfg.bucket} ({self.region})"
        self.replica_label = f"s3://{cfg.replica_bucket} ({self.replica_region})"

    def prepare(self) -> None:
        from urllib.parse import urlencode

        from drtool.aws.s3 import canary_prefix

        self.where = canary_prefix(self.cfg.prefix, self.ctx.run_id)
        self._tagging = urlencode(self.ctx.run_tags)

    def undo_spec(self) -> UndoSpec:
        return UndoSpec("s3.delete-canaries", {
            "bucket": self.cfg.bucket, "replica_bucket": self.cfg.replica_bucket, "region": self.region,
            "replica_region": self.replica_region, "prefix": self.cfg.prefix, "run_id": self.ctx.run_id},
            self.region)

    def write(self, seq: int, written_at: float) -> None:
        body = json.dumps({"seq": seq, "written_at": written_at}).encode()
        self.ctx.client("s3", self.region).put_object(
            Bucket=self.cfg.bucket, Key=f"{self.where}{seq:08d}", Body=body,
            ContentType="application/json", Tagging=self._tagging)

    def replica_seqs(self, candidates: list[int]) -> dict[int, float | None]:
        client = self.ctx.client("s3", self.replica_region)
        found: dict[int, float | None] = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.cfg.replica_bucket,
                                                                      Prefix=self.where):
            for obj in page.get("Contents") or []:
                tail = obj["Key"][len(self.where):]
                if tail.isdigit():
                    found[int(tail)] = None
        return found

    def read_written_at(self, seq: int) -> float | None:
        client = self.ctx.client("s3", self.replica_region)
        body = client.get_object(Bucket=self.cfg.replica_bucket, Key=f"{self.where}{seq:08d}")["Body"].read()
        data = json.loads(body)
        return float(data["written_at"]) if data.get("seq") == seq else None

    def remove(self) -> str:
        from drtool.aws.s3 import DeleteCanariesParams, delete_canaries

        return delete_canaries(self.ctx, DeleteCanariesParams(**self.undo_spec().params))


class DynamoDbCanaryStore:
    """Canary items in the primary table; the replica table is the recovered store. A head item
    reserves seq numbers ahead, so removal deletes by key and never scans the table."""

    def __init__(self, ctx: Any, cfg: DynamoDbCanaryConfig) -> None:
        self.ctx, self.cfg = ctx, cfg
        self.region = cfg.region or ctx.region
        self.replica_table = cfg.replica_table or cfg.table
        self.label = f"dynamodb:{cfg.table} ({self.region})"
        self.replica_label = f"dynamodb:{self.replica_table} ({cfg.replica_region})"
        self.key = cfg.key
        self.sort_key: dict[str, str] | None = None
        self._reserved = 0

    def prepare(self) -> None:
        schema = self.ctx.client("dynamodb", self.region).describe_table(TableName=self.cfg.table)["Table"]
        types = {a["AttributeName"]: a["AttributeType"] for a in schema["AttributeDefinitions"]}
        for part in schema["KeySchema"]:
            name = part["AttributeName"]
            if part["KeyType"] == "HASH":
                if types.get(name) != "S":
                    raise ValueError(f"table {self.cfg.table}: partition key {name} must be a string for canaries")
                self.key = name
            elif types.get(name) in ("S", "N"):
                self.sort_key = {"name": name, "type": types[name]}
            else:
                raise ValueError(f"table {self.cfg.table}: binary sort key {name} is not supported for canaries")

    def undo_spec(self) -> UndoSpec:
        return UndoSpec("dynamodb.delete-canaries", {
            "table": self.cfg.table, "replica_table": self.replica_table, "region": self.region,
            "replica_region": self.cfg.replica_region, "run_id": self.ctx.run_id, "key": self.key,
            "sort_key": self.sort_key}, self.region)

    def _key(self, seq: int | str) -> dict[str, Any]:
        from drtool.aws.dynamodb import canary_pk, key_of

        return key_of(self.key, self.sort_key, canary_pk(self.ctx.run_id, seq))

    def write(self, seq: int, written_at: float) -> None:
        from drtool.aws.dynamodb import HEAD, RESERVE

        client = self.ctx.client("dynamodb", self.region)
        run = {"drtool_run_id": {"S": self.ctx.run_id}}
        if seq >= self._reserved:
            client.put_item(TableName=self.cfg.table,
                            Item={**self._key(HEAD), **run, "reserved": {"N": str(seq + RESERVE)}})
            self._reserved = seq + RESERVE
        client.put_item(TableName=self.cfg.table, Item={
            **self._key(seq), **run, "seq": {"N": str(seq)}, "written_at": {"N": repr(written_at)}})

    def replica_seqs(self, candidates: list[int]) -> dict[int, float | None]:
        client = self.ctx.client("dynamodb", self.cfg.replica_region)
        found: dict[int, float | None] = {}
        for start in range(0, len(candidates), 100):
            request = {self.replica_table: {
                "Keys": [self._key(s) for s in candidates[start:start + 100]],
                "ProjectionExpression": "#s, written_at", "ExpressionAttributeNames": {"#s": "seq"}}}
            for _ in range(8):
                page = client.batch_get_item(RequestItems=request)
                for item in page["Responses"].get(self.replica_table, []):
                    found[int(item["seq"]["N"])] = float(item["written_at"]["N"])
                request = page.get("UnprocessedKeys") or {}
                if not request:
                    break
        return found

    def read_written_at(self, seq: int) -> float | None:
        return None  # replica_seqs already carries it

    def remove(self) -> str:
        from drtool.aws.dynamodb import DeleteCanariesParams, delete_canaries

        return delete_canaries(self.ctx, DeleteCanariesParams(**self.undo_spec().params))


# --- canary meter ----------------------------------------------------------------------


class CanaryMeter:
    """Writes canaries on a daemon thread from start() until mark_fault(); measures after recovery."""

    method = "canary"
    WAIT_SLICE_S = 0.05

    def __init__(self, ctx: Any, store: CanaryStore, interval: float) -> None:
        self.ctx, self.store, self.interval = ctx, store, interval
        self.clock = ctx.clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._acked: dict[int, float] = {}
        self._next_seq = 0
        self.errors = 0
        self.last_error: str | None = None
        self.started_at: float | None = None
        self.fault_at: float | None = None
        self._prepared = False
        self._at_fault: dict[int, float | None] | None = None     # the replica as read at the fault
        self._at_fault_error: str | None = None

    def start(self, background: bool = True) -> None:
        """Journal the canaries' undo (before any write), then start the writer thread.
        `background=False` leaves writing to explicit `tick()` calls (deterministic tests)."""
        self.started_at = self.clock.now()
        try:
            self.store.prepare()
            spec = self.store.undo_spec()
            # Both stores are named: replication copies the canaries into the replica, so the
            # undo (and a remaining item when it fails) concerns both.
            self.ctx.change(f"write RPO canaries to {self.store.label} every {format_duration(self.interval)} "
                            f"until the fault (replicated to {self.store.replica_label})", lambda: None, undo=spec,
                            resources=[self.store.label, self.store.replica_label])
            self._prepared = True
        except Exception as exc:  # a bad bucket/table must not abort the drill: report it in measure()
            self._record_error(exc)
            return
        if background:
            self._thread = threading.Thread(target=self._run, name="drtool-rpo-canary", daemon=True)
            self._thread.start()

    def _record_error(self, exc: BaseException) -> None:
        with self._lock:
            self.errors += 1
            self.last_error = _err(exc)

    def tick(self) -> bool:
        """Write the next canary now; True when the store acknowledged it. A failed write is
        retried under the same seq on the next tick, so acknowledged seqs stay contiguous."""
        if not self._prepared:
            return False
        seq, at = self._next_seq, self.clock.now()
        try:
            self.store.write(seq, at)
        except Exception as exc:  # region cut off, throttled...: counted, never raised
            self._record_error(exc)
            return False
        with self._lock:
            self._acked[seq] = at
            self._next_seq = seq + 1
        return True

    def _run(self) -> None:
        """Schedule on the context clock; wait in short real slices, so a FakeClock is never advanced
        from this thread and mark_fault() stops it at once."""
        due = self.clock.monotonic()
        while not self._stop.is_set():
            now = self.clock.monotonic()
            if now < due:
                self._stop.wait(min(due - now, self.WAIT_SLICE_S))
                continue
            self.tick()
            due += self.interval
            now = self.clock.monotonic()
            if due <= now:  # a slow write: skip the missed slots instead of bursting
                due = now + self.interval

    def wait_ready(self, timeout: float) -> tuple[bool, str]:
        """Steady state before the fault: block until a canary is visible in the replica
        (replication works), or `timeout` passes. Without it, a fault injected right after
        start() finds nothing replicated yet and the RPO says nothing about the service."""
        if not self._prepared:
            return False, f"the canary in {self.store.label} could not start: {self.last_error}"
        if timeout <= 0:
            return True, "warm-up skipped (warmup: 0)"
        started = self.clock.monotonic()

        def replicated() -> tuple[bool, int]:
            with self._lock:
                seqs = sorted(self._acked)
            try:
                present = self.store.replica_seqs(seqs) if seqs else {}
            except Exception as exc:  # noqa: BLE001 - keep waiting; reported if it never works
                self._record_error(exc)
                present = {}
            return bool(present), len(present)

        try:
            wait_until(replicated, clock=self.clock, interval=max(self.interval, 0.1), timeout=timeout)
        except PollTimeout:
            return False, (f"no canary reached {self.store.replica_label} within {format_duration(timeout)} of "
                           f"writing to {self.store.label}: replication is not working before the fault")
        waited = self.clock.monotonic() - started
        return True, f"canaries reach {self.store.replica_label} ({format_duration(waited)} to the first one)"

    def mark_fault(self, fault_at: float) -> None:
        """Stop writing and read the replica *now* (SPEC 7.2): what had replicated when the
        fault hit. Replication that leaks afterwards (FIS documents S3 pauses leaking for up
        to an hour, DynamoDB for minutes) must not shrink the measured RPO."""
        self.fault_at = fault_at
        self._join()
        if not self._prepared:
            return
        with self._lock:
            eligible = sorted(s for s, t in self._acked.items() if t <= fault_at)
        try:
            self._at_fault = self.store.replica_seqs(eligible) if eligible else {}
        except Exception as exc:  # noqa: BLE001 - measure() says why the RPO is not measured
            self._at_fault_error = _err(exc)
        self.ctx.note(f"RPO canary writer stopped at the fault after {len(self._acked)} write(s) to "
                      f"{self.store.label} ({self.errors} error(s)); {len(self._at_fault or {})} seen in "
                      f"{self.store.replica_label} at the fault",
                      canaries_written=len(self._acked), canaries_replicated=len(self._at_fault or {}),
                      canary_store=self.store.label)

    def _join(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def measure(self) -> RpoMeasurement:
        self._join()
        with self._lock:
            acked = dict(self._acked)
        return canary_rpo(acked=acked, fault_at=self.fault_at, started_at=self.started_at,
                          interval=self.interval, store=self.store, errors=self.errors,
                          last_error=self.last_error, prepared=self._prepared,
                          at_fault=self._at_fault, at_fault_error=self._at_fault_error)

    def cleanup(self) -> None:
        """Remove the canaries from both stores (the journaled undo does the same after a crash).
        Raises if they could not be removed; the undo stays in the journal for `drtool rollback`."""
        self._join()
        if not self._prepared:
            return
        from drtool.aws.errors import translate

        try:
            sentence = self.ctx.change(f"remove RPO canaries of run {self.ctx.run_id} from {self.store.label} "
                                       f"and {self.store.replica_label}", self.store.remove,
                                       resources=[self.store.label, self.store.replica_label])
        except Exception as exc:
            raise translate(exc, "rpo:remove-canaries", self.ctx.step or None) from exc
        self.ctx.note(sentence)


def canary_rpo(*, acked: dict[int, float], fault_at: float | None, started_at: float | None, interval: float,
               store: CanaryStore, errors: int = 0, last_error: str | None = None,
               prepared: bool = True, at_fault: dict[int, float | None] | None = None,
               at_fault_error: str | None = None) -> RpoMeasurement:
    """RPO = fault_at - written_at of the newest acknowledged-before-the-fault canary in the
    replica, as read at the fault (`at_fault`; read now only when no such read was made)."""
    evidence: dict[str, Any] = {
        "store": store.label, "recovered_store": store.replica_label, "interval_s": interval,
        "started_at": rfc3339(started_at), "fault_at": rfc3339(fault_at), "written": len(acked),
        "write_errors": errors, "last_write_error": last_error}
    errors_clause = f" {errors} write(s) failed (last: {last_error})." if errors else ""

    def unmeasured(detail: str) -> RpoMeasurement:
        return RpoMeasurement("canary", None, detail, evidence)

    if not prepared:
        why = f"could not start: {last_error}" if last_error else "was never started"
        return unmeasured(f"The canary in {store.label} {why}; RPO not measured.")
    if fault_at is None:
        return unmeasured("The drill never reached the fault instant, so there is no RPO to measure.")
    eligible = {s: t for s, t in acked.items() if t <= fault_at}
    evidence["written_after_fault"] = len(acked) - len(eligible)
    if not eligible:
        return unmeasured(f"No canary could be written to {store.label} before the fault; RPO not measured."
                          + errors_clause)
    evidence["replica_read"] = "at the fault" if at_fault is not None else "after recovery"
    if at_fault_error is not None:
        evidence["read_error"] = at_fault_error
        return unmeasured(f"Could not read the canaries in {store.replica_label} at the fault ({at_fault_error}); "
                          "RPO not measured.")
    try:
        present = at_fault if at_fault is not None else store.replica_seqs(sorted(eligible))
    except Exception as exc:
        evidence["read_error"] = _err(exc)
        return unmeasured(f"Could not read the canaries in {store.replica_label} ({_err(exc)}); RPO not measured.")
    newest: tuple[int, float] | None = None
    for seq in sorted((s for s in present if s in eligible), reverse=True):
        at = present[seq]
        if at is None:
            try:
                at = store.read_written_at(seq)
            except Exception:  # noqa: BLE001 - fall back to what the writer recorded
                at = None
        at = eligible[seq] if at is None else at
        if at <= fault_at:
            newest = (seq, at)
            break
    survived = sorted(s for s in present if s in eligible)
    lost = sorted(set(eligible) - set(survived))
    evidence.update(survived=len(survived), lost_writes=len(lost))
    if newest is None:
        # Everything written since the drill started is gone, and nothing says how much
        # before it: the RPO is unbounded, so it is not reported as a (small) number.
        at_least = fault_at - (started_at if started_at is not None else min(eligible.values()))
        evidence.update(newest_seq=None, newest_written_at=None, lost_after_newest=len(lost), holes=[],
                        rpo_at_least_s=round(at_least, 3))
        return RpoMeasurement("canary", None, (
            f"No canary reached {store.replica_label}: all {len(eligible)} write(s) since the drill started "
            f"were lost, so the RPO is at least {format_duration(at_least)} and unbounded.") + errors_clause,
            evidence)
    seq, at = newest
    after = [s for s in lost if s > seq]
    holes = [s for s in lost if s < seq]
    measured = max(0.0, fault_at - at)
    bounds = canary_rpo_bounds(fault_at, at, eligible[after[0]] if after else None)   # next one did not replicate
    evidence.update(newest_seq=seq, newest_written_at=rfc3339(at), lost_after_newest=len(after),
                    holes=holes[:20], hole_count=len(holes))
    hole_clause = f", {len(holes)} hole(s) in the sequence" if holes else ""
    return RpoMeasurement("canary", measured, (
        f"The newest canary in {store.replica_label} is #{seq}, written {format_duration(measured)} before "
        f"the fault; {len(lost)} of {len(eligible)} acknowledged write(s) were lost ({len(after)} after it"
        f"{hole_clause}), resolution {format_duration(interval)}.") + errors_clause, evidence,
        lower_bound_s=round(bounds.lower_s, 3))
