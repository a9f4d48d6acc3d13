"""Outputs on scorecards the real runner writes (fake registry entries from tests/unit):
formats next to scorecard.json, signing with --sign-key, the chain, verify, history."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from drtool.cli import invoke
from tests.unit import fake_entries
from tests.unit.test_runner import DRILL, SCENARIO


@pytest.fixture
def drill(tmp_path: Path, monkeypatch) -> Path:
    fake_entries.register()
    fake_entries.reset()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "flip.yaml").write_text(SCENARIO.replace("seconds: 1}", "seconds: 0}"))
    path = tmp_path / "drills" / "flip.yaml"
    path.parent.mkdir()
    path.write_text(DRILL.replace("poll: 0.5s", "poll: 0.1s"))
    return path


def _run(drill: Path, params: str, key: str) -> int:
    fake_entries.reset()
    drill.write_text(drill.read_text().replace("parameters: {}", f"parameters: {params}"))
    try:
        return invoke(["run", str(drill), "--yes", "--format", "md", "--format", "html", "--format", "junit",
                       "--sign-key", key])
    finally:
        drill.write_text(drill.read_text().replace(f"parameters: {params}", "parameters: {}"))


def test_runner_scorecards_render_sign_chain_and_verify(aws, session, drill, capsys):
    key = session.client("kms").create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["Arn"]
    assert _run(drill, "{recover_after: 0.1}", key) == 0
    assert _run(drill, "{fail_inject: true}", key) == 3
    runs = sorted(Path("drill-results").glob("*/*/scorecard.json"),
                  key=lambda p: json.loads(p.read_text())["run"]["started_at"])
    assert len(runs) == 2
    first, second = (json.loads(p.read_text()) for p in runs)
    assert second["integrity"]["previous_sha256"] == first["integrity"]["sha256"]
    for path in runs:
        names = {p.name for p in path.parent.iterdir()}
        assert {"scorecard.md", "scorecard.html", "junit.xml", "scorecard.sig.json"} <= names
    passed = ET.parse(runs[0].parent / "junit.xml").getroot()
    assert passed.get("failures") == "0" and passed.get("errors") == "0"
    aborted = ET.parse(runs[1].parent / "junit.xml").getroot()
    assert int(aborted.get("errors")) >= 1
    capsys.readouterr()
    assert invoke(["verify", "--kms", "--require-signature", "drill-results"]) == 0
    assert "intact: 2 scorecards" in capsys.readouterr().out
    assert invoke(["history", "--json"]) == 0
    history = json.loads(capsys.readouterr().out)["drills"][0]
    assert [r["status"] for r in history["runs"]] == ["aborted", "passed"]
