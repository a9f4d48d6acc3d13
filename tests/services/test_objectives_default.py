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
