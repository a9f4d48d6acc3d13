"""Every scorecard and journal event the bundled drills produce in the sandbox matches its
type: drtool.scorecard_model.Scorecard and drtool.events (one run per bundled drill)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drtool.events import EVENTS, check_event
from drtool.scorecard_model import Scorecard

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DRILLS = sorted(p for p in (ROOT / "drills").glob("*.yaml") if "kind: drill" in p.read_text())   # not services.yaml


@pytest.mark.parametrize("drill", DRILLS, ids=[d.stem for d in DRILLS])
def test_bundled_drill_records_match_their_types(drill, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-m", "drtool", "run", str(drill), "--sandbox", "--yes"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-3000:]
    [run] = [p.parent for p in (tmp_path / "drill-results").glob("*/*/scorecard.json")]
    card = Scorecard.model_validate(json.loads((run / "scorecard.json").read_text()))
    assert card.integrity is not None and card.run.mode == "sandbox"
    events = [json.loads(line) for line in (run / "journal.jsonl").read_text().splitlines()]
    problems = [p for e in events for p in check_event(e)]
    assert not problems, problems
    assert {"run.started", "fault", "recovered", "run.finished"} <= {e["event"] for e in events} <= set(EVENTS)
