"""Results store: local layout, S3 publishing with Object Lock retention (read back with
head_object; moto's get_object_retention is a 500), and verify/history over s3:// URLs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from drtool.cli import invoke
from drtool.errors import UsageError
from drtool.outputs.store import LocalStore, S3Store, open_store
from tests.outputs.conftest import write_run

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY = 86400.0


def test_open_store_kinds(tmp_path):
    assert isinstance(open_store(None), LocalStore) and open_store(None).root.name == "drill-results"
    assert open_store(str(tmp_path)).root == tmp_path
    s3 = open_store("s3://evidence/drtool/prod", lambda: None, retain="400d")
    assert isinstance(s3, S3Store) and (s3.bucket, s3.prefix, s3.retain_s) == ("evidence", "drtool/prod", 400 * DAY)
    with pytest.raises(UsageError):
        open_store(str(tmp_path), retain="400d")
    with pytest.raises(UsageError):
        open_store("s3://", lambda: None)


def test_local_list_previous_and_publish(chain, tmp_path):
    store = LocalStore(chain[0].parent.parent)
    runs = store.list_runs("checkout-region-loss")
    assert [r.run_id for r in runs] == ["run-1", "run-2", "run-3"]
    newest = json.loads((chain[2] / "scorecard.json").read_text())
    assert store.previous_digest("checkout-region-loss") == newest["integrity"]["sha256"]
    assert store.previous_digest("other-drill") is None
    other = LocalStore(tmp_path / "copy")
    published = other.publish(chain[0], "checkout-region-loss", "run-1")
    assert {p.location.split("/")[-1] for p in published} == {"scorecard.json", "journal.jsonl"}
    with pytest.raises(UsageError):
        other.publish(chain[0], "../escape", "run-1")


def _bucket(session, name, mode=None):
    s3 = session.client("s3")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=mode is not None)
    if mode:
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, "Days": 1}}})
    return s3


@pytest.mark.parametrize("mode", ["COMPLIANCE", "GOVERNANCE"])
def test_publish_sets_object_lock_retention(session, chain, mode):
    s3 = _bucket(session, "drill-evidence", mode)
    store = S3Store("drill-evidence", "prod", lambda: session, retain_s=400 * DAY, clock=lambda: NOW)
    published = store.publish(chain[0], "checkout-region-loss", "run-1")
    assert {p.location for p in published} == {
        "s3://drill-evidence/prod/checkout-region-loss/run-1/scorecard.json",
        "s3://drill-evidence/prod/checkout-region-loss/run-1/journal.jsonl"}
    head = s3.head_object(Bucket="drill-evidence", Key="prod/checkout-region-loss/run-1/scorecard.json")
    assert head["ObjectLockMode"] == mode
    assert head["ObjectLockRetainUntilDate"] == datetime(2027, 2, 5, tzinfo=UTC)  # +400 days
    assert all(p.problem is None and p.lock_mode == mode for p in published)
    assert published[0].retain_until == "2027-02-05T00:00:00Z"
    # The locked version cannot be deleted.
    version = head["VersionId"]
    with pytest.raises(Exception, match="AccessDenied"):
        s3.delete_object(Bucket="drill-evidence", Key="prod/checkout-region-loss/run-1/scorecard.json",
                         VersionId=version)


def test_publish_without_object_lock_and_preflight(session, chain):
    s3 = _bucket(session, "plain-results")
    store = S3Store("plain-results", "", lambda: session, retain_s=None)
    store.publish(chain[0], "checkout-region-loss", "run-1")
    head = s3.head_object(Bucket="plain-results", Key="checkout-region-loss/run-1/scorecard.json")
    assert "ObjectLockMode" not in head
    with pytest.raises(UsageError, match="Object Lock"):
        S3Store("plain-results", "", lambda: session, retain_s=DAY).preflight()


def _publish_chain(session, chain, bucket="drill-evidence", prefix="prod"):
    store = S3Store(bucket, prefix, lambda: session)
    for folder in chain:
        store.publish(folder, folder.parent.name, folder.name)
    return store


def test_s3_listing_previous_digest_verify_and_history(session, chain, capsys):
    _bucket(session, "drill-evidence", "GOVERNANCE")
    store = _publish_chain(session, chain)
    assert [r.run_id for r in store.list_runs()] == ["run-1", "run-2", "run-3"]
    newest = json.loads((chain[2] / "scorecard.json").read_text())
    assert store.previous_digest("checkout-region-loss") == newest["integrity"]["sha256"]

    assert invoke(["verify", "s3://drill-evidence/prod/checkout-region-loss/run-3/scorecard.json"]) == 0
    assert "intact: 3 scorecards" in capsys.readouterr().out
    assert invoke(["verify", "s3://drill-evidence/prod"]) == 0
    capsys.readouterr()
    assert invoke(["history", "--results", "s3://drill-evidence/prod", "--now", "2026-02-01T00:00:00Z"]) == 0
    assert "checkout-region-loss" in capsys.readouterr().out


def test_s3_overwrite_and_delete_are_tampering(session, chain, capsys):
    s3 = _bucket(session, "drill-evidence", "GOVERNANCE")
    _publish_chain(session, chain)
    key = "prod/checkout-region-loss/run-2/scorecard.json"
    doc = json.loads(s3.get_object(Bucket="drill-evidence", Key=key)["Body"].read())
    doc["objectives"]["rto"]["measured_s"] = 10.0
    s3.put_object(Bucket="drill-evidence", Key=key, Body=json.dumps(doc).encode())
    assert invoke(["verify", "s3://drill-evidence/prod/checkout-region-loss/run-3/"]) == 1
    out = capsys.readouterr().out
    assert f"s3://drill-evidence/{key} was overwritten" in out and "digest mismatch" in out

    s3.delete_object(Bucket="drill-evidence", Key="prod/checkout-region-loss/run-1/scorecard.json")
    assert invoke(["verify", "s3://drill-evidence/prod/checkout-region-loss/run-3/scorecard.json"]) == 1
    out = capsys.readouterr().out
    assert "run-1/scorecard.json was deleted" in out and "gap: run run-2" in out
    assert invoke(["verify", "s3://drill-evidence/prod"]) == 1
    assert "run-1/scorecard.json was deleted" in capsys.readouterr().out


def test_missing_s3_object_is_bad_input(session, capsys):
    _bucket(session, "drill-evidence")
    assert invoke(["verify", "s3://drill-evidence/nope/scorecard.json"]) == 2
    assert "no such object" in capsys.readouterr().err


def test_publish_run_folder_written_by_the_runner(session, tmp_path, make_scorecard):
    """The runner's call shape: open_store(url, retain=...) then publish(run_dir, drill, run_id)."""
    _bucket(session, "drill-evidence", "COMPLIANCE")
    folder = write_run(tmp_path, make_scorecard())
    store = open_store("s3://drill-evidence/x", lambda: session, retain="2d")
    published = store.publish(folder, "checkout-region-loss", folder.name)
    assert all(p.lock_mode == "COMPLIANCE" and p.retain_until for p in published)


def test_attest_and_verify_on_s3(session, chain, capsys):
    _bucket(session, "drill-evidence", "COMPLIANCE")
    _publish_chain(session, chain)
    url = "s3://drill-evidence/prod/checkout-region-loss/run-2/"
    assert invoke(["attest", url, "--reviewer", "Dana", "--sign-off", "--now", "2026-01-05T10:00:00Z"]) == 0
    written = capsys.readouterr().out.strip()
    assert written == "s3://drill-evidence/prod/checkout-region-loss/run-2/attestation-20260105T100000.000Z.json"
    head = session.client("s3").head_object(
        Bucket="drill-evidence", Key="prod/checkout-region-loss/run-2/attestation-20260105T100000.000Z.json")
    assert head["ObjectLockMode"] == "COMPLIANCE"  # the bucket's default retention applies
    assert invoke(["verify", url]) == 0
    assert "1 attestation" in capsys.readouterr().out
