"""Fixture scorecards (spec section 6) and results stores for the outputs tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drtool.integrity import seal
from drtool.outputs.head import write_head
from drtool.timing import rfc3339

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _ts(offset: float) -> str:
    return rfc3339(T0 + offset) or ""


def base_scorecard(status: str = "passed", start: float = 0.0, run_id: str = "20260101T000000Z-a1b2",
                   drill: str = "checkout-region-loss", mode: str = "live") -> dict[str, Any]:
    """A realistic region-loss run: inject at +2s, fault at +5s, recovered at +257.5s."""
    s = start
    return {
        "schema": "drtool.scorecard/v1",
        "run": {"id": run_id, "drill": drill, "scenario": "region-loss", "mode": mode, "status": status,
                "started_at": _ts(s), "ended_at": _ts(s + 300.25), "tool_version": "0.1.0",
                "account_ids": ["123456789012"], "regions": ["us-east-1", "us-west-2"],
                "exit_code": {"passed": 0, "failed": 1, "aborted": 3, "rollback-incomplete": 5}[status],
                "reason": None, "seed": 42},
        "service": {"name": "checkout", "tier": "critical", "owner": "payments-sre"},
        "objectives": {
            "rto": {"target_s": 900.0, "measured_s": 252.5, "met": True, "fault_at": _ts(s + 5),
                    "recovered_at": _ts(s + 257.5)},
            "rpo": {"target_s": 300.0, "measured_s": 1.2, "met": True, "method": "canary",
                    "detail": "newest surviving canary #118 written 1.2s before the fault",
                    "evidence": {"sequence": 118},
                    "measurements": [{"method": "canary", "measured_s": 1.2,
                                      "detail": "newest surviving canary #118", "evidence": {"sequence": 118}}]},
        },
        "timeline": [
            {"phase": "guardrails", "step": "accounts", "kind": "check", "started_at": _ts(s),
             "ended_at": _ts(s + 0.4), "status": "ok", "detail": "account 123456789012 allowed"},
            {"phase": "inject", "step": "ec2.blackhole-subnets", "kind": "action", "started_at": _ts(s + 2),
             "ended_at": _ts(s + 5), "status": "ok", "detail": "3 subnets <deny-all> & isolated"},
            {"phase": "recover", "step": "rds.promote-read-replica", "kind": "action", "started_at": _ts(s + 6),
             "ended_at": _ts(s + 120), "status": "ok", "detail": "checkout-db-dr promoted"},
            {"phase": "recover", "step": "autoscaling.capacity-healthy", "kind": "wait", "started_at": _ts(s + 120),
             "ended_at": _ts(s + 240), "status": "ok", "detail": "6/6 InService"},
            {"phase": "verify", "step": "http.ok", "kind": "check", "started_at": _ts(s + 240),
             "ended_at": _ts(s + 257.5), "status": "ok", "detail": "200 from https://checkout.example.com/health"},
            {"phase": "rollback", "step": "undo ec2.blackhole-subnets", "kind": "undo", "started_at": _ts(s + 258),
             "ended_at": _ts(s + 262), "status": "ok", "detail": "associations restored"},
        ],
        "targets": [{"id": "subnet-0abc", "arn": "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0abc",
                     "type": "ec2:subnet", "region": "us-east-1", "selected_by": "tags app=checkout"}],
        "rollback": {"status": "complete", "remaining": []},
        "follow_up": [{"resource": "checkout-db-dr", "summary": "read replica promoted to standalone",
                       "how": "re-create the replica from the new primary", "step": "rds.promote-read-replica"}],
        "schedule": {"every_s": 7_776_000.0},
        "posture": None,
    }


def failed_scorecard(**kw: Any) -> dict[str, Any]:
    """Recovery works but too slowly: the Auto Scaling group takes 16 minutes to be healthy."""
    sc = base_scorecard("failed", **kw)
    s = kw.get("start", 0.0)
    sc["run"]["ended_at"] = _ts(s + 1215)
    sc["objectives"]["rto"].update({"measured_s": 1200.0, "met": False, "recovered_at": _ts(s + 1205)})
    sc["timeline"][3].update({"ended_at": _ts(s + 1100), "detail": "6/6 InService after 16m20s"})
    sc["timeline"][4].update({"started_at": _ts(s + 1100), "ended_at": _ts(s + 1205)})
    sc["timeline"][5].update({"started_at": _ts(s + 1206), "ended_at": _ts(s + 1210)})
    return sc


def aborted_scorecard(**kw: Any) -> dict[str, Any]:
    sc = base_scorecard("aborted", **kw)
    sc["run"]["reason"] = "stop condition: alarm checkout-5xx in ALARM"
    sc["objectives"]["rto"].update({"measured_s": None, "met": False, "recovered_at": None})
    sc["objectives"]["rpo"].update({"measured_s": None, "met": False})
    sc["timeline"] = sc["timeline"][:3]
    sc["timeline"][2].update({"status": "aborted", "detail": "stop condition fired"})
    sc["timeline"].append({"phase": "verify", "step": "http.ok", "kind": "check", "started_at": None,
                           "ended_at": None, "status": "aborted", "detail": "not started"})
    return sc


@pytest.fixture
def make_scorecard() -> Callable[..., dict[str, Any]]:
    """make_scorecard(status="passed"|"failed"|"aborted", previous=None, **base kwargs) -> sealed dict."""
    def make(status: str = "passed", previous: str | None = None, **kw: Any) -> dict[str, Any]:
        factory = {"passed": base_scorecard, "failed": failed_scorecard, "aborted": aborted_scorecard}[status]
        return seal(factory(**kw), previous)
    return make


def write_run(root: Path, scorecard: dict[str, Any]) -> Path:
    """Write a scorecard into the store layout; returns the run folder."""
    folder = root / scorecard["run"]["drill"] / scorecard["run"]["id"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scorecard.json").write_text(json.dumps(scorecard, indent=2, sort_keys=True), encoding="utf-8")
    (folder / "journal.jsonl").write_text('{"event": "run-started"}\n', encoding="utf-8")
    write_head(folder.parent, scorecard)   # as the runner does after every scorecard write
    return folder


@pytest.fixture
def chain(tmp_path: Path, make_scorecard: Callable[..., dict[str, Any]]) -> list[Path]:
    """Three chained runs of one drill in a local store, a day apart: passed, failed, passed."""
    root = tmp_path / "drill-results"
    folders, previous = [], None
    for i, status in enumerate(["passed", "failed", "passed"]):
        sc = make_scorecard(status, previous, start=i * 86400.0, run_id=f"run-{i + 1}")
        folders.append(write_run(root, sc))
        previous = sc["integrity"]["sha256"]
    return folders
