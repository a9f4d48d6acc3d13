"""Every scorecard and journal event the bundled drills produce in the sandbox matches its
type: drtool.scorecard_model.Scorecard and drtool.events (one run per bundled drill)."""

from __future__ import annotations

import json

import pytest

from drtool.events import EVENTS, check_event
from drtool.scorecard_model import Scorecard
from tests.bundled_runs import DRILLS

pytestmark = pytest.mark.e2e



@pytest.mark.parametrize("drill", DRILLS, ids=[d.stem for d in DRILLS])
def test_bundled_drill_records_match_their_types(drill, bundled_runs):
    result = bundled_runs(drill)
    assert result.done.returncode == 0, result.done.stderr[-3000:]
    run = result.run_dir
    card = Scorecard.model_validate(json.loads((run / "scorecard.json").read_text()))
    assert card.integrity is not None and card.run.mode == "sandbox"
    events = [json.loads(line) for line in (run / "journal.jsonl").read_text().splitlines()]
    problems = [p for e in events for p in check_event(e)]
    assert not problems, problems
    assert {"run.started", "fault", "recovered", "run.finished"} <= {e["event"] for e in events} <= set(EVENTS)
