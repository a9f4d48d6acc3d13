"""Bundled drills in the offline sandbox, and truth tests: measured RTO/RPO against the
behaviour the estate was given (drtool as a subprocess; moto + simulator on loopback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from drtool.journal import read_journal

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DRILLS = sorted(p for p in (ROOT / "drills").glob("*.yaml") if "kind: drill" in p.read_text())   # not services.yaml


def offline_env() -> dict[str, str]:
    """No AWS settings at all: the sandbox must not need any."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def drtool(args: list[str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "drtool", *args], cwd=cwd, env=offline_env(),
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def only_run(cwd: Path, drill: str) -> Path:
    [run] = [p for p in (cwd / "drill-results" / drill).iterdir() if p.is_dir()]   # HEAD.json sits beside the runs
    return run


@pytest.mark.parametrize("drill", DRILLS, ids=[d.stem for d in DRILLS])
def test_every_bundled_drill_runs_in_the_sandbox(drill, bundled_runs):
    run = bundled_runs(drill)
    assert run.done.returncode == 0, run.done.stderr[-3000:]
    card = json.loads((run.run_dir / "scorecard.json").read_text())
    assert card["run"]["drill"] == yaml.safe_load(drill.read_text())["name"]
    assert card["run"]["mode"] == "sandbox" and card["run"]["status"] == "passed"
    assert card["objectives"]["rto"]["measured_s"] is not None
    assert card["rollback"]["status"] in ("complete", "not-needed")


def test_demo_from_an_empty_folder_measures_rto_and_rpo(tmp_path):
    result = drtool(["demo"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = only_run(tmp_path, "checkout-region-loss")
    card = json.loads((run / "scorecard.json").read_text())
    assert card["objectives"]["rto"]["measured_s"] > 0
    assert card["objectives"]["rpo"]["method"] == "canary" and card["objectives"]["rpo"]["measured_s"] > 0
    assert card["follow_up"] and "shop-db-dr" in card["follow_up"][0]["resource"]
    for name in ("scorecard.html", "scorecard.md", "junit.xml", "journal.jsonl"):
        assert (run / name).is_file(), name
    assert str((run / "scorecard.json").relative_to(tmp_path)) in result.stdout and "Traceback" not in result.stderr


TRUTH = {"replacement_delay": 2.0, "scale_up_delay": 2.0, "promotion_delay": 1.0, "s3_replication_lag": 1.0,
         "dns_ttl": 1.0, "failover_delay": 1.5}


def truth_copy(tmp_path: Path, drill: str, poll: str = "0.2s") -> Path:
    """The bundled drill against a copy of the webshop estate whose behaviour the test sets."""
    estate = yaml.safe_load((ROOT / "drtool" / "sandbox" / "estates" / "webshop.yaml").read_text())
    estate["behaviour"].update({k: f"{v}s" for k, v in TRUTH.items()})
    (tmp_path / "truth-estate.yaml").write_text(yaml.safe_dump(estate))
    doc = yaml.safe_load((ROOT / "drills" / drill).read_text())
    doc["sandbox"]["estate"] = "truth-estate.yaml"
    doc["poll"] = poll
    doc["scenario"] = str(ROOT / "scenarios" / f"{doc['scenario']}.yaml")
    path = tmp_path / drill
    path.write_text(yaml.safe_dump(doc))
    return path


def finished_at(events: list[dict], phase: str, index: int) -> float:
    return next(e["t"] for e in events if e["event"] == "step.finished" and e["phase"] == phase
                and e["index"] == index)


def test_truth_instance_replacement_delay_is_the_measured_rto(tmp_path):
    result = drtool(["run", str(truth_copy(tmp_path, "instance-termination.yaml")), "--sandbox", "--yes"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    card = json.loads((only_run(tmp_path, "shop-instance-termination") / "scorecard.json").read_text())
    assert abs(card["objectives"]["rto"]["measured_s"] - TRUTH["replacement_delay"]) <= 0.5, card["objectives"]


def test_truth_aurora_failover_delay_is_the_measured_rto(tmp_path):
    result = drtool(["run", str(truth_copy(tmp_path, "rds-failover.yaml")), "--sandbox", "--yes"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    card = json.loads((only_run(tmp_path, "rds-failover") / "scorecard.json").read_text())
    assert abs(card["objectives"]["rto"]["measured_s"] - TRUTH["failover_delay"]) <= 0.5, card["objectives"]


def test_truth_region_loss_rto_and_rpo(tmp_path):
    """RTO truth: the latest of promote + promotion delay, scale-up + delay, DNS flip + TTL.
    RPO truth: the region is cut off when the black-hole completes; what was written in
    the last replication lag before that never reached the DR bucket."""
    result = drtool(["run", str(truth_copy(tmp_path, "checkout-region-loss.yaml")), "--sandbox", "--yes"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = only_run(tmp_path, "checkout-region-loss")
    card = json.loads((run / "scorecard.json").read_text())
    events = read_journal(run / "journal.jsonl")
    fault_at = next(e["t"] for e in events if e["event"] == "fault")

    recovered_truth = max(finished_at(events, "recover", 0) + TRUTH["promotion_delay"],
                          finished_at(events, "recover", 1) + TRUTH["scale_up_delay"],
                          finished_at(events, "recover", 2) + TRUTH["dns_ttl"])
    rto = card["objectives"]["rto"]["measured_s"]
    assert abs(rto - (recovered_truth - fault_at)) <= 0.5, (rto, recovered_truth - fault_at)

    cut_at = finished_at(events, "inject", 0)
    rpo_truth = fault_at - cut_at + TRUTH["s3_replication_lag"]
    rpo = card["objectives"]["rpo"]
    interval = 0.25
    assert rpo["method"] == "canary"
    assert abs(rpo["measured_s"] - rpo_truth) <= interval + 0.5, (rpo["measured_s"], rpo_truth, rpo["detail"])
