"""The fake AWS FIS served to in-process moto, on the test's FakeClock."""

from __future__ import annotations

import pytest

from drtool.context import StepContext
from drtool.journal import Journal
from drtool.sandbox.fakes import fis_api  # noqa: F401 - registers the FIS hook before any session exists
from drtool.timing import FakeClock


class Replicator:
    """Stands in for the sandbox's S3 replicator: records pauses and resumes."""

    def __init__(self) -> None:
        self.paused: dict[str, float] = {}
        self.resumed: list[str] = []

    def pause(self, bucket: str, until: float) -> None:
        self.paused[bucket] = until

    def resume(self, bucket: str) -> None:
        self.paused.pop(bucket, None)
        self.resumed.append(bucket)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def replicator():
    return Replicator()


@pytest.fixture
def fis(session, clock, replicator):
    from drtool.sandbox.fakes import in_process
    from drtool.sandbox.fakes.fis_api import FakeFis
    from drtool.sandbox.fakes.fis_effects import NativeFaults

    fake = FakeFis(clock, "123456789012", NativeFaults(session.client, lambda: replicator))
    with in_process.serving(fake, "fis"):
        yield fake


@pytest.fixture
def ctx(session, clock, tmp_path, fis):
    return StepContext(aws=session, clock=clock, region="us-east-1", run_id="run-fis", step="inject/fault",
                       journal=Journal(tmp_path / "journal.jsonl", clock), drill="t")
