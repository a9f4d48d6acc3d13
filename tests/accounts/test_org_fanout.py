"""`backups check --org`: accounts from AWS Organizations (OUs recursively), each account x
region read through an assumed role (moto isolates accounts by the assumed role's
credentials), one merged report; an account whose role cannot be assumed is named, not fatal."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from drtool.cli import invoke

REGIONS = ("us-east-1", "us-west-2")
ROLE = "DrtoolReadOnly"
DENIED = "AccessDenied"


def in_account(account: str, service: str, region: str = "us-east-1") -> Any:
    """A boto3 client acting in `account` (moto maps assumed-role keys to their account)."""
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
    return boto3.client(service, region_name=region, aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


def tagged_volume(account: str, region: str, snapshot: bool) -> str:
    ec2 = in_account(account, "ec2", region)
    vol = ec2.create_volume(AvailabilityZone=f"{region}a", Size=1, TagSpecifications=[
        {"ResourceType": "volume", "Tags": [{"Key": "app", "Value": "orders"}]}])["VolumeId"]
    if snapshot:
        ec2.create_snapshot(VolumeId=vol)
    return vol


@pytest.fixture
def org(aws) -> dict[str, Any]:
    """Root -> prod OU (-> prod/eu child OU) and sandbox OU; four member accounts."""
    client = boto3.client("organizations", region_name="us-east-1")
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    prod = client.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]["Id"]
    prod_eu = client.create_organizational_unit(ParentId=prod, Name="prod-eu")["OrganizationalUnit"]["Id"]
    sandbox = client.create_organizational_unit(ParentId=root, Name="sandbox")["OrganizationalUnit"]["Id"]
    ids = {}
    for name, parent in (("payments", prod), ("payments-eu", prod_eu), ("denied", prod), ("play", sandbox)):
        status = client.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        ids[name] = status["AccountId"]
        client.move_account(AccountId=ids[name], SourceParentId=root, DestinationParentId=parent)
    return {"root": root, "prod": prod, "prod_eu": prod_eu, "sandbox": sandbox, "ids": ids}


def deny_assume_role(account: str):
    """An `on_client` hook answering sts:AssumeRole into `account` with AccessDenied, as AWS
    does when the role is missing or does not trust the caller (STS AssumeRole errors)."""
    def hook(service: str, client: Any) -> None:
        if service != "sts":
            return

        def before_call(params: dict[str, Any], **_: Any):
            if f":{account}:" in str(params.get("body", "")).replace("%3A", ":"):
                return (SimpleNamespace(status_code=403, headers={}, content=b""),
                        {"Error": {"Code": DENIED, "Message": f"not authorized to perform: sts:AssumeRole on {account}"},
                         "ResponseMetadata": {"HTTPStatusCode": 403}})
            return None
        client.meta.events.register_first("before-call.sts.AssumeRole", before_call)
    return hook


def test_ou_fan_out_merges_every_account_and_region_and_names_the_unreadable(org):
    from drtool.aws.session import AwsSession
    from drtool.backups.org import check_org, list_accounts

    ids = org["ids"]
    good = tagged_volume(ids["payments"], "us-east-1", snapshot=True)
    stale = tagged_volume(ids["payments-eu"], "us-west-2", snapshot=False)
    tagged_volume(ids["play"], "us-east-1", snapshot=False)   # outside the OU: never read
    aws = AwsSession(region="us-east-1", on_client=deny_assume_role(ids["denied"]))
    accounts = list_accounts(aws, [org["prod"]])
    assert {a.id for a in accounts} == {ids["payments"], ids["payments-eu"], ids["denied"]}   # child OU included
    report = check_org(aws, accounts, role=ROLE, regions=REGIONS, tags={"app": ["orders"]}, rpo_s=86_400)
    assert sorted((v.account, v.id, v.region, v.compliant) for v in report.verdicts) == sorted([
        (ids["payments"], good, "us-east-1", True), (ids["payments-eu"], stale, "us-west-2", False)])
    (failure,) = report.failures
    assert failure.account == ids["denied"] and failure.region is None and DENIED in failure.error
    assert not report.compliant
    assumed = aws.calls["sts:AssumeRole"]
    assert assumed == 3   # once per account, not per region


def test_cli_org_json_and_exit_codes(org, capsys):
    ids = org["ids"]
    tagged_volume(ids["payments"], "us-east-1", snapshot=True)
    tagged_volume(ids["play"], "us-west-2", snapshot=True)
    code = invoke(["backups", "check", "--org", "--role", ROLE, "--rpo", "1d", "--tag", "app=orders",
                   "--region", "us-east-1", "--region", "us-west-2", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0, data
    assert {a["id"] for a in data["accounts"]} >= {ids["payments"], ids["play"]}
    assert sorted(r["account"] for r in data["resources"]) == sorted([ids["payments"], ids["play"]])
    assert data["failures"] == []


def test_cli_table_lists_accounts_not_read(org, capsys, monkeypatch):
    from drtool.aws import session as session_module

    ids = org["ids"]
    tagged_volume(ids["payments"], "us-east-1", snapshot=True)
    real = session_module.AwsSession.__init__

    def init(self, *args, **kwargs):
        kwargs["on_client"] = deny_assume_role(ids["denied"])
        real(self, *args, **kwargs)
    monkeypatch.setattr(session_module.AwsSession, "__init__", init)
    code = invoke(["backups", "check", "--org", "--ou", org["prod"], "--role", ROLE, "--rpo", "1d",
                   "--tag", "app=orders"])
    out = capsys.readouterr().out
    assert code == 1
    assert f"NOT READ: account {ids['denied']} (denied)" in out and DENIED in out
    assert "in 3 account(s), 1 not (fully) read" in out


@pytest.mark.parametrize("args", [["--org"], ["--ou", "ou-x"], ["--role", "R"]])
def test_cli_org_options_need_each_other(aws, capsys, args):
    assert invoke(["backups", "check", "--rpo", "1d", *args]) == 2
