"""Synthetic stored runs for coverage and dashboard tests (no AWS)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "drills" / "services.yaml"


def store_run(root: Path, drill: str, run_id: str, *, service: str, scenario: str, mode: str = "live",
              status: str = "passed", started_at: str = "2026-03-01T10:00:00.000Z", rto: float = 60.0,
              rto_target: float = 900.0, rpo: float | None = None, timeline: list | None = None,
              targets: list | None = None, follow_up: list | None = None) -> Path:
    card = {"schema": "drtool.scorecard/v1",
            "run": {"drill": drill, "id": run_id, "mode": mode, "status": status, "started_at": started_at,
                    "scenario": scenario},
            "service": {"name": service, "tier": "x", "owner": "y"},
            "objectives": {"rto": {"measured_s": rto, "target_s": rto_target, "met": rto <= rto_target},
                           "rpo": {"measured_s": rpo, "target_s": None, "met": None}},
            "schedule": {"every_s": 90 * 86400}, "timeline": timeline or [], "targets": targets or [],
            "follow_up": follow_up or [], "posture": None}
    from drtool.integrity import scorecard_digest

    card["integrity"] = {"sha256": scorecard_digest(card)}
    folder = root / drill / run_id
    folder.mkdir(parents=True)
    (folder / "scorecard.json").write_text(json.dumps(card))
    return folder


@pytest.fixture
def results(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    root.mkdir()
    return root
