"""The dead man's switch: a run killed after its change is rolled back by
`drtool rollback --expired`, once; a second sweep is a no-op.

The kill is simulated in-process: a verify probe raises a BaseException the runner does
not handle (as SIGKILL, nothing after it runs: no rollback, no run.finished), after
ec2.stop-instances really stopped the instances in moto.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from unittest.mock import patch

import boto3
import pytest

from drtool.cli import invoke
from drtool.context import RUN_TAG
from drtool.documents import load_drill
from drtool.expiry import EXPIRES_TAG
from drtool.journal import read_journal
from drtool.locks import acquire
from drtool.outputs.store import LocalStore, S3Store
from drtool.registry import PROBES, Params
from drtool.runner import DrillRun, RunOptions, run_drill
from drtool.sweeper import sweep
from drtool.timing import FakeClock


class Killed(BaseException):
    """Stands in for SIGKILL: the process ends where it is, so no rollback runs."""


def _dies_mid_run(self) -> None:
    """DrillRun.run without its guaranteed ending: what a SIGKILL leaves behind."""
    self.start()
    self.execute()


if "test.kill" not in PROBES._entries:
    @PROBES.register("test.kill", summary="Kill the runner (test only).", params=Params,
                     iam=("ec2:DescribeInstances",))
    def _kill(ctx, params):  # noqa: ANN001, ANN202
        raise Killed()

SCENARIO = """\
kind: scenario
name: stop-and-die
inject:
  - action: ec2.stop-instances
    targets: {tags: {app: web}, region: us-east-1}
verify:
  - check: test.kill
"""

DRILL = """\
kind: drill
name: web-stop
scenario: stop-and-die
service: {name: web}
parameters: {}
objectives: {rto: 1m}
poll: 1s
aws: {region: us-east-1}
guardrails:
  accounts: ["123456789012"]
  time_limit: 10m
"""


@pytest.fixture
def fleet(aws):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    return [i["InstanceId"] for i in ec2.run_instances(
        ImageId="ami-12345678", MinCount=2, MaxCount=2,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "app", "Value": "web"}]}])["Instances"]]


def states(ids):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    found = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    return {i["InstanceId"]: i["State"]["Name"] for r in found for i in r["Instances"]}


def tags(instance_id):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    found = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [instance_id]}])["Tags"]
    return {t["Key"]: t["Value"] for t in found}


def killed_run(tmp_path: Path, session, results: Path, clock: FakeClock, store=None) -> Path:
    (tmp_path / "scenarios").mkdir(exist_ok=True)
    (tmp_path / "drills").mkdir(exist_ok=True)
    (tmp_path / "scenarios" / "stop-and-die.yaml").write_text(SCENARIO)
    (tmp_path / "drills" / "web-stop.yaml").write_text(DRILL)
    with pytest.raises(Killed), patch.object(DrillRun, "run", _dies_mid_run):
        run_drill(load_drill(tmp_path / "drills" / "web-stop.yaml"), session,
                  RunOptions(results=results, yes=True, clock=clock, seed=1, store=store))
    [journal] = results.glob("web-stop/*/journal.jsonl")
    return journal


def test_a_killed_run_is_rolled_back_once(fleet, session, tmp_path):
    clock = FakeClock()
    journal = killed_run(tmp_path, session, tmp_path / "results", clock)
    events = read_journal(journal)
    assert [e["event"] for e in events].count("change.intent") == 1 and "run.finished" not in {
        e["event"] for e in events}
    assert set(states(fleet).values()) == {"stopped"}
    assert tags(fleet[0])[RUN_TAG] == events[0]["run_id"] and EXPIRES_TAG in tags(fleet[0])
    store = LocalStore(tmp_path / "results")
    started = events[0]["t"]

    assert sweep(store, lambda _s: session, now=started + 60) == []          # not expired yet
    swept = sweep(store, lambda _s: session, now=started + 7 * 3600)
    assert [(s.run_id, s.outcome, s.undone) for s in swept] == [(events[0]["run_id"], "rolled back", 1)]
    assert set(states(fleet).values()) == {"running"}
    assert RUN_TAG not in tags(fleet[0]) and tags(fleet[0])["app"] == "web"  # run tags removed, others kept
    after = read_journal(journal)
    assert [e["event"] for e in after][-1] == "run.finished" and any(e["event"] == "undo.done" for e in after)
    assert (journal.parent / "scorecard.json").is_file()

    assert sweep(store, lambda _s: session, now=started + 8 * 3600) == []    # idempotent
    assert len(read_journal(journal)) == len(after)


def test_a_run_holding_a_live_lock_is_not_swept(fleet, session, tmp_path):
    clock = FakeClock()
    journal = killed_run(tmp_path, session, tmp_path / "results", clock)
    run_id = read_journal(journal)[0]["run_id"]
    store = LocalStore(tmp_path / "results")
    now = clock.now() + 7 * 3600
    acquire(store, run_id, ["some-target"], expires_at=now + 60, now=lambda: now)
    assert sweep(store, lambda _s: session, now=now) == []
    assert set(states(fleet).values()) == {"stopped"}


def test_the_cli_sweeps_and_a_second_sweep_finds_nothing(fleet, session, tmp_path, capsys):
    journal = killed_run(tmp_path, session, tmp_path / "results", FakeClock(start=time.time() - 8 * 3600))
    assert invoke(["rollback", "--expired", "--results", str(tmp_path / "results")]) == 4   # no --yes, no tty
    assert set(states(fleet).values()) == {"stopped"}
    assert invoke(["rollback", "--expired", "--results", str(tmp_path / "results"), "--yes"]) == 0
    assert set(states(fleet).values()) == {"running"}
    assert "rolled back" in capsys.readouterr().out
    lines = len(read_journal(journal))
    assert invoke(["rollback", "--expired", "--results", str(tmp_path / "results"), "--yes"]) == 0
    assert "nothing expired to roll back" in capsys.readouterr().out and len(read_journal(journal)) == lines
    assert invoke(["rollback", "RUN", "--expired"]) == 2


def test_s3_store_a_runner_that_lost_its_disk(fleet, session, tmp_path, monkeypatch):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="results")
    store = S3Store("results", "drills", lambda: session)
    clock = FakeClock()
    journal = killed_run(tmp_path, session, tmp_path / "runner-disk", clock, store=store)
    run_id = journal.parent.name
    shutil.rmtree(tmp_path / "runner-disk")          # the CI runner is gone, with its disk
    live = f"drills/.live/web-stop/{run_id}/journal.jsonl"
    assert b'"event": "change.intent"' in s3.get_object(Bucket="results", Key=live)["Body"].read()

    swept = sweep(store, lambda _s: session, now=clock.now() + 7 * 3600)
    assert [(s.outcome, s.undone) for s in swept] == [("rolled back", 1)]
    assert set(states(fleet).values()) == {"running"}
    assert b'"event": "run.finished"' in s3.get_object(Bucket="results", Key=live)["Body"].read()
    [record] = store.list_runs("web-stop")
    assert record.run_id == run_id and record.scorecard["run"]["status"] == "aborted"
    assert sweep(store, lambda _s: session, now=clock.now() + 8 * 3600) == []
