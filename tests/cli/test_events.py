"""`--events json` (run, plan, rollback), `plan --json`, `--param`, and `history` for an
unknown drill. Subprocesses against the sandbox or ThreadedMotoServer, all on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from drtool.cli import invoke
from tests.e2e.conftest import acl_associations, drtool, spawn, web_estate, write_drill  # noqa: F401 - fixture
from tests.e2e.test_cli_e2e import AZ_DRILL, HealthEndpoint, fault_journaled, wait_for_event

ROOT = Path(__file__).resolve().parents[2]
AZ = ROOT / "drills" / "az-loss.yaml"


def sandbox_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "drtool", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=240, stdin=subprocess.DEVNULL)


def json_lines(stdout: str) -> list[dict]:
    lines = stdout.splitlines()
    assert lines, "nothing on stdout"
    return [json.loads(line) for line in lines]          # every line parses, or the test fails here


@pytest.mark.e2e
def test_run_events_json_is_the_journal_line_by_line_and_params_are_recorded(tmp_path):
    result = sandbox_cli(["run", str(AZ), "--sandbox", "--yes", "--events", "json", "--param", "min_healthy=2"],
                         tmp_path)
    # With 2 healthy targets needed, losing one of three zones hurts nobody: the override
    # took effect, so the fault is not observed and the run fails (exit 1).
    assert result.returncode == 1, result.stderr
    events = json_lines(result.stdout)
    assert events[0]["event"] == "run.started" and events[-1]["event"] == "run.finished"
    assert "the fault was not observed" in events[-1]["reason"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert {"fault", "step.started", "step.finished", "undo.done"} <= {e["event"] for e in events}
    run_dir = tmp_path / "drill-results" / "shop-az-loss" / events[0]["run_id"]
    on_disk = [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()]
    assert events == on_disk[:len(events)]
    card = json.loads((run_dir / "scorecard.json").read_text())
    assert card["run"]["parameters"]["min_healthy"] == 2                    # typed, not "2"
    assert "FAILED  shop-az-loss" in result.stderr                          # the summary moved to stderr


@pytest.mark.moto  # `drtool plan --sandbox` in a subprocess
def test_plan_json_and_plan_events_json(tmp_path):
    plain = sandbox_cli(["plan", str(AZ), "--sandbox", "--json", "--param", "az=us-east-1b"], tmp_path)
    assert plain.returncode == 0, plain.stderr
    plan = json.loads(plain.stdout)
    assert plan["drill"] == "shop-az-loss" and plan["ok"] is True and plan["parameters"]["az"] == "us-east-1b"
    inject = [s for s in plan["steps"] if s["phase"] == "inject"]
    assert inject and inject[0]["targets"] and all(t["id"].startswith("subnet-") for t in inject[0]["targets"])
    assert "ec2:ReplaceNetworkAclAssociation" in plan["iam_actions"]

    streamed = sandbox_cli(["plan", str(AZ), "--sandbox", "--events", "json"], tmp_path)
    assert streamed.returncode == 0, streamed.stderr
    events = json_lines(streamed.stdout)
    assert [e["event"] for e in events] == ["plan", "plan.finished"]
    assert events[0]["plan"]["drill"] == "shop-az-loss" and events[0]["plan"]["parameters"]["az"] == "us-east-1a"
    assert events[1]["status"] == "ok"
    assert "plan ok" in streamed.stderr and "plan ok" not in streamed.stdout


@pytest.mark.e2e
def test_rollback_events_json(moto_url, web_estate, tmp_path):  # noqa: F811 - the fixture
    original = acl_associations(moto_url, web_estate["vpc"])
    with HealthEndpoint(fault_journaled(tmp_path), delay=10_000) as health:
        drill = write_drill(tmp_path / "drills" / "az.yaml", AZ_DRILL.format(url=health.url))
        proc = spawn(["run", str(drill), "--yes", "--progress", "off"], moto_url, tmp_path)
        journal = wait_for_event(tmp_path / "drill-results", "fault")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    seen = len(journal.read_text().splitlines())
    result = drtool(["rollback", journal.parent.name, "--yes", "--events", "json"], moto_url, tmp_path)
    assert result.returncode == 0, result.stderr
    events = json_lines(result.stdout)
    assert events[0]["seq"] == seen + 1 and events[-1]["event"] == "run.finished"
    assert {"undo.started", "undo.done"} <= {e["event"] for e in events}
    assert "rollback complete" in result.stderr and acl_associations(moto_url, web_estate["vpc"]) == original


@pytest.mark.parametrize(("param", "message"), [
    ("min_healthy=three", "--param min_healthy=three: expected an integer, got 'three'"),
    ("min_heathy=2", "--param min_heathy: scenario 'az-loss' has no parameter 'min_heathy'; did you mean 'min_healthy'?"),
    ("min_healthy", "--param 'min_healthy': expected NAME=VALUE"),
])
def test_bad_param_is_a_clear_usage_error(param, message, capsys):
    for command in (["validate", str(AZ)], ["plan", str(AZ), "--sandbox"]):
        assert invoke([*command, "--param", param]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
        assert "az-loss.yaml:" not in err                          # a command-line value has no file line


def test_validate_with_param_binds_the_value(capsys):
    assert invoke(["validate", str(AZ), "--param", "min_healthy=5", "--param", "az=us-east-1c"]) == 0
    assert f"ok  {AZ}" in capsys.readouterr().out


def test_param_types_follow_the_spec():
    from drtool.overrides import text_to_type

    assert text_to_type("integer", " 3 ") == 3
    assert text_to_type("number", "2.5") == 2.5 and text_to_type("number", "2") == 2
    assert text_to_type("boolean", "yes") is True and text_to_type("boolean", "off") is False
    assert text_to_type("list", "a, b") == ["a", "b"] and text_to_type("list", "[1, 2]") == [1, 2]
    assert text_to_type("duration", "5m") == "5m"
    with pytest.raises(ValueError, match="expected true or false"):
        text_to_type("boolean", "maybe")


def test_history_for_an_unknown_drill_exits_2(tmp_path, capsys):
    run = tmp_path / "drill-results" / "known" / "20260101T000000Z-abcdef"
    run.mkdir(parents=True)
    (run / "scorecard.json").write_text(json.dumps({"schema": "drtool.scorecard/v1", "run": {"drill": "known"}}))
    code = invoke(["history", "--results", str(tmp_path / "drill-results"), "--drill", "unknwon"])
    err = capsys.readouterr().err
    assert code == 2 and "no runs of drill 'unknwon'" in err and "known" in err
