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
    h.table("shop-sessions", items=3)
    h.table_backup("shop-sessions", at=now - 7200)
    h.db_instance("shop-db")
    drill = load_drill(ROOT / "drills" / "backup-restore.yaml")
    result = run_drill(drill, session, RunOptions(results=tmp_path, yes=True, clock=FakeClock(start=now)))
    card = result.scorecard
    assert card["run"]["status"] == "passed", card["timeline"]
    assert result.exit_code == 0
    assert card["objectives"]["rto"]["met"] is True
    rpo = card["objectives"]["rpo"]
    assert rpo["method"] == "recovery-point" and rpo["met"] is True
    assert card["rollback"]["status"] == "complete" and card["rollback"]["remaining"] == []
    assert boto3.client("dynamodb", PRIMARY).list_tables()["TableNames"] == ["shop-sessions"]
    dbs = boto3.client("rds", PRIMARY).describe_db_instances()["DBInstances"]
    assert [d["DBInstanceIdentifier"] for d in dbs] == ["shop-db"]


def test_posture_check_lands_in_the_scorecard_as_evidence(session, tmp_path):
    now = time.time()
    h.table("shop-sessions", items=2, tags=[{"Key": "app", "Value": "shop"}])
    h.table_backup("shop-sessions", at=now - 3600)
    h.db_instance("shop-db")
    drill = load_drill(ROOT / "drills" / "backup-restore.yaml")
    card = run_drill(drill, session, RunOptions(results=tmp_path, yes=True, clock=FakeClock(start=now))).scorecard
    backups = card["posture"]["backups"]
    assert backups["rpo_s"] == 86400.0
    table = next(r for r in backups["resources"] if r["id"].endswith("shop-sessions"))
    assert table["compliant"] is True and 3500 <= table["age_s"] <= 3700
    assert "shop-sessions-restore-drill" not in {r["id"].rsplit("/", 1)[-1] for r in backups["resources"]}
