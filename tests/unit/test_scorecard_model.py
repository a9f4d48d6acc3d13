"""The typed scorecard and journal events: the model accepts what build_scorecard folds, refuses
what is malformed, and `drtool schema --scorecard` prints its JSON Schema."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from drtool.cli.schema import command as schema_command
from drtool.events import check_event
from drtool.scorecard import build_scorecard
from drtool.scorecard_model import Scorecard

T0 = 1_700_000_000.0


def _events() -> list[dict]:
    base = {"prev": "0" * 64, "sha256": "1" * 64}

    def ev(seq: int, name: str, t: float, **fields):
        return {"seq": seq, "event": name, "t": t, "at": f"2023-11-14T22:13:{seq:02d}Z", **fields, **base}

    return [
        ev(1, "run.started", T0, run_id="r1", drill="d", scenario="s", mode="sandbox", service={"name": "web"},
           tool_version="0", objectives={"rto_s": 60.0, "rpo_s": None}, account_ids=["123456789012"],
           regions=["us-east-1"], seed=None, schedule_every_s=None, drill_path="/d.yaml", parameters={},
           sources={}, poll_s=0.5, operator="me", time_scale=1 / 30, expires_at=None, time_limit_s=600.0,
           steady_state_checks=1, aws={}),
        ev(2, "fault", T0 + 1),
        ev(3, "impact", T0 + 3, detail="targets unhealthy"),
        ev(4, "recovered", T0 + 9),
        ev(5, "run.finished", T0 + 10, status="passed", reason=None),
    ]


def test_the_folded_scorecard_validates_with_the_spec_7_2_fields():
    events = _events()
    assert [p for e in events for p in check_event(e)] == []
    card = Scorecard.model_validate(build_scorecard(events))
    assert (card.objectives.rto.impact_observed, card.objectives.rto.detection_s,
            card.objectives.rto.downtime_s, card.objectives.rto.measured_s) == (True, 2.0, 6.0, 8.0)


def test_malformed_scorecards_and_events_are_refused():
    card = build_scorecard(_events())
    card["objectives"]["rto"]["impact_observed"] = "maybe"
    with pytest.raises(ValidationError):
        Scorecard.model_validate(card)
    card = build_scorecard(_events())
    del card["rollback"]["remaining"]
    with pytest.raises(ValidationError):
        Scorecard.model_validate(card)
    bad = _events()[2] | {"surprise": 1}
    assert check_event(bad) == ["impact: unexpected surprise"]
    assert check_event({"event": "nope"}) == ["unknown event 'nope'"]
    finished = {k: v for k, v in _events()[4].items()} | {"event": "step.finished", "phase": "verify", "step": "s",
                                                         "kind": "check", "index": 0, "status": "ok", "detail": ""}
    del finished["reason"]
    assert check_event({k: v for k, v in finished.items() if k != "status"}) == ["step.finished: missing status"]
    assert check_event(finished) == []          # `data` is optional


def test_schema_command_prints_the_scorecard_schema():
    result = CliRunner().invoke(schema_command, ["--scorecard"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$id"] == "drtool.scorecard/v1"
    rto = schema["$defs"]["Rto"]["properties"]
    assert {"impact_at", "impact_observed", "detection_s", "downtime_s"} <= set(rto)
    assert "lost_canaries" in schema["$defs"]["Rpo"]["properties"]
    assert "reason" in schema["$defs"]["Remaining"]["required"]
