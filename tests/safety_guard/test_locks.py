"""One drill at a time per target: locks in a local results folder and in S3 (moto)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from drtool.documents import load_drill
from drtool.errors import GuardrailRefusal
from drtool.guardrails import prepare
from drtool.locks import LOCK_DIR, S3Backend, acquire, live_locks, lock_name, target_keys
from drtool.outputs.store import LocalStore, S3Store
from drtool.timing import FakeClock

SCENARIO = """\
kind: scenario
name: stop
parameters:
  app: {type: string}
inject:
  - action: ec2.stop-instances
    targets: {tags: {app: "${app}"}}
"""

DRILL = """\
kind: drill
name: NAME
scenario: stop
service: {name: web}
parameters: {app: APP}
objectives: {rto: 1m}
guardrails:
  accounts: ["123456789012"]
"""


def plan_for(tmp_path: Path, session, name: str, app: str):
    (tmp_path / "scenarios").mkdir(exist_ok=True)
    (tmp_path / "drills").mkdir(exist_ok=True)
    (tmp_path / "scenarios" / "stop.yaml").write_text(SCENARIO)
    path = tmp_path / "drills" / f"{name}.yaml"
    path.write_text(DRILL.replace("NAME", name).replace("APP", app))
    return prepare(load_drill(path), session, FakeClock(), seed=1)


@pytest.fixture
def fleet(aws):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ids = {}
    for app in ("web", "api"):
        ids[app] = [i["InstanceId"] for i in ec2.run_instances(
            ImageId="ami-12345678", MinCount=2, MaxCount=2, TagSpecifications=[{
                "ResourceType": "instance", "Tags": [{"Key": "app", "Value": app}]}])["Instances"]]
    return ids


def test_overlapping_runs_second_is_refused_naming_the_first(fleet, session, tmp_path):
    store = LocalStore(tmp_path / "results")
    first = plan_for(tmp_path, session, "web-a", "web")
    second = plan_for(tmp_path, session, "web-b", "web")
    other = plan_for(tmp_path, session, "api", "api")
    keys = target_keys(first)
    assert keys == sorted(f"123456789012/us-east-1/ec2:instance/{i}" for i in fleet["web"])
    held = acquire(store, "run-A", keys, expires_at=2000.0, drill="web-a", now=lambda: 1000.0)
    with pytest.raises(GuardrailRefusal) as err:
        acquire(store, "run-B", target_keys(second), expires_at=2000.0, drill="web-b", now=lambda: 1000.0)
    assert err.value.exit_code == 4 and err.value.guardrail == "lock"
    assert "run run-A (drill web-a) holds 123456789012/us-east-1/ec2:instance/" in err.value.message
    files = sorted((tmp_path / "results" / LOCK_DIR).iterdir())
    assert [json.loads(f.read_text())["run_id"] for f in files] == ["run-A", "run-A"]   # B left nothing behind
    acquire(store, "run-C", target_keys(other), expires_at=2000.0, now=lambda: 1000.0).release()  # disjoint: fine
    held.release()
    assert list((tmp_path / "results" / LOCK_DIR).iterdir()) == []
    acquire(store, "run-B", target_keys(second), expires_at=2000.0, now=lambda: 1000.0)


def test_a_partial_overlap_takes_nothing(tmp_path):
    store = LocalStore(tmp_path)
    acquire(store, "run-A", ["t2"], expires_at=2000.0, now=lambda: 1000.0)
    with pytest.raises(GuardrailRefusal, match="run run-A"):
        acquire(store, "run-B", ["t1", "t2", "t3"], expires_at=2000.0, now=lambda: 1000.0)
    assert sorted(p.name for p in (tmp_path / LOCK_DIR).iterdir()) == [lock_name("t2")]


def test_an_expired_lock_is_taken_over_with_a_note(tmp_path):
    store = LocalStore(tmp_path)
    acquire(store, "run-A", ["t1"], expires_at=1500.0, now=lambda: 1000.0)
    lock = acquire(store, "run-B", ["t1"], expires_at=3000.0, now=lambda: 2000.0)
    assert lock.notes == ["took over the expired lock of run run-A on t1"]
    assert json.loads((tmp_path / LOCK_DIR / lock_name("t1")).read_text())["run_id"] == "run-B"
    assert live_locks(store, 2000.0) == {"run-B": 3000.0}


def test_a_torn_lock_file_does_not_block_forever(tmp_path):
    (tmp_path / LOCK_DIR).mkdir()
    (tmp_path / LOCK_DIR / lock_name("t1")).write_text("{not json")
    lock = acquire(LocalStore(tmp_path), "run-B", ["t1"], expires_at=3000.0, now=lambda: 2000.0)
    assert lock.notes and "run-B" in (tmp_path / LOCK_DIR / lock_name("t1")).read_text()


def test_release_leaves_a_lock_someone_else_took_over(tmp_path):
    store = LocalStore(tmp_path)
    old = acquire(store, "run-A", ["t1"], expires_at=1500.0, now=lambda: 1000.0)
    acquire(store, "run-B", ["t1"], expires_at=3000.0, now=lambda: 2000.0)
    old.release()                       # run A comes back late: it must not free B's lock
    assert live_locks(store, 2000.0) == {"run-B": 3000.0}


@pytest.fixture
def bucket(aws):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="results")
    return S3Store("results", "drills", lambda: None)


def s3_store(session):
    store = S3Store("results", "drills", lambda: session)
    return store


def test_s3_locks_use_conditional_writes(bucket, session):
    """moto 5.2 honours IfNoneMatch="*" and IfMatch on PutObject (412 PreconditionFailed),
    checked here directly; moto serialises requests, so a true race (409) is not exercised."""
    store = s3_store(session)
    backend = S3Backend(store)
    assert backend.create("x.json", b"{}") is not None
    assert backend.create("x.json", b"{}") is None                     # If-None-Match: * refused
    assert backend.replace("x.json", b"{}", '"not-the-etag"') is None   # If-Match refused
    boto3.client("s3", region_name="us-east-1").delete_object(Bucket="results", Key="drills/.locks/x.json")
    lock = acquire(store, "run-A", ["t1", "t2"], expires_at=2000.0, drill="a", now=lambda: 1000.0)
    with pytest.raises(GuardrailRefusal, match="run run-A"):
        acquire(store, "run-B", ["t2"], expires_at=2000.0, now=lambda: 1000.0)
    keys = [o["Key"] for o in boto3.client("s3", region_name="us-east-1").list_objects_v2(
        Bucket="results", Prefix="drills/.locks/")["Contents"]]
    assert sorted(keys) == sorted(f"drills/.locks/{lock_name(t)}" for t in ("t1", "t2"))
    assert live_locks(store, 1000.0) == {"run-A": 2000.0}
    assert store.list_runs() == []                                        # locks are not runs
    lock.release()
    assert live_locks(store, 1000.0) == {}
    taken = acquire(store, "run-B", ["t2"], expires_at=2000.0, now=lambda: 1000.0)
    assert taken.held


def test_s3_expired_lock_takeover_uses_if_match(bucket, session):
    store = s3_store(session)
    acquire(store, "run-A", ["t1"], expires_at=1500.0, now=lambda: 1000.0)
    lock = acquire(store, "run-B", ["t1"], expires_at=3000.0, now=lambda: 2000.0)
    assert lock.notes == ["took over the expired lock of run run-A on t1"]
    assert live_locks(store, 2000.0) == {"run-B": 3000.0}
