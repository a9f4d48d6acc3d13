"""`drtool verify` and `drtool rollback` against tampered evidence of a real sandbox run:
a re-sealed scorecard, a deleted newest run, an edited journal, edited reports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from drtool.cli import invoke
from drtool.integrity import seal
from drtool.journal import Journal, genesis_digest, line_digest, record_digest
from drtool.outputs.head import write_head
from drtool.timing import FakeClock

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DRILL = "shop-instance-termination"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """Two chained sandbox runs of one bundled drill, with every report format."""
    folder = tmp_path_factory.mktemp("pristine")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {"PYTHONPATH": str(ROOT)}
    for _ in range(2):
        result = subprocess.run([sys.executable, "-m", "drtool", "run", str(ROOT / "drills/instance-termination.yaml"),
                                 "--sandbox", "--yes", "--results", str(folder / "results"), "--format", "md",
                                 "--format", "html", "--format", "junit"], cwd=folder, env=env,
                                capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr[-2000:]
    return folder / "results"


@pytest.fixture
def results(pristine, tmp_path) -> Path:
    copy = tmp_path / "results"
    shutil.copytree(pristine, copy)
    return copy


def _runs(results: Path) -> list[Path]:
    runs = [p for p in (results / DRILL).iterdir() if p.is_dir()]
    return sorted(runs, key=lambda p: json.loads((p / "scorecard.json").read_text())["run"]["started_at"])


def _verify(results: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = invoke(["verify", str(results)])
    return code, capsys.readouterr().out


def test_intact_runs_verify(results, capsys):
    code, out = _verify(results, capsys)
    assert code == 0, out
    assert "v2 chain, journal checked, 3 report(s)" in out
    assert "cannot prove who wrote the evidence" in out


def _reseal_newest(results: Path, change) -> dict:
    older, newest = _runs(results)
    card = json.loads((newest / "scorecard.json").read_text())
    previous = json.loads((older / "scorecard.json").read_text())["integrity"]
    change(card)
    sealed = seal(card, previous, journal_sha256=card["integrity"]["journal_sha256"])
    (newest / "scorecard.json").write_text(json.dumps(sealed, indent=2))
    return sealed


def _fail_it(card: dict) -> None:
    card["run"]["status"] = "failed"
    card["objectives"]["rto"]["measured_s"] = 999.0


def test_resealed_newest_scorecard_is_caught_by_head_and_journal(results, capsys):
    _reseal_newest(results, _fail_it)
    code, out = _verify(results, capsys)
    assert code == 1
    assert "re-sealed or replaced" in out                       # HEAD.json
    assert "does not match its journal: run.status, objectives.rto differ" in out


def test_resealed_scorecard_with_its_head_rewritten_still_fails_on_its_journal(results, capsys):
    sealed = _reseal_newest(results, _fail_it)
    write_head(results / DRILL, sealed)
    code, out = _verify(results, capsys)
    assert code == 1 and "does not match its journal" in out and "re-sealed or replaced" not in out


def test_deleted_newest_run_is_caught_by_the_head_pointer(results, capsys):
    shutil.rmtree(_runs(results)[-1])
    code, out = _verify(results, capsys)
    assert code == 1 and "the newest run was deleted" in out


def test_deleted_head_pointer(results, capsys):
    (results / DRILL / "HEAD.json").unlink()
    code, out = _verify(results, capsys)
    assert code == 1 and "head pointer was removed" in out


def test_edited_previous_link_breaks_the_chain_digest(results, capsys):
    newest = _runs(results)[-1]
    card = json.loads((newest / "scorecard.json").read_text())
    card["integrity"]["previous_sha256"] = None           # not covered by integrity.sha256
    (newest / "scorecard.json").write_text(json.dumps(card))
    code, out = _verify(results, capsys)
    assert code == 1 and "chain_sha256 does not match the recorded link" in out


def test_edited_journal_line(results, capsys):
    journal = _runs(results)[0] / "journal.jsonl"
    journal.write_text(journal.read_text().replace('"status": "ok"', '"status": "failed"', 1))
    code, out = _verify(results, capsys)
    assert code == 1 and "chain broken" in out


def test_rechained_journal_is_caught_by_the_sealed_head(results, capsys):
    """A forger who rewrites the journal with a valid chain still changes its head."""
    journal = _runs(results)[0] / "journal.jsonl"
    lines = journal.read_text().splitlines()
    rebuilt, prev = [], None
    for line in lines:
        record = json.loads(line)
        record["prev"] = prev or genesis_digest(record["run_id"])
        if record.get("event") == "step.finished" and record.get("status") == "ok":
            record["detail"] = "forged"
        record["sha256"] = record_digest(record)
        text = json.dumps(record, sort_keys=True)
        rebuilt.append(text)
        prev = line_digest(text)
    journal.write_text("\n".join(rebuilt) + "\n")
    code, out = _verify(results, capsys)
    assert code == 1 and "head is not integrity.journal_sha256" in out


@pytest.mark.parametrize("name, edit", [
    ("scorecard.md", lambda t: t.replace("PASSED", "FAILED", 1)),
    ("scorecard.html", lambda t: t.replace("<h1>", "<h1>Edited ", 1)),
    ("junit.xml", lambda t: t.replace('failures="0"', 'failures="1"', 1)),
])
def test_edited_report(results, capsys, name, edit):
    path = _runs(results)[-1] / name
    before = path.read_text()
    path.write_text(edit(before))
    assert path.read_text() != before
    code, out = _verify(results, capsys)
    assert code == 1 and f"{name} differs from a fresh rendering" in out


def test_report_of_another_run(results, capsys):
    older, newest = _runs(results)
    shutil.copy(older / "scorecard.html", newest / "scorecard.html")
    code, out = _verify(results, capsys)
    assert code == 1 and "scorecard.html was rendered from scorecard" in out


# -- drtool rollback refuses an altered journal ------------------------------------------

def _crashed_run(folder: Path, undo: dict) -> Path:
    """A journal as a run that crashed after one change leaves it."""
    path = folder / "drill-results" / "d" / "run-1" / "journal.jsonl"
    journal = Journal(path, FakeClock())
    journal.write("run.started", run_id="run-1", drill="d", scenario="s", mode="live", tool_version="0",
                  service={"name": "x", "tier": "low", "owner": "me"}, objectives={"rto_s": 60.0, "rpo_s": None},
                  account_ids=[], regions=["us-east-1"], aws={"default_region": "us-east-1"})
    journal.write("change.intent", step="s", summary="flip", region="us-east-1", resources=[], undo=undo)
    journal.close()
    return path


def _record(value: str) -> dict:
    return {"Name": "www.example.com.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": value}]}


def _route53_undo(zone_id: str, value: str) -> dict:
    """The drill moved www from `value` to 10.0.0.2; the undo puts `value` back."""
    return {"name": "route53.restore-record", "region": "us-east-1", "account": None,
            "params": {"zone_id": zone_id, "name": "www.example.com.", "type": "A", "previous": _record(value),
                       "applied": _record("10.0.0.2"), "region": "us-east-1"}}


def _drill_changed_it(r53, zone_id: str) -> None:
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": _record("10.0.0.2")}]})


def _records(r53, zone_id: str) -> list:
    return [r for r in r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
            if r["Type"] == "A"]


@pytest.mark.parametrize("tamper", ["edit", "unchained"])
def test_rollback_refuses_an_altered_journal_and_changes_nothing(aws, tmp_path, capsys, monkeypatch, tamper):
    import boto3

    monkeypatch.chdir(tmp_path)
    r53 = boto3.client("route53", region_name="us-east-1")
    zone_id = r53.create_hosted_zone(Name="example.com.", CallerReference="t")["HostedZone"]["Id"].split("/")[-1]
    _drill_changed_it(r53, zone_id)
    path = _crashed_run(tmp_path, _route53_undo(zone_id, "10.0.0.1"))
    if tamper == "edit":     # move the undo to an address of the forger's choosing
        path.write_text(path.read_text().replace("10.0.0.1", "6.6.6.6"))
    else:                    # a hand-written journal without the chain
        path.write_text("\n".join(json.dumps({k: v for k, v in json.loads(line).items() if k != "prev"})
                                  for line in path.read_text().splitlines()) + "\n")
    assert invoke(["rollback", "run-1", "--yes"]) == 2
    err = capsys.readouterr().err
    assert ("was altered" in err) if tamper == "edit" else ("carries no hash chain" in err)
    assert [r["ResourceRecords"] for r in _records(r53, zone_id)] == [[{"Value": "10.0.0.2"}]]


def test_rollback_of_an_intact_journal_shows_what_it_undoes(aws, tmp_path, capsys, monkeypatch):
    import boto3

    monkeypatch.chdir(tmp_path)
    r53 = boto3.client("route53", region_name="us-east-1")
    zone_id = r53.create_hosted_zone(Name="example.com.", CallerReference="t")["HostedZone"]["Id"].split("/")[-1]
    _drill_changed_it(r53, zone_id)
    _crashed_run(tmp_path, _route53_undo(zone_id, "10.0.0.1"))
    assert invoke(["rollback", "run-1", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "route53.restore-record in us-east-1" in out and "10.0.0.1" in out
    assert [r["ResourceRecords"] for r in _records(r53, zone_id)] == [[{"Value": "10.0.0.1"}]]
    assert invoke(["verify", str(tmp_path / "drill-results")]) == 0


# -- a signed run pins its journal ---------------------------------------------------------

@pytest.fixture
def signed_run(session, tmp_path) -> Path:
    """A finished run whose scorecard (and so the journal head) is signed with a KMS key."""
    from drtool.runner import write_scorecard
    from drtool.signing import sign_scorecard, write_signature

    path = _crashed_run(tmp_path, _route53_undo("Z1", "10.0.0.1"))
    journal = Journal(path, FakeClock())
    journal.write("run.finished", status="aborted", reason="test")
    journal.close()
    card = write_scorecard(path.parent, "d")
    key = session.client("kms", "us-east-1").create_key(KeyUsage="SIGN_VERIFY",
                                                        KeySpec="ECC_NIST_P256")["KeyMetadata"]["KeyId"]
    write_signature(path.parent, sign_scorecard(session, key, card))
    return path


def test_signed_journal_accepts_what_rollback_appends(signed_run):
    from drtool.cli.rollback import verified_events

    journal = Journal(signed_run, FakeClock())
    journal.write("undo.done", intent=2, detail="restored", summary="flip")
    journal.close()
    assert [e["event"] for e in verified_events(signed_run, "run-1")][-1] == "undo.done"


def test_signed_journal_accepts_a_replayed_failback_for_the_next_rollback(signed_run):
    """A stopped failback is finished by more than one `drtool rollback`: the failback
    entries and held-back undos the first one appended do not block the next."""
    from drtool.cli.rollback import verified_events

    journal = Journal(signed_run, FakeClock())
    journal.write("failback.step", index=0, kind="undo", name="flip", undoes="flip", status="failed", detail="x")
    journal.write("undo.held", intent=2, summary="flip", reason="held back: the ordered failback stopped at 'flip'")
    journal.write("failback.finished", status="stopped", reason="drtool rollback stopped at failback step 'flip'")
    journal.close()
    assert [e["event"] for e in verified_events(signed_run, "run-1")][-1] == "failback.finished"


def test_signed_journal_refuses_a_validly_chained_forgery(signed_run):
    from drtool.cli.rollback import verified_events
    from drtool.errors import UsageError

    journal = Journal(signed_run, FakeClock())        # the chain stays valid: only the signature shows it
    journal.write("change.intent", step="s", summary="forged", region="us-east-1", resources=[],
                  undo=_route53_undo("Z1", "6.6.6.6"))
    journal.close()
    with pytest.raises(UsageError, match="added after it was signed"):
        verified_events(signed_run, "run-1")


def test_signed_journal_rewritten_whole_is_refused(signed_run):
    from drtool.cli.rollback import verified_events
    from drtool.errors import UsageError

    signed_run.unlink()
    _crashed_run(signed_run.parent.parent.parent.parent, _route53_undo("Z1", "6.6.6.6"))
    with pytest.raises(UsageError, match="not the journal that was signed"):
        verified_events(signed_run, "run-1")
