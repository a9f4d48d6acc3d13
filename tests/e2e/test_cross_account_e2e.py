"""The issue's cross-account test, end to end: a moto server holding a workload, a networking
(Route 53) and a backup account; the bundled example drill (examples/cross-account) run as
`python -m drtool run` with AWS_ENDPOINT_URL, killed with SIGKILL once it has changed both
the workload and the networking account (and written canaries in the backup account); then
`python -m drtool rollback` as another process restores every account, each through its
own role. moto maps assumed-role credentials to the role's account, so the accounts are
isolated exactly as the subprocess's AssumeRole calls see them."""

from __future__ import annotations

import json
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import ROOT, HealthEndpoint, client, drtool, spawn

pytestmark = pytest.mark.e2e

WORKLOAD, NETWORKING, BACKUP = "123456789012", "111111111111", "222222222222"
EXAMPLE = ROOT / "examples" / "cross-account"
DRILL_FILE = "cross-account-region-loss.yaml"
ZONE, RECORD, BEFORE, AFTER = "orders.example.com.", "api.orders.example.com.", "10.10.0.10", "10.20.0.10"
BUCKETS = {"orders-ledger-use1": "us-east-1", "orders-ledger-usw2": "us-west-2"}


def client_as(account: str, service: str, moto_url: str, region: str = "us-east-1") -> Any:
    """A client acting in `account` on the server (assumed-role keys map to that account)."""
    if account == WORKLOAD:
        return client(service, moto_url, region)
    import boto3

    creds = client("sts", moto_url).assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup",
                                                RoleSessionName="setup")["Credentials"]
    return boto3.client(service, region_name=region, endpoint_url=moto_url, aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


@pytest.fixture
def estate(moto_url) -> dict[str, Any]:
    tags = [{"Key": "app", "Value": "orders"}, {"Key": "drill", "Value": "allowed"}]
    fleet = [i["InstanceId"] for i in client_as(WORKLOAD, "ec2", moto_url).run_instances(
        ImageId="ami-12345678", MinCount=2, MaxCount=2,
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])["Instances"]]
    r53 = client_as(NETWORKING, "route53", moto_url)
    zone = r53.create_hosted_zone(Name=ZONE, CallerReference="net")["HostedZone"]["Id"]
    r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone.rsplit("/", 1)[-1], AddTags=tags)
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": RECORD, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": BEFORE}]}}]})
    for bucket, region in BUCKETS.items():
        s3 = client_as(BACKUP, "s3", moto_url, region)
        s3.create_bucket(Bucket=bucket, **({} if region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}))
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return {"fleet": fleet, "zone": zone}


def fleet_states(moto_url: str, fleet: list[str]) -> set[str]:
    found = client_as(WORKLOAD, "ec2", moto_url).describe_instances(InstanceIds=fleet)["Reservations"]
    return {i["State"]["Name"] for r in found for i in r["Instances"]}


def dns_answer(moto_url: str, zone: str, account: str = NETWORKING) -> list[str]:
    sets = client_as(account, "route53", moto_url).list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return [r["Value"] for rs in sets if rs["Name"] == RECORD for r in rs.get("ResourceRecords", [])]


def canaries(moto_url: str) -> list[str]:
    keys = []
    for bucket, region in BUCKETS.items():
        page = client_as(BACKUP, "s3", moto_url, region).list_object_versions(Bucket=bucket, Prefix="drtool-canary/")
        keys += [v["Key"] for v in (page.get("Versions") or []) + (page.get("DeleteMarkers") or [])]
    return keys


def example_drill(tmp_path: Path, health_url: str) -> Path:
    """The bundled example, with the test's health URL and a fast poll."""
    folder = tmp_path / "drills"
    folder.mkdir()
    shutil.copy(EXAMPLE / "cross-account-region-loss.scenario.yaml", folder)
    doc = yaml.safe_load((EXAMPLE / DRILL_FILE).read_text())
    doc["parameters"]["health_url"] = health_url
    doc["poll"] = "0.2s"
    doc["rpo"]["canary"].update(interval="0.2s", warmup="0s")   # moto does not replicate S3
    (folder / DRILL_FILE).write_text(yaml.safe_dump(doc, sort_keys=False))
    return folder / DRILL_FILE


