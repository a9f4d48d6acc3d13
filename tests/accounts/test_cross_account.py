"""A drill acting in three accounts on moto (accounts isolated by assumed-role credentials):
the workload account (the drill's own credentials) stops instances, the networking account
(Route 53) fails DNS over, and a verify probe reads the networking account. The run is
killed after both changes (as SIGKILL: journal written, no rollback); `drtool rollback`
and the expiry sweeper then restore both accounts, each through its own role."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from unittest.mock import patch

import boto3
import pytest

from drtool.cli import invoke
from drtool.documents import load_drill
from drtool.errors import GuardrailRefusal
from drtool.journal import read_journal
from drtool.outputs.store import LocalStore
from drtool.registry import PROBES, Params
from drtool.runner import DrillRun, RunOptions, run_drill
from drtool.sweeper import sweep
from drtool.timing import FakeClock

WORKLOAD, NETWORKING, BACKUP = "123456789012", "111111111111", "222222222222"


class Killed(BaseException):
    """Stands in for SIGKILL: the process ends where it is, so no rollback runs."""


def _dies_mid_run(self: DrillRun) -> None:
    self.start()
    self.execute()


if "test.kill-accounts" not in PROBES._entries:
    @PROBES.register("test.kill-accounts", summary="Kill the runner (test only).", params=Params, iam=())
    def _kill(ctx, params):  # noqa: ANN001, ANN202
        raise Killed()

SCENARIO = """\
kind: scenario
name: cross-account-failover
parameters:
  dns_account: {type: string}
  zone: {type: string}
inject:
  - action: ec2.stop-instances
    targets: {tags: {app: web}, region: us-east-1}
recover:
  - action: route53.failover
    name: fail DNS over in the networking account
    account: "${dns_account}"
    with: {zone: "${zone}", record: www, value: 10.0.2.2}
verify:
  - check: route53.points-to
    account: "${dns_account}"
    with: {zone: "${zone}", record: www, value: 10.0.2.2}
  - check: test.kill-accounts
"""

DRILL = """\
kind: drill
name: cross-account
scenario: cross-account-failover
service: {name: web}
parameters: {dns_account: networking, zone: example.test}
objectives: {rto: 1m}
poll: 1s
aws:
  region: us-east-1
  accounts:
    networking: {role_arn: "arn:aws:iam::111111111111:role/drtool", external_id: not-in-the-journal}
    backup: {role_arn: "arn:aws:iam::222222222222:role/drtool"}
guardrails:
  accounts: ["123456789012", "111111111111"%s]
  time_limit: 10m
