"""`account:` on RPO sources: canaries written, read and removed through the named account's
role (also by `drtool rollback` after a SIGKILL), `drtool permissions` lists each source's
calls under its account, and `run.account_ids` names every account the drill acted in."""

from __future__ import annotations

import json
from pathlib import Path
from unittest.mock import patch

import pytest

from drtool.cli import invoke
from drtool.documents import load_drill
from drtool.journal import read_journal
from drtool.rpo import RpoConfig, build_meters, rpo_iam
from drtool.runner import DrillRun, RunOptions, run_drill
from drtool.timing import FakeClock
from tests.accounts.test_cross_account import (
    BACKUP,
    NETWORKING,
    SCENARIO,
    WORKLOAD,
    Killed,
    _dies_mid_run,
    answer,
    client_in,
    states,
)

RPO = """\
rpo:
  canary:
    s3: {bucket: orders-bk, region: us-east-1, replica_bucket: orders-bk-dr, replica_region: us-east-1,
         account: backup}
    interval: 1s
    warmup: 0s
  recovery_point: {resource_arn: "arn:aws:dynamodb:us-east-1:222222222222:table/orders", account: backup}
"""

DRILL = """\
kind: drill
name: cross-account-rpo
scenario: cross-account-failover
service: {name: web}
parameters: {dns_account: networking, zone: example.test}
objectives: {rto: 1m, rpo: 5m}
poll: 1s
aws:
  region: us-east-1
  accounts:
    networking: {role_arn: "arn:aws:iam::111111111111:role/drtool"}
    backup: {role_arn: "arn:aws:iam::222222222222:role/drtool"}
guardrails:
  accounts: ["123456789012", "111111111111", "222222222222"]
  time_limit: 10m
"""


def _canaries(bucket: str) -> list[str]:
    s3 = client_in(BACKUP, "s3")
    page = s3.list_object_versions(Bucket=bucket, Prefix="drtool-canary/")
    return [v["Key"] for v in (page.get("Versions") or []) + (page.get("DeleteMarkers") or [])]


def _write(tmp_path: Path, drill: str = DRILL + RPO) -> Path:
    for folder in ("scenarios", "drills"):
        (tmp_path / folder).mkdir(exist_ok=True)
    (tmp_path / "scenarios" / "cross-account-failover.yaml").write_text(SCENARIO)
    (tmp_path / "drills" / "cross-account-rpo.yaml").write_text(drill)
    return tmp_path / "drills" / "cross-account-rpo.yaml"


@pytest.fixture
def backup_buckets(estate) -> dict:
    s3 = client_in(BACKUP, "s3")
    for bucket in ("orders-bk", "orders-bk-dr"):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return estate


def test_a_source_with_account_acts_through_that_accounts_role(aws, tmp_path):
    from drtool.aws.session import AccountRole, AwsSession
    from drtool.context import StepContext
    from drtool.journal import Journal

    session = AwsSession(region="us-east-1")
    session.configure_accounts({"backup": AccountRole(f"arn:aws:iam::{BACKUP}:role/drtool")})
    clock = FakeClock()
    ctx = StepContext(aws=session, clock=clock, region="us-east-1", run_id="run-rpo",
                      journal=Journal(tmp_path / "journal.jsonl", clock), drill="t")
    config = RpoConfig.model_validate({"canary": {"s3": {"bucket": "b", "replica_bucket": "b", "account": "backup"}},
                                       "replication_lag": {"rds_replica": "db", "region": "us-east-1"}})
    canary, lag = build_meters(config, ctx)
    assert canary.ctx.account == "backup" and canary.ctx.aws.account_id() == BACKUP
    assert lag.ctx.account is None and lag.ctx.aws.account_id() == WORKLOAD
    assert ctx.aws is session                                     # the run's own context is untouched


def test_rpo_iam_by_account():
    config = RpoConfig.model_validate({
        "canary": {"s3": {"bucket": "b", "replica_bucket": "b", "account": "backup"}},
        "replication_lag": {"rds_replica": "db"}})
    assert config.accounts() == {"backup"}
    assert "s3:PutObject" in rpo_iam(config, "backup") and "cloudwatch:GetMetricStatistics" not in rpo_iam(config,
                                                                                                          "backup")
    assert rpo_iam(config, None) == ["cloudwatch:GetMetricStatistics"]
    assert set(rpo_iam(config)) == set(rpo_iam(config, "backup")) | set(rpo_iam(config, None))


def test_an_rpo_account_outside_aws_accounts_is_a_document_problem(tmp_path):
    from drtool.api import validate

    path = _write(tmp_path, DRILL + RPO.replace("account: backup}", "account: vault}"))
    [checked] = validate([path])
    assert any("rpo: account 'vault' is not under aws.accounts (known: backup, networking)" in p.message
               for p in checked.problems), checked.problems


def test_permissions_list_the_rpo_sources_calls_under_their_account(tmp_path, capsys):
    assert invoke(["permissions", str(_write(tmp_path))]) == 0
    data = json.loads(capsys.readouterr().out)["accounts"]
    assert [a["account"] for a in data] == [None, "backup", "networking"]
    actions = {a["account"]: {x for s in a["policy"]["Statement"] for x in s["Action"]} for a in data}
    assert {"s3:PutObject", "s3:DeleteObjectVersion", "dynamodb:ListBackups"} <= actions["backup"]
    assert not {"s3:PutObjectTagging", "dynamodb:ListBackups"} & actions[None]
    assert "dynamodb:ListBackups" not in actions["networking"]


def test_rollback_after_a_kill_removes_canaries_in_the_backup_account(backup_buckets, tmp_path, capsys):
    from drtool.api import make_session

    drill = load_drill(_write(tmp_path))
    results = tmp_path / "results"
    with pytest.raises(Killed), patch.object(DrillRun, "run", _dies_mid_run):
        run_drill(drill, make_session(drill), RunOptions(results=results, yes=True, clock=FakeClock(), seed=1))
    [journal] = results.glob("cross-account-rpo/*/journal.jsonl")
    events = read_journal(journal)
    assert events[0]["account_ids"] == [WORKLOAD, BACKUP, NETWORKING]     # own first, then every named one
    canary = next(e for e in events if e["event"] == "change.intent" and e["step"] == "rpo.canary.s3")
    assert (canary["account"], canary["undo"]["account"]) == ("backup", "backup")
    assert canary["account_role_arn"] == f"arn:aws:iam::{BACKUP}:role/drtool"
    assert _canaries("orders-bk"), "the writer wrote at least one canary before the kill"

    code = invoke(["rollback", str(journal.parent), "--results", str(results), "--yes"])
    assert code == 0, capsys.readouterr()
    assert _canaries("orders-bk") == [] and _canaries("orders-bk-dr") == []
    assert states(backup_buckets["fleet"]) == {"running"} and answer(backup_buckets["zone"], NETWORKING) == ["10.0.1.1"]