def journal_events(path: Path) -> list[dict[str, Any]]:
    """The journal's complete lines (a line being written is skipped)."""
    events = []
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def both_accounts_changed(results: Path, timeout: float = 60) -> Path:
    """The journal once a change in the workload account and one in the networking account are done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for journal in results.glob("*/*/journal.jsonl"):
            events = journal_events(journal)
            done = {e["intent"] for e in events if e["event"] == "change.done"}
            changed = {(e.get("account"), e["step"].startswith("rpo.")) for e in events
                       if e["event"] == "change.intent" and e["seq"] in done}
            if {(None, False), ("networking", False), ("backup", True)} <= changed:
                return journal
        time.sleep(0.05)
    raise AssertionError(f"the run did not change both accounts within {timeout}s")


def test_sigkill_after_changes_in_two_accounts_then_rollback_restores_both(moto_url, estate, tmp_path):
    with HealthEndpoint(lambda: True, delay=10_000) as health:          # never recovers: the run waits in verify
        drill = example_drill(tmp_path, health.url)
        proc = spawn(["run", str(drill), "--yes"], moto_url, tmp_path)
        try:
            journal = both_accounts_changed(tmp_path / "drill-results")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert fleet_states(moto_url, estate["fleet"]) == {"stopped"}
    assert dns_answer(moto_url, estate["zone"]) == [AFTER]
    assert canaries(moto_url), "canaries were written in the backup account"
    with pytest.raises(Exception, match="NoSuchHostedZone|not found|No hosted zone"):
        dns_answer(moto_url, estate["zone"], WORKLOAD)                  # the zone is only the networking account's
    started = journal_events(journal)[0]
    assert started["account_ids"] == [WORKLOAD, BACKUP, NETWORKING]

    result = drtool(["rollback", journal.parent.name, "--yes"], moto_url, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert fleet_states(moto_url, estate["fleet"]) == {"running"}
    assert dns_answer(moto_url, estate["zone"]) == [BEFORE]
    assert canaries(moto_url) == []
    card = json.loads((journal.parent / "scorecard.json").read_text())
    assert card["rollback"]["status"] == "complete" and card["run"]["status"] == "aborted"
    assert card["run"]["account_ids"] == [WORKLOAD, BACKUP, NETWORKING]
    assert "Traceback" not in result.stderr


def test_the_example_validates_and_prints_one_policy_per_account(moto_url, tmp_path):
    result = drtool(["validate", str(EXAMPLE)], moto_url, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    policies = drtool(["permissions", str(EXAMPLE / DRILL_FILE)], moto_url, tmp_path)
    assert policies.returncode == 0, policies.stderr
    data = json.loads(policies.stdout)["accounts"]
    assert [(a["account"], a["role_arn"]) for a in data] == [
        (None, None), ("backup", f"arn:aws:iam::{BACKUP}:role/drtool-drill"),
        ("networking", f"arn:aws:iam::{NETWORKING}:role/drtool-drill")]
    actions = {a["account"]: {x for s in a["policy"]["Statement"] for x in s["Action"]} for a in data}
    assert "s3:PutObjectTagging" in actions["backup"] and "route53:ChangeResourceRecordSets" in actions["networking"]
    assert "ec2:StopInstances" in actions[None] and "sts:AssumeRole" in actions[None]


def test_org_fan_out_over_an_ou_as_a_subprocess(moto_url, tmp_path):
    """`backups check --org --ou`: an Organization with nested OUs on the server; only the
    OU's accounts (child OUs included) are read, each through the named role."""
    org = client("organizations", moto_url)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    prod = org.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]["Id"]
    prod_eu = org.create_organizational_unit(ParentId=prod, Name="prod-eu")["OrganizationalUnit"]["Id"]
    sandbox = org.create_organizational_unit(ParentId=root, Name="sandbox")["OrganizationalUnit"]["Id"]
    ids, volumes = {}, {}
    for name, parent, region, snapshot in (("payments", prod, "us-east-1", True),
                                           ("payments-eu", prod_eu, "us-west-2", False),
                                           ("play", sandbox, "us-east-1", False)):
        ids[name] = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=ids[name], SourceParentId=root, DestinationParentId=parent)
        ec2 = client_as(ids[name], "ec2", moto_url, region)
        volumes[name] = ec2.create_volume(AvailabilityZone=f"{region}a", Size=1, TagSpecifications=[
            {"ResourceType": "volume", "Tags": [{"Key": "app", "Value": "orders"}]}])["VolumeId"]
        if snapshot:
            ec2.create_snapshot(VolumeId=volumes[name])
    result = drtool(["backups", "check", "--org", "--ou", prod, "--role", "DrtoolReadOnly", "--rpo", "1d",
                     "--tag", "app=orders", "--region", "us-east-1", "--region", "us-west-2", "--json"],
                    moto_url, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr      # payments-eu has no recovery point
    data = json.loads(result.stdout)
    assert {a["id"] for a in data["accounts"]} == {ids["payments"], ids["payments-eu"]}
    assert sorted((r["account"], r["id"], r["compliant"]) for r in data["resources"]) == sorted([
        (ids["payments"], volumes["payments"], True), (ids["payments-eu"], volumes["payments-eu"], False)])
    assert data["failures"] == []
