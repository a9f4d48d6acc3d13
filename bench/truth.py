"""What really happened in the sandbox, recorded beside a drill for bench/measurement_error.py.

- Recovery: the simulator's fleet step records, every tick, how many targets of a target
  group the load balancer reports healthy; the true recovery is the first tick after the
  fault from which the group is whole again (and stays so).
- Replication: every object the simulated S3 replication copies into a replica bucket, with
  its write time in the primary (S3's own timestamp) and the instant it landed.
- Probe latency: how long one check of a poll takes (the goal allows one).
- A dense writer: the service's own writes (an object every `period`) to the primary
  bucket, so the true RPO is known between the canaries: fault - the newest such write in
  the replica at the fault (resolution: the writer's period).

The recorders patch the in-process simulator (moto runs in this process); nothing of drtool
is changed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from drtool.sandbox import fleet as fleet_module
from drtool.sandbox import moto_internals as mi

DENSE_PREFIX = "bench-truth/"


@dataclass
class FleetTruth:
    """(wall time, healthy targets of `target`) after every simulator tick."""

    target: tuple[str, str]
    ticks: list[tuple[float, int]] = field(default_factory=list)

    def install(self) -> None:
        original, record = fleet_module.Fleet.step, self.ticks

        def step(fleet: Any, now: float, reachable: Any, warm: bool = False) -> Any:
            healthy = original(fleet, now, reachable, warm)
            record.append((time.time(), healthy.get(self.target, 0)))
            return healthy

        fleet_module.Fleet.step = step  # type: ignore[method-assign]

    def true_rto(self, fault_at: float) -> float | None:
        """Fault -> the first tick from which the group stays whole (whole = its most healthy)."""
        whole = max((n for _, n in self.ticks), default=0)
        after = [(t, n) for t, n in self.ticks if t >= fault_at]
        last_short = max((i for i, (_, n) in enumerate(after) if n < whole), default=None)
        if last_short is None or last_short + 1 >= len(after):
            return None
        return after[last_short + 1][0] - fault_at


@dataclass
class ProbeLatency:
    """Seconds per check of every steady-state/verify poll (the poll's duration / its checks)."""

    per_check_s: list[float] = field(default_factory=list)

    def install(self) -> None:
        from drtool import watch

        original, record = watch.poll_checks, self.per_check_s

        def poll_checks(run: Any, steps: list[Any], last: dict[str, Any]) -> bool:
            started = time.perf_counter()
            try:
                return original(run, steps, last)
            finally:
                if steps:
                    record.append((time.perf_counter() - started) / len(steps))

        watch.poll_checks = poll_checks  # type: ignore[assignment]


@dataclass(frozen=True)
class Landing:
    key: str
    written_at: float      # S3's timestamp of the version in the primary
    landed_at: float       # when the copy became visible in the replica


@dataclass
class ReplicaTruth:
    """Every replicated object of `bucket`, with its write and landing instants."""

    bucket: str
    landings: list[Landing] = field(default_factory=list)
    _written: dict[tuple[str, str], float] = field(default_factory=dict)

    def install(self) -> None:
        original = mi.copy_object_version

        def copy(account: str, source: str, key: str, version_id: str, destination: str) -> str | None:
            if source != self.bucket:
                return original(account, source, key, version_id, destination)
            if (key, version_id) not in self._written:    # one scan per tick, not per copy
                self._written.update({(v.key, v.version_id): v.written_at for v in mi.object_versions(account, source)})
            copied = original(account, source, key, version_id, destination)
            written_at = self._written.get((key, version_id))
            if copied is not None and written_at is not None:
                self.landings.append(Landing(key, written_at, time.time()))
            return copied

        mi.copy_object_version = copy  # type: ignore[assignment]

    def reset(self) -> None:
        self.landings.clear()
        self._written.clear()

    def newest_by(self, instant: float, prefix: str) -> Landing | None:
        """The newest-written object under `prefix` in the replica at `instant`."""
        present = [x for x in self.landings if x.key.startswith(prefix) and x.landed_at <= instant]
        return max(present, key=lambda x: x.written_at, default=None)


class DenseWriter:
    """Writes `{DENSE_PREFIX}{seq}` to the primary bucket every `period` until stopped."""

    def __init__(self, client: Any, bucket: str, period: float) -> None:
        self.client, self.bucket, self.period = client, bucket, period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-dense-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        seq = 0
        while not self._stop.is_set():
            self.client.put_object(Bucket=self.bucket, Key=f"{DENSE_PREFIX}{seq:08d}", Body=b"x")
            seq += 1
            self._stop.wait(self.period)

    @staticmethod
    def write_times(account: str, bucket: str) -> list[float]:
        """S3's timestamps of every dense write, oldest first (read before the sandbox stops)."""
        return sorted(v.written_at for v in mi.object_versions(account, bucket) if v.key.startswith(DENSE_PREFIX))
