"""The renderers read one typed scorecard: a current one validates as written; an older or
partial one (history and dashboards read files older versions wrote) is read leniently,
block by block, and still renders in every format without a traceback."""

from __future__ import annotations

import copy
import json

from drtool.integrity import seal
from drtool.outputs import render
from drtool.outputs.card import describe_remaining, field_at, read_scorecard
from drtool.outputs.history import drill_history
from drtool.scorecard import build_scorecard
from drtool.scorecard_model import Remaining, Scorecard
from tests.outputs.conftest import base_scorecard

T0 = 1_700_000_000.0


def _folded() -> dict:
    base = {"prev": "0" * 64, "sha256": "1" * 64}

    def ev(seq: int, name: str, t: float, **fields):
        return {"seq": seq, "event": name, "t": t, "at": f"2023-11-14T22:13:{seq:02d}.000Z", **fields, **base}

    return build_scorecard([
        ev(1, "run.started", T0, run_id="r1", drill="d", scenario="s", mode="live",
           service={"name": "web", "tier": "critical", "owner": "me"}, tool_version="0",
           objectives={"rto_s": 60.0, "rpo_s": None}, account_ids=["123456789012"], regions=["us-east-1"],
           seed=None, schedule_every_s=None, drill_path="/d.yaml", parameters={}, sources={}, poll_s=0.5,
           operator="me", time_scale=1.0, expires_at=None, time_limit_s=600.0, steady_state_checks=0, aws={}),
        ev(2, "fault", T0 + 1), ev(3, "recovered", T0 + 9), ev(4, "run.finished", T0 + 10, status="passed", reason=None),
    ])


def test_a_current_scorecard_validates_as_written():
    card = _folded()
    typed = read_scorecard(card)
    assert typed == Scorecard.model_validate(card)
    assert typed.service.tier == "critical" and typed.objectives.rto.measured_s == 8.0
    assert read_scorecard(typed) is typed


def test_a_partial_scorecard_keeps_what_validates_and_reads_the_rest_as_none():
    card = {"schema": "drtool.scorecard/v1",
            "run": {"id": "r9", "mode": "live", "status": "no-such-status", "started_at": 5},
            "objectives": {"rto": {"target_s": 60, "measured_s": 12.5, "met": True, "surprise": 1}},
            "timeline": [{"phase": "verify", "step": "ok?", "status": "failed"}, "not a record"],
            "rollback": {"status": "incomplete", "remaining": ["subnet-1 still black-holed"]},
            "posture": "broken", "future_field": {"kept": True}}
    typed = read_scorecard(card)
    assert (typed.run.id, typed.run.mode, typed.run.status, typed.run.started_at) == ("r9", "live", None, None)
    assert typed.objectives.rto.measured_s == 12.5 and typed.objectives.rto.fault_at is None
    assert typed.objectives.rpo.target_s is None and typed.objectives.rpo.measurements == []
    assert [t.step for t in typed.timeline] == ["ok?"] and typed.timeline[0].detail is None
    assert typed.targets == [] and typed.posture is None and typed.integrity is None
    assert typed.model_extra == {"future_field": {"kept": True}}
    assert [describe_remaining(r) for r in typed.rollback.remaining] == ["subnet-1 still black-holed"]
    assert "rollback" in typed.model_fields_set and "manual" not in typed.model_fields_set
    for fmt in ("md", "html", "junit"):
        assert "r9" in render(card, fmt)
    rows = drill_history("d", [card, {}], now=T0).runs            # an empty file reads as an empty card
    assert [(r.run_id, r.status, r.rto_measured_s) for r in rows] == [("r9", "unknown", 12.5), ("None", "unknown", None)]


def test_nothing_is_reserialised_the_digest_is_checked_on_the_file_as_written():
    sealed = seal(base_scorecard(), None)
    assert "matches the content" in render(sealed, "md")
    edited = copy.deepcopy(sealed)
    edited["objectives"]["rto"]["measured_s"] = 1.0       # the model would read it happily
    assert "FAILS" in render(edited, "md") and "FAILS" in render(edited, "html")


def test_controls_paths_walk_models_and_open_mappings():
    typed = read_scorecard(base_scorecard())
    assert field_at(typed, "objectives.rpo.evidence") == {"sequence": 118}
    assert field_at(typed, "service.tier") == "critical" and field_at(typed, "run.nope") is None
    assert set(field_at(typed, "objectives")) == {"rto", "rpo"}
    assert describe_remaining(Remaining(summary="s", undo="u", region=None, step=None, reason="r")) == "s [u]: r"


def test_the_schema_documents_the_attribution_section():
    from drtool.scorecard_model import scorecard_json_schema

    schema = scorecard_json_schema()
    assert "attribution" in schema["properties"] and "attribution" not in schema["required"]
    assert {"what", "owners", "impaired"} <= set(schema["$defs"]["AttributedItem"]["required"])
    json.dumps(schema)