"""


def client_in(account: str, service: str) -> Any:
    if account == WORKLOAD:
        return boto3.client(service, region_name="us-east-1")
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
    return boto3.client(service, region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


def answer(zone_id: str, account: str) -> list[str]:
    sets = client_in(account, "route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return [r["Value"] for rs in sets if rs["Name"] == "www.example.test." for r in rs["ResourceRecords"]]


def states(ids: list[str]) -> set[str]:
    found = client_in(WORKLOAD, "ec2").describe_instances(InstanceIds=ids)["Reservations"]
    return {i["State"]["Name"] for r in found for i in r["Instances"]}


def killed_run(tmp_path: Path, results: Path, clock: FakeClock, extra_accounts: str = "") -> Path:
    from drtool.api import make_session

    for folder in ("scenarios", "drills"):
        (tmp_path / folder).mkdir(exist_ok=True)
    (tmp_path / "scenarios" / "cross-account-failover.yaml").write_text(SCENARIO)
    (tmp_path / "drills" / "cross-account.yaml").write_text(DRILL % extra_accounts)
    drill = load_drill(tmp_path / "drills" / "cross-account.yaml")
    with pytest.raises(Killed), patch.object(DrillRun, "run", _dies_mid_run):
        run_drill(drill, make_session(drill), RunOptions(results=results, yes=True, clock=clock, seed=1))
    [journal] = results.glob("cross-account/*/journal.jsonl")
    return journal


def test_changes_land_in_their_accounts_and_the_journal_names_them(estate, tmp_path):
    journal = killed_run(tmp_path, tmp_path / "results", FakeClock())
    assert states(estate["fleet"]) == {"stopped"}
    assert answer(estate["zone"], NETWORKING) == ["10.0.2.2"]
    with pytest.raises(Exception, match="NoSuchHostedZone|not found|No hosted zone"):
        answer(estate["zone"], WORKLOAD)           # the zone exists only in the networking account
    intents = [e for e in read_journal(journal) if e["event"] == "change.intent"]
    assert [(e.get("account"), e["undo"]["account"]) for e in intents] == [(None, None), ("networking", "networking")]
    assert intents[1]["account_role_arn"] == "arn:aws:iam::111111111111:role/drtool"
    assert "not-in-the-journal" not in journal.read_text()   # the external id stays in the drill file


def test_drtool_rollback_restores_both_accounts(estate, tmp_path, capsys):
    journal = killed_run(tmp_path, tmp_path / "results", FakeClock())
    code = invoke(["rollback", str(journal.parent), "--results", str(tmp_path / "results"), "--yes"])
    assert code == 0, capsys.readouterr()
    assert states(estate["fleet"]) == {"running"}
    assert answer(estate["zone"], NETWORKING) == ["10.0.1.1"]
    done = [e for e in read_journal(journal) if e["event"] == "undo.done"]
    assert len(done) == 2


def test_the_sweeper_restores_both_accounts(estate, tmp_path):
    from drtool.aws.session import AwsSession

    journal = killed_run(tmp_path, tmp_path / "results", FakeClock(start=time.time() - 8 * 3600))
    swept = sweep(LocalStore(tmp_path / "results"), lambda _s: AwsSession(region="us-east-1"), now=time.time())
    assert [(s.outcome, s.undone) for s in swept] == [("rolled back", 2)]
    assert states(estate["fleet"]) == {"running"} and answer(estate["zone"], NETWORKING) == ["10.0.1.1"]
    assert read_journal(journal)[-1]["event"] == "run.finished"


def test_an_account_outside_the_guardrail_is_refused_before_any_change(estate, tmp_path):
    from drtool.api import make_session

    (tmp_path / "scenarios").mkdir()
    (tmp_path / "drills").mkdir()
    (tmp_path / "scenarios" / "cross-account-failover.yaml").write_text(SCENARIO)
    (tmp_path / "drills" / "cross-account.yaml").write_text(
        DRILL.replace('"111111111111"%s', '"222222222222"'))
    drill = load_drill(tmp_path / "drills" / "cross-account.yaml")
    with pytest.raises(GuardrailRefusal, match=r"111111111111 \(networking\) is not in guardrails.accounts"):
        run_drill(drill, make_session(drill), RunOptions(results=tmp_path / "r", yes=True, clock=FakeClock(), seed=1))
    assert states(estate["fleet"]) == {"running"} and answer(estate["zone"], NETWORKING) == ["10.0.1.1"]


def test_an_unknown_account_name_is_a_document_problem(tmp_path):
    from drtool.api import validate

    (tmp_path / "scenarios").mkdir()
    (tmp_path / "drills").mkdir()
    (tmp_path / "scenarios" / "cross-account-failover.yaml").write_text(SCENARIO)
    (tmp_path / "drills" / "cross-account.yaml").write_text(
        (DRILL % "").replace("dns_account: networking", "dns_account: dns"))
    [checked] = validate([tmp_path / "drills" / "cross-account.yaml"])
    assert any("account 'dns' is not under the drill's aws.accounts (known: backup, networking)" in p.message
               for p in checked.problems), checked.problems


def test_permissions_prints_one_policy_per_account(tmp_path, capsys):
    import json

    (tmp_path / "scenarios").mkdir()
    (tmp_path / "drills").mkdir()
    (tmp_path / "scenarios" / "cross-account-failover.yaml").write_text(SCENARIO)
    (tmp_path / "drills" / "cross-account.yaml").write_text(DRILL % "")
    assert invoke(["permissions", str(tmp_path / "drills" / "cross-account.yaml")]) == 0
    data = json.loads(capsys.readouterr().out)["accounts"]
    assert [(a["account"], a["role_arn"]) for a in data] == [
        (None, None), ("networking", "arn:aws:iam::111111111111:role/drtool")]
    actions = [{x for s in a["policy"]["Statement"] for x in s["Action"]} for a in data]
    assert "ec2:StopInstances" in actions[0] and "sts:AssumeRole" in actions[0]
    assert not any(x.startswith("route53:") for x in actions[0])
    assert "route53:ChangeResourceRecordSets" in actions[1] and "ec2:StopInstances" not in actions[1]
