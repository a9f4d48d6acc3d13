"""Issue 15: a drill that names its services file takes its tier's objectives for the
scenario's disruption type when it states none of its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from drtool.documents import load_drill
from drtool.errors import DocumentError

ROOT = Path(__file__).resolve().parents[2]


def _drill(tmp_path: Path, extra: str) -> Path:
    shutil.copy(ROOT / "drills" / "services.yaml", tmp_path / "services.yaml")
    text = (ROOT / "drills" / "rds-failover.yaml").read_text()
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("objectives:"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i] and not lines[i].startswith(" "))
    kept = lines[:start] + lines[end:]
    path = tmp_path / "drill.yaml"
    path.write_text("\n".join(kept).replace("scenario: rds-failover", f"scenario: {ROOT / 'scenarios' / 'rds-failover.yaml'}")
                    + "\n" + extra)
    return path


def test_objectives_default_from_the_service_tier(tmp_path, monkeypatch):
    from drtool.services.estate import load_services

    monkeypatch.setenv("DRTOOL_SCENARIOS", str(ROOT / "scenarios"))
    drill = load_drill(_drill(tmp_path, "services: services.yaml\n"))
    estate = load_services(tmp_path / "services.yaml")
    wanted = estate.objective(drill.doc.service.name, "instance")
    assert wanted is not None
    assert (drill.objectives.rto, drill.objectives.rpo) == (wanted.rto, wanted.rpo)


def test_no_objectives_and_no_services_file_is_a_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("DRTOOL_SCENARIOS", str(ROOT / "scenarios"))
    with pytest.raises(DocumentError) as caught:
        load_drill(_drill(tmp_path, ""))
    assert "no `objectives:`" in str(caught.value)


def test_a_broken_services_file_is_a_problem_even_with_own_objectives(tmp_path, monkeypatch, capsys):
    """Runs attribute failures to services from the file the drill names, so `validate` reads
    it even when the drill states its own objectives (one problem naming file and line)."""
    from drtool.cli import invoke

    monkeypatch.setenv("DRTOOL_SCENARIOS", str(ROOT / "scenarios"))
    path = _drill(tmp_path, "services: services.yaml\nobjectives: {rto: 10m}\n")
    assert load_drill(path).objectives.rto == 600
    (tmp_path / "services.yaml").write_text("kind: services\nservices: [not, a, mapping]\n")
    with pytest.raises(DocumentError) as caught:
        load_drill(path)
    assert "services file" in str(caught.value) and "has problems" in str(caught.value)
    capsys.readouterr()
    code = invoke(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and f"{path}:34:1: services file" in err and "Traceback" not in err
