"""A crash-folded scorecard keeps what the journal knows: the configured RPO sources, the
canaries written, the endpoint the run went to."""

from __future__ import annotations

from typing import Any

from drtool.scorecard import build_scorecard
from drtool.timing import rfc3339

T0 = 1_767_225_600.0


def _started(**extra: Any) -> dict[str, Any]:
    return {"event": "run.started", "seq": 0, "at": rfc3339(T0), "t": T0, "run_id": "r1", "drill": "d",
            "scenario": "s", "mode": "sandbox", "service": {"name": "checkout", "tier": "1", "owner": "sre"},
            "tool_version": "x", "objectives": {"rto_s": 60.0, "rpo_s": 30.0}, "account_ids": [],
            "regions": ["us-east-1"], **extra}


def _crashed(started: dict[str, Any]) -> list[dict[str, Any]]:
    """Canaries written, the fault injected, then the process died (no run.finished)."""
    return [started,
            {"event": "change.intent", "seq": 1, "at": rfc3339(T0 + 1), "step": "rpo.canary.s3",
             "summary": "write RPO canaries to s3://orders every 1s until the fault", "undo": None},
            {"event": "note", "seq": 2, "at": rfc3339(T0 + 9), "step": "rpo.canary.s3",
             "message": "RPO canary writer stopped at the fault after 7 write(s)", "canaries_written": 7,
             "canary_store": "s3://orders"},
            {"event": "fault", "seq": 3, "at": rfc3339(T0 + 9), "t": T0 + 9}]


def test_crash_fold_names_the_sources_and_the_canaries_written():
    card = build_scorecard(_crashed(_started(rpo_sources=["canary.s3"], endpoint="http://127.0.0.1:5000")))
    rpo = card["objectives"]["rpo"]
    assert card["run"]["status"] == "aborted"
    assert "no RPO source configured" not in rpo["detail"]
    assert rpo["detail"] == ("not measured: the run stopped before the RPO measurement "
                             "(sources canary.s3; 7 canaries written to s3://orders)")
    assert rpo["sources"] == ["canary.s3"] and rpo["measured_s"] is None and rpo["met"] is False
    assert card["run"]["endpoint"] == "http://127.0.0.1:5000" and card["run"]["mode"] == "sandbox"


def test_crash_before_the_fault_still_says_canaries_were_written():
    events = _crashed(_started(rpo_sources=["canary.s3", "recovery-point"]))[:2]
    assert build_scorecard(events)["objectives"]["rpo"]["detail"] == (
        "not measured: the run stopped before the RPO measurement "
        "(sources canary.s3, recovery-point; canaries were being written)")


def test_a_drill_without_sources_still_says_so():
    assert build_scorecard([_started(rpo_sources=[])])["objectives"]["rpo"]["detail"].startswith(
        "no RPO source configured")


def test_older_journals_fold_as_before():
    """No rpo_sources in run.started (written by an older drtool): no `sources` key, same detail."""
    rpo = build_scorecard([_started()])["objectives"]["rpo"]
    assert "sources" not in rpo and rpo["detail"].startswith("no RPO source configured")
