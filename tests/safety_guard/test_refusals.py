"""SPEC 7.3 refusals before any change: irreversible steps, manual steps, stop-condition
alarms. Each refusal exits 4 and leaves the account and the journal untouched."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from drtool.cli import invoke
from drtool.documents import load_drill
from drtool.errors import GuardrailRefusal
from drtool.guardrails import describe_irreversible, enforce, prepare
from drtool.journal import read_journal
from drtool.runner import RunOptions, run_drill
from drtool.timing import FakeClock

PROMOTE = """\
kind: scenario
name: promote
parameters:
  db: {type: string}
recover:
  - action: rds.promote-read-replica
    name: promote the replica
    with: {db_instance: "${db}"}
"""

DRILL = """\
kind: drill
name: promote-drill
scenario: promote
service: {name: db}
parameters: {db: replica-1}
objectives: {rto: 1m}
guardrails:
  accounts: ["123456789012"]
EXTRA
"""


def promote_drill(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "scenarios").mkdir(exist_ok=True)
    (tmp_path / "drills").mkdir(exist_ok=True)
    (tmp_path / "scenarios" / "promote.yaml").write_text(PROMOTE)
    path = tmp_path / "drills" / "promote.yaml"
    path.write_text(DRILL.replace("EXTRA", extra))
    return path


@pytest.fixture
def replica(aws):
    rds = boto3.client("rds", region_name="us-east-1")
    rds.create_db_instance(DBInstanceIdentifier="primary-1", DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="u", MasterUserPassword="password1", AllocatedStorage=20)
    rds.create_db_instance_read_replica(DBInstanceIdentifier="replica-1", SourceDBInstanceIdentifier="primary-1")
    return rds


def is_replica(rds) -> bool:
    db = rds.describe_db_instances(DBInstanceIdentifier="replica-1")["DBInstances"][0]
    return bool(db.get("ReadReplicaSourceDBInstanceIdentifier"))


def test_promotion_is_refused_on_a_real_account_via_the_cli(replica, tmp_path, capsys):
    assert is_replica(replica)
    results = tmp_path / "results"
    rc = invoke(["run", str(promote_drill(tmp_path)), "--yes", "--results", str(results)])
    err = capsys.readouterr().err
    assert rc == 4
    assert "refused by guardrail irreversible" in err and "promote the replica cannot be undone" in err
    assert is_replica(replica)                                    # the account is unchanged
    assert not list(results.rglob("journal.jsonl"))              # no run started, no change.intent


def test_promotion_is_refused_via_run_drill(replica, session, tmp_path):
    drill = load_drill(promote_drill(tmp_path))
    with pytest.raises(GuardrailRefusal) as err:
        run_drill(drill, session, RunOptions(results=tmp_path / "r", yes=True, clock=FakeClock()))
    assert err.value.exit_code == 4 and err.value.guardrail == "irreversible"
    assert is_replica(replica) and not (tmp_path / "r").exists()


def test_allow_irreversible_lets_it_run_and_plan_lists_the_follow_up(replica, session, tmp_path):
    drill = load_drill(promote_drill(tmp_path, "  allow_irreversible: true"))
    plan = prepare(drill, session, FakeClock(), seed=1)
    assert plan.refusals == []
    lines = "\n".join(describe_irreversible(plan))
    assert "promote the replica" in lines and "follow-up: Promotion cannot be undone" in lines
    assert "allowed by guardrails.allow_irreversible" in lines
    result = run_drill(drill, session, RunOptions(results=tmp_path / "r", yes=True, clock=FakeClock(), seed=1))
    assert result.scorecard["follow_up"][0]["step"] == "promote the replica"
    events = read_journal(result.run_dir / "journal.jsonl")
    assert [e["summary"] for e in events if e["event"] == "change.intent"] == [
        "promote read replica replica-1 in us-east-1 (replica of primary-1)"]


def test_sandbox_runs_need_no_flag(replica, session, tmp_path):
    drill = load_drill(promote_drill(tmp_path))
    assert prepare(drill, session, FakeClock(), seed=1, mode="sandbox").refusals == []
    plan = prepare(drill, session, FakeClock(), seed=1, mode="live")
    assert plan.refused_by == ["irreversible"]
    assert "refused on a real account" in "\n".join(describe_irreversible(plan))


MANUAL_SCENARIO = """\
kind: scenario
name: manual
recover:
  - manual: "Switch the payment provider to the DR endpoint"
"""


def manual_drill(tmp_path: Path):
    (tmp_path / "scenarios").mkdir(exist_ok=True)
    (tmp_path / "drills").mkdir(exist_ok=True)
    (tmp_path / "scenarios" / "manual.yaml").write_text(MANUAL_SCENARIO)
    path = tmp_path / "drills" / "m.yaml"
    path.write_text(DRILL.replace("scenario: promote", "scenario: manual").replace("parameters: {db: replica-1}",
                                                                                 "parameters: {}").replace("EXTRA", ""))
    return load_drill(path)


@pytest.mark.parametrize("interactive, assume, refused", [
    (False, False, True), (False, True, False), (True, False, False), (None, False, False)])
def test_manual_step_in_a_non_interactive_run(aws, session, tmp_path, interactive, assume, refused):
    plan = prepare(manual_drill(tmp_path), session, FakeClock(), seed=1, interactive=interactive,
                   assume_manual=assume)
    assert (plan.refused_by == ["manual"]) is refused
    if refused:
        assert "needs an operator" in plan.refusals[0] and "--assume-manual" in plan.refusals[0]
        with pytest.raises(GuardrailRefusal) as err:
            enforce(plan)
        assert err.value.exit_code == 4 and err.value.guardrail == "manual"


def test_mixed_refusals_are_all_listed_under_guardrails(replica, session, tmp_path):
    drill = load_drill(promote_drill(tmp_path))
    drill.doc.guardrails.accounts = ["999999999999"]
    plan = prepare(drill, session, FakeClock(), seed=1)
    with pytest.raises(GuardrailRefusal) as err:
        enforce(plan)
    assert err.value.guardrail == "guardrails"
    assert "999999999999" in err.value.message and "cannot be undone" in err.value.message


STOP_THEN_MANUAL = """\
kind: scenario
name: manual
inject:
  - action: ec2.stop-instances
    targets: {tags: {app: web}, region: us-east-1}
recover:
  - manual: "Switch the payment provider to the DR endpoint"
"""


def test_a_manual_step_refuses_a_non_interactive_cli_run_before_any_change(aws, tmp_path, capsys):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
           TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "app", "Value": "web"}]}])["Instances"]]
    manual_drill(tmp_path)
    (tmp_path / "scenarios" / "manual.yaml").write_text(STOP_THEN_MANUAL)
    results = tmp_path / "results"
    rc = invoke(["run", str(tmp_path / "drills" / "m.yaml"), "--yes", "--results", str(results)])
    assert rc == 4 and "refused by guardrail manual" in capsys.readouterr().err
    state = ec2.describe_instances(InstanceIds=ids)["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state == "running" and not list(results.rglob("journal.jsonl"))
    rc = invoke(["run", str(tmp_path / "drills" / "m.yaml"), "--yes", "--assume-manual", "--results", str(results)])
    assert rc == 0 and len(list(results.rglob("journal.jsonl"))) == 1
