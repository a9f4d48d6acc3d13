"""Every exit code of the CLI (spec section 2), in-process; no tracebacks ever."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from drtool.cli import invoke
from drtool.journal import Journal
from drtool.timing import FakeClock
from tests.unit import fake_entries
from tests.unit.fake_entries import STATE
from tests.unit.test_runner import DRILL, SCENARIO

ROOT = Path(__file__).resolve().parents[2]
fake_entries.register()


@pytest.fixture(autouse=True)
def clean_state():
    fake_entries.reset()


def drill_file(tmp_path: Path, params: str = "{}", extra: str = "") -> Path:
    (tmp_path / "scenarios").mkdir(exist_ok=True)
    (tmp_path / "scenarios" / "flip.yaml").write_text(SCENARIO.replace("seconds: 1}", "seconds: 0}"))
    path = tmp_path / "drills" / "flip.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(DRILL.replace("parameters: {}", f"parameters: {params}").replace("poll: 0.5s", "poll: 0.1s")
                    + extra)
    return path


def test_help_does_not_import_boto3():
    code = ("import sys; from drtool.cli import invoke; rc = invoke(['--help']); "
            "assert rc == 0; assert 'boto3' not in sys.modules and 'botocore' not in sys.modules, 'boto3 imported'")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_command_has_help(capsys):
    from drtool.cli import COMMANDS

    for name in COMMANDS:
        assert invoke([name, "--help"]) == 0, name
    assert "Usage:" in capsys.readouterr().out


def test_version(capsys):
    assert invoke(["--version"]) == 0
    assert "drtool, version" in capsys.readouterr().out


def test_unknown_option_is_exit_2(capsys):
    assert invoke(["run", "--bogus"]) == 2
    assert "No such option" in capsys.readouterr().err


def test_missing_argument_is_exit_2(capsys):
    assert invoke(["validate"]) == 2


def test_run_passed_is_0_and_prints_a_summary(aws, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke(["run", str(drill_file(tmp_path, "{recover_after: 0.1}")), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out and "RTO" in out and "scorecard:" in out


def test_run_missed_objective_is_1(aws, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = drill_file(tmp_path, "{recover_after: 0.3}")
    path.write_text(path.read_text().replace("rto: 10s", "rto: 0.1s"))
    assert invoke(["run", str(path), "--yes"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_run_aborted_is_3(aws, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke(["run", str(drill_file(tmp_path, "{fail_inject: true}")), "--yes"]) == 3
    assert "ABORTED" in capsys.readouterr().out


def test_run_refused_is_4(aws, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = drill_file(tmp_path)
    path.write_text(path.read_text().replace("123456789012", "210987654321"))
    assert invoke(["run", str(path), "--yes"]) == 4
    err = capsys.readouterr().err
    assert "refused by guardrail" in err and "Traceback" not in err
    assert STATE["flags"] == {}


def _crashed_journal(tmp_path: Path) -> Path:
    run_dir = tmp_path / "drill-results" / "flip-drill" / "run-x"
    journal = Journal(run_dir / "journal.jsonl", FakeClock())
    journal.write("run.started", run_id="run-x", drill="flip-drill", scenario="flip", mode="live",
                  service={"name": "s", "tier": "t", "owner": "o"}, tool_version="0",
                  objectives={"rto_s": 1, "rpo_s": None}, account_ids=[], regions=["us-east-1"],
                  aws={"default_region": "us-east-1"})
    journal.write("change.intent", step="x", summary="set flag", region="us-east-1", resources=[],
                  undo={"name": "test.unflip", "params": {"key": "flag"}, "region": "us-east-1", "account": None})
    journal.close()
    return run_dir


def test_rollback_incomplete_is_5_then_0(aws, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _crashed_journal(tmp_path)
    STATE["fail_undo"] = True
    assert invoke(["rollback", "run-x", "--yes"]) == 5
    err = capsys.readouterr().err
    assert "rollback incomplete" in err and "set flag" in err
    STATE["fail_undo"] = False
    assert invoke(["rollback", "run-x", "--yes"]) == 0
    assert STATE["flags"]["flag"] is False
    card = json.loads((tmp_path / "drill-results" / "flip-drill" / "run-x" / "scorecard.json").read_text())
    assert card["rollback"]["status"] == "complete"


def test_rollback_without_yes_off_a_terminal_is_refused(aws, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _crashed_journal(tmp_path)
    STATE["flags"]["flag"] = True
    assert invoke(["rollback", "run-x"]) == 4
    assert STATE["flags"]["flag"] is True


def test_rollback_unknown_run_is_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke(["rollback", "no-such-run", "--yes"]) == 2
    assert "no journal for 'no-such-run'" in capsys.readouterr().err


def test_scenarios_lists_the_bundled_library(capsys):
    assert invoke(["scenarios", "--json"]) == 0
    names = {s["name"] for s in json.loads(capsys.readouterr().out)}
    assert {"instance-termination", "az-loss"} <= names


def test_permissions_are_least_privilege_and_region_scoped(capsys):
    assert invoke(["permissions", str(ROOT / "drills" / "az-loss.yaml")]) == 0
    policy = json.loads(capsys.readouterr().out)
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert {"ec2:CreateNetworkAcl", "ec2:ReplaceNetworkAclAssociation", "ec2:DeleteNetworkAcl",
            "autoscaling:DescribeAutoScalingGroups", "cloudwatch:DescribeAlarms", "sts:GetCallerIdentity"} <= actions
    assert "ec2:TerminateInstances" not in actions
    ec2 = next(s for s in policy["Statement"] if s["Sid"] == "DrtoolEc2")
    assert ec2["Condition"] == {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}}


def test_run_with_sign_key_then_verify_then_tamper(aws, tmp_path, capsys, monkeypatch):
    """KMS ECDSA P-256 on moto signs the digest; verify checks it offline; a changed figure is caught."""
    import boto3

    monkeypatch.chdir(tmp_path)
    key = boto3.client("kms", region_name="us-east-1").create_key(
        KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["KeyId"]
    assert invoke(["run", str(drill_file(tmp_path, "{recover_after: 0.1}")), "--yes", "--sign-key", key,
                   "--format", "html", "--format", "junit"]) == 0
    [run_dir] = [p for p in (tmp_path / "drill-results" / "flip-drill").iterdir() if p.is_dir()]
    assert (run_dir / "scorecard.sig.json").is_file()
    assert (run_dir / "scorecard.html").is_file() and (run_dir / "junit.xml").is_file()
    capsys.readouterr()
    assert invoke(["verify", str(run_dir / "scorecard.json"), "--require-signature"]) == 0
    card = json.loads((run_dir / "scorecard.json").read_text())
    card["objectives"]["rto"]["measured_s"] = 0.001
    (run_dir / "scorecard.json").write_text(json.dumps(card))
    assert invoke(["verify", str(run_dir / "scorecard.json")]) == 1


def test_runs_of_a_drill_form_a_hash_chain(aws, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = drill_file(tmp_path, "{recover_after: 0.1}")
    assert invoke(["run", str(path), "--yes"]) == 0
    fake_entries.reset()
    assert invoke(["run", str(path), "--yes"]) == 0
    cards = sorted((json.loads(p.read_text()) for p in (tmp_path / "drill-results").glob("*/*/scorecard.json")),
                   key=lambda c: c["run"]["started_at"])
    assert cards[0]["integrity"]["previous_sha256"] is None
    assert cards[1]["integrity"]["previous_sha256"] == cards[0]["integrity"]["sha256"]
    assert invoke(["verify", str(tmp_path / "drill-results")]) == 0


def test_no_credentials_is_one_line_exit_3(tmp_path, capsys, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.chdir(tmp_path)
    assert invoke(["plan", str(drill_file(tmp_path))]) == 3
    err = capsys.readouterr().err
    assert "NoCredentials" in err and "drtool demo" in err and "Traceback" not in err
