"""`drtool verify`: a tamper test per field class, each exit 1 naming what was found;
bad input exit 2 without a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from drtool.cli import invoke
from tests.outputs.conftest import write_run


def _edit(folder: Path, change) -> None:
    path = folder / "scorecard.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc, indent=2))


def test_intact_chain_exits_0(chain, capsys):
    assert invoke(["verify", str(chain[0].parent.parent)]) == 0
    out = capsys.readouterr().out
    assert out.count("ok ") == 3 and "intact: 3 scorecards checked" in out


def test_one_run_folder_checks_the_stored_chain(chain, capsys):
    assert invoke(["verify", str(chain[2])]) == 0
    assert "intact: 3 scorecards" in capsys.readouterr().out


@pytest.mark.parametrize(("field", "change"), [
    ("figure", lambda d: d["objectives"]["rto"].__setitem__("measured_s", 200.0)),
    ("verdict", lambda d: d["run"].__setitem__("status", "passed")),
    ("timestamp", lambda d: d["objectives"]["rto"].__setitem__("recovered_at", "2026-01-02T00:03:00.000Z")),
    ("timeline", lambda d: d["timeline"][3].__setitem__("ended_at", "2026-01-02T00:02:30.000Z")),
    ("target", lambda d: d["objectives"]["rto"].__setitem__("target_s", 1800)),
])
def test_edited_field_is_a_digest_mismatch(chain, capsys, field, change):
    _edit(chain[1], change)
    assert invoke(["verify", str(chain[1])]) == 1, field
    out = capsys.readouterr().out
    assert f"TAMPERED {chain[1] / 'scorecard.json'}: digest mismatch" in out
    assert "tampering found" in out


def test_deleted_run_is_a_chain_gap(chain, capsys):
    shutil.rmtree(chain[1])
    assert invoke(["verify", str(chain[2])]) == 1
    out = capsys.readouterr().out
    assert "TAMPERED chain checkout-region-loss: gap: run run-3 names previous" in out


def test_deleted_first_run_is_a_chain_gap(chain, capsys):
    shutil.rmtree(chain[0])
    assert invoke(["verify", str(chain[0].parent)]) == 1
    assert "gap: run run-2" in capsys.readouterr().out


def test_forked_chain(chain, make_scorecard, capsys):
    second = json.loads((chain[1] / "scorecard.json").read_text())
    rival = make_scorecard("passed", second["integrity"]["previous_sha256"], start=1.5 * 86400, run_id="run-x")
    write_run(chain[0].parent.parent, rival)
    assert invoke(["verify", str(chain[0].parent)]) == 1
    assert "fork: runs run-2, run-x all name previous" in capsys.readouterr().out


def test_rewritten_previous_link_is_a_gap(chain, capsys):
    _edit(chain[2], lambda d: d["integrity"].__setitem__("previous_sha256", "0" * 64))
    assert invoke(["verify", str(chain[2])]) == 1
    out = capsys.readouterr().out
    assert "gap: run run-3 names previous 0000000000000000" in out


def test_loose_copy_without_its_store_is_intact_with_a_note(chain, tmp_path, capsys):
    loose = tmp_path / "elsewhere" / "scorecard.json"
    loose.parent.mkdir()
    shutil.copy(chain[2] / "scorecard.json", loose)
    assert invoke(["verify", str(loose)]) == 0
    out = capsys.readouterr().out
    assert "note: chain checkout-region-loss" in out and "intact" in out


def test_required_signature_missing(chain, capsys):
    assert invoke(["verify", "--require-signature", str(chain[0])]) == 1
    assert "not signed (no scorecard.sig.json)" in capsys.readouterr().out


def test_json_output(chain, capsys):
    _edit(chain[0], lambda d: d["run"].__setitem__("started_at", "2025-12-31T00:00:00.000Z"))
    assert invoke(["verify", "--json", str(chain[0])]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["intact"] is False and any("digest mismatch" in p["problem"] for p in result["problems"])


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file or folder"),
    ("{not json", "not JSON"),
    ('{"hello": 1}', "not a drtool scorecard"),
])
def test_bad_input_exits_2_with_a_clear_message(tmp_path, capsys, content, message):
    path = tmp_path / "scorecard.json"
    if content is not None:
        path.write_text(content)
    assert invoke(["verify", str(path)]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err + captured.out


def test_empty_folder_exits_2(tmp_path, capsys):
    assert invoke(["verify", str(tmp_path)]) == 2
    assert "no scorecard.json" in capsys.readouterr().err


def test_unreadable_stored_sibling_is_tampering(chain, capsys):
    (chain[1] / "scorecard.json").write_text("{ truncated")
    assert invoke(["verify", str(chain[2])]) == 1
    out = capsys.readouterr().out
    assert f"{chain[1] / 'scorecard.json'}: not JSON" in out
