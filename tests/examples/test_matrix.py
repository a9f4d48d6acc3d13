"""`drtool plan --matrix`: one entry per drill x account, from the documents alone; with
--org, the ACTIVE accounts of the AWS Organization (moto's organizations) that each drill's
guardrails.accounts allows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest

from drtool.cli import invoke
from drtool.matrix import build

ROOT = Path(__file__).resolve().parents[2]
DRILL = (ROOT / "drills" / "instance-termination.yaml").read_text()


def drill_with_accounts(folder: Path, name: str, accounts: list[str] | None) -> Path:
    text = DRILL.replace("name: shop-instance-termination", f"name: {name}")
    line = '  accounts: ["123456789012"]'
    assert line in text
    text = text.replace(line, f"  accounts: {json.dumps(accounts)}" if accounts is not None else "")
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def test_bundled_drills_one_entry_each_without_aws(monkeypatch, capsys):
    from drtool.aws import session

    def no_aws(*_a, **_k):
        raise AssertionError("plan --matrix without --org must not call AWS")

    monkeypatch.setattr(session.AwsSession, "client", no_aws)
    assert invoke(["plan", "--matrix", str(ROOT / "drills")]) == 0
    matrix = json.loads(capsys.readouterr().out)
    expected = {re.search(r"^name: *(\S+)", p.read_text(), re.M).group(1)  # type: ignore[union-attr]
                for p in (ROOT / "drills").glob("*.yaml") if "kind: drill" in p.read_text()}
    assert sorted(e["name"] for e in matrix["include"]) == sorted(expected)   # one account each
    region_loss = next(e for e in matrix["include"] if e["name"] == "checkout-region-loss")
    assert region_loss["account"] == "123456789012" and region_loss["id"] == "checkout-region-loss-123456789012"
    assert region_loss["regions"] == ["us-east-1", "us-west-2"] and region_loss["region"] == "us-east-1"
    assert region_loss["drill"].endswith("drills/checkout-region-loss.yaml")
    assert region_loss["every_s"] == 90 * 86400


def test_one_entry_per_account_and_none_without_accounts(tmp_path):
    drill_with_accounts(tmp_path, "two", ["111111111111", "222222222222"])
    drill_with_accounts(tmp_path, "anywhere", None)
    entries = build([str(tmp_path)], role="drtool-drill")["include"]
    assert [(e["id"], e["account"], e["role_arn"]) for e in entries] == [
        ("anywhere", None, None),
        ("two-111111111111", "111111111111", "arn:aws:iam::111111111111:role/drtool-drill"),
        ("two-222222222222", "222222222222", "arn:aws:iam::222222222222:role/drtool-drill"),
    ]


def test_org_fan_out_with_moto_organizations(aws, tmp_path, capsys):
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    ids = []
    for name in ("workload", "network"):
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        ids.append(org.describe_create_account_status(CreateAccountRequestId=status["Id"])
                   ["CreateAccountStatus"]["AccountId"])
    every = {a["Id"] for a in org.list_accounts()["Accounts"]}
    assert set(ids) < every                                  # plus the management account
    drill_with_accounts(tmp_path, "anywhere", None)
    drill_with_accounts(tmp_path, "limited", [ids[0], "999999999999"])   # 999... is not in the org
    assert invoke(["plan", "--matrix", str(tmp_path), "--org", "--role", "drtool-drill",
                   "--region", "us-east-1"]) == 0
    entries = json.loads(capsys.readouterr().out)["include"]
    anywhere = {e["account"] for e in entries if e["name"] == "anywhere"}
    limited = [e for e in entries if e["name"] == "limited"]
    assert anywhere == every
    assert [(e["account"], e["account_name"]) for e in limited] == [(ids[0], "workload")]
    assert limited[0]["role_arn"] == f"arn:aws:iam::{ids[0]}:role/drtool-drill"


@pytest.mark.parametrize("args, message", [
    (["plan", "a.yaml", "b.yaml"], "are for --matrix"),
    (["plan", "a.yaml", "--org"], "are for --matrix"),
])
def test_matrix_options_need_matrix(args, message, capsys):
    assert invoke(args) == 2
    assert message in capsys.readouterr().err


def test_broken_drill_is_exit_2_with_its_location(tmp_path, capsys):
    drill_with_accounts(tmp_path, "ok", None)
    (tmp_path / "bad.yaml").write_text("kind: drill\nname: bad\nscenario: nope-no-such\n")
    assert invoke(["plan", "--matrix", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:" in err and "Traceback" not in err
