"""Fixtures for the backup tests: moto for EBS/RDS/DynamoDB, the fake for AWS Backup."""

from __future__ import annotations

import pytest

from drtool.context import StepContext
from drtool.journal import Journal
from drtool.sandbox.fakes import in_process  # registers with botocore before any session exists
from drtool.timing import FakeClock
from tests.backups.helpers import DR, PRIMARY


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_backup(session, clock):
    """The fake AWS Backup served to in-process moto (moto 5.2 answers 404 for jobs and
    recovery points), with a vault named Default in both test regions."""
    from drtool.sandbox.fakes.backup_api import FakeBackup

    with in_process.serving(FakeBackup(clock, {"backup": 60, "copy": 120, "restore": 300})) as fake:
        for region in (PRIMARY, DR):
            session.client("backup", region).create_backup_vault(BackupVaultName="Default")
        yield fake


@pytest.fixture
def make_ctx(session, clock, tmp_path):
    def make(run_id: str = "run-1", region: str = PRIMARY, step: str = "recover[0]") -> StepContext:
        return StepContext(aws=session, clock=clock, region=region, run_id=run_id, step=step,
                           journal=Journal(tmp_path / f"{run_id}.jsonl", clock), drill="backup-restore")

    return make


@pytest.fixture
def ctx(make_ctx) -> StepContext:
    return make_ctx()
