"""The bundled restore drill end to end on moto: restores, verifies, measures, cleans up."""

from __future__ import annotations

import time
from pathlib import Path

import boto3

from drtool.documents import load_drill
from drtool.runner import RunOptions, run_drill
from drtool.timing import FakeClock
from tests.backups import helpers as h
from tests.backups.helpers import PRIMARY

ROOT = Path(__file__).resolve().parents[2]


def test_backup_restore_drill_measures_and_leaves_nothing_behind(session, tmp_path):
    now = time.time()
    h.table("orders", items=3)
    h.table_backup("orders", at=now - 7200)
    h.db_instance("orders-db")
    drill = load_drill(ROOT / "drills" / "backup-restore.yaml")
    result = run_drill(drill, session, RunOptions(results=tmp_path, yes=True, clock=FakeClock(start=now)))
    card = result.scorecard
    assert card["run"]["status"] == "passed", card["timeline"]
    assert result.exit_code == 0
    assert card["objectives"]["rto"]["met"] is True
    rpo = card["objectives"]["rpo"]
    assert rpo["method"] == "recovery-point" and rpo["met"] is True
    assert card["rollback"]["status"] == "complete" and card["rollback"]["remaining"] == []
    assert boto3.client("dynamodb", PRIMARY).list_tables()["TableNames"] == ["orders"]
    dbs = boto3.client("rds", PRIMARY).describe_db_instances()["DBInstances"]
    assert [d["DBInstanceIdentifier"] for d in dbs] == ["orders-db"]
