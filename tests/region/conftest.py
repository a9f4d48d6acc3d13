"""Fixtures for the region-failover tests: step contexts on moto and small estates."""

from __future__ import annotations

import pytest

from drtool.context import StepContext
from drtool.journal import Journal
from drtool.timing import FakeClock
from tests.region.helpers import PRIMARY


@pytest.fixture
def make_ctx(session, tmp_path):
    """StepContext factory on in-process moto; FakeClock unless a clock is given."""

    def make(clock=None, region: str = PRIMARY, run_id: str = "run-test") -> StepContext:
        clock = clock or FakeClock()
        return StepContext(aws=session, clock=clock, region=region, run_id=run_id,
                           journal=Journal(tmp_path / "journal.jsonl", clock), drill="t")

    return make


@pytest.fixture
def ctx(make_ctx) -> StepContext:
    return make_ctx()


@pytest.fixture
def promote_clears_link(aws, monkeypatch):
    """Emulate AWS: moto 5.2.1's promote_read_replica keeps ReadReplicaSourceDBInstanceIdentifier
    (and the source keeps listing the replica). AWS clears both, so tests patch moto's backend to
    do the same. The sandbox's simulator handles this on its own."""
    from moto.rds.models import RDSBackend

    original = RDSBackend.promote_read_replica

    def promote(self, db_kwargs):
        db = original(self, db_kwargs)
        source = db.source_db_instance_identifier
        if source:
            primary = self.find_db_from_id(source)
            primary.replicas = [r for r in primary.replicas if r not in (db.db_instance_arn, db.db_instance_identifier)]
            db.source_db_instance_identifier = None
        return db

    monkeypatch.setattr(RDSBackend, "promote_read_replica", promote)
