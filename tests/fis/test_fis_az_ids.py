"""fis.experiment: AZ IDs in an inline target's zone filter are translated to the acting
account's zone name before the template is created; an unknown AZ ID creates nothing.
(moto maps use1-az1 to us-east-1b in every account; tests/accounts/test_az_ids.py fakes
the per-account difference.)"""

from __future__ import annotations

import pytest

from drtool.aws import fis
from drtool.errors import DrToolError
from drtool.journal import read_journal
from tests.aws.cas_helpers import rollback

ROLE = "arn:aws:iam::123456789012:role/fis"
STOP = {"stop": {"actionId": "aws:ec2:stop-instances", "targets": {"Instances": "web"}}}


def _web(zone_filter: list[str]) -> dict:
    return {"web": {"resourceType": "aws:ec2:instance", "resourceTags": {"app": "web"}, "selectionMode": "ALL",
                    "filters": [{"path": "Placement.AvailabilityZone", "values": zone_filter},
                                {"path": "State.Name", "values": ["running"]}]}}


def _instances(session) -> dict[str, str]:
    ec2 = session.client("ec2", "us-east-1")
    tags = [{"ResourceType": "instance", "Tags": [{"Key": "app", "Value": "web"}]}]
    return {az: ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, TagSpecifications=tags,
                                  Placement={"AvailabilityZone": az})["Instances"][0]["InstanceId"]
            for az in ("us-east-1a", "us-east-1b")}


def _state(session, instance: str) -> str:
    [r] = session.client("ec2", "us-east-1").describe_instances(InstanceIds=[instance])["Reservations"]
    return r["Instances"][0]["State"]["Name"]


def _templates(session) -> list[dict]:
    return session.client("fis", "us-east-1").list_experiment_templates()["experimentTemplates"]


def test_an_az_id_in_a_zone_filter_becomes_the_accounts_zone_name(session, ctx):
    instances = _instances(session)
    targets = _web(["use1-az1"])
    out = fis.start_experiment(ctx, fis.ExperimentParams(actions=STOP, targets=targets, role_arn=ROLE), [])
    template = session.client("fis", "us-east-1").get_experiment_template(
        id=out.data["template_id"])["experimentTemplate"]
    assert template["targets"]["web"]["filters"] == [
        {"path": "Placement.AvailabilityZone", "values": ["us-east-1b"]},
        {"path": "State.Name", "values": ["running"]}]
    assert _state(session, instances["us-east-1b"]) in ("stopping", "stopped")
    assert _state(session, instances["us-east-1a"]) == "running"
    assert targets["web"]["filters"][0]["values"] == ["use1-az1"]           # the document is untouched
    notes = [e for e in read_journal(ctx.journal.path) if e["event"] == "note" and e.get("az_id")]
    assert [(n["az_id"], n["az"]) for n in notes] == [("use1-az1", "us-east-1b")]
    assert rollback(ctx) == []


def test_zone_names_and_a_subnet_filter_pass_as_given(session, ctx):
    targets = {**_web(["us-east-1a"]),
               "nets": {"resourceType": "aws:ec2:subnet", "resourceTags": {"app": "web"}, "selectionMode": "ALL",
                        "filters": [{"path": "AvailabilityZone", "values": ["use1-az1", "us-east-1c"]}]}}
    resolved = fis._zone_names(ctx, targets, "us-east-1")
    assert resolved["web"] == targets["web"]
    assert resolved["nets"]["filters"] == [{"path": "AvailabilityZone", "values": ["us-east-1b", "us-east-1c"]}]


def test_an_unknown_az_id_is_refused_before_anything_is_created(session, ctx):
    _instances(session)
    params = fis.ExperimentParams(actions=STOP, targets=_web(["usw2-az1"]), role_arn=ROLE)
    with pytest.raises(DrToolError, match=r"AZ ID usw2-az1 is not an Availability Zone of us-east-1"):
        fis.start_experiment(ctx, params, [])
    assert _templates(session) == []
    assert session.client("fis", "us-east-1").list_experiments()["experiments"] == []
    assert not [e for e in read_journal(ctx.journal.path) if e["event"].startswith("change")]


def test_an_existing_template_filtering_zones_by_az_id_is_refused_before_it_starts(session, ctx):
    _instances(session)
    fis_client = session.client("fis", "us-east-1")
    template = fis_client.create_experiment_template(
        clientToken="someone-elses", description="kept by its owner", roleArn=ROLE, actions=STOP,
        targets=_web(["use1-az1"]), stopConditions=[{"source": "none"}])["experimentTemplate"]["id"]
    with pytest.raises(DrToolError, match=rf"FIS template {template} filters zones by AZ ID \(use1-az1\)"):
        fis.start_experiment(ctx, fis.ExperimentParams(template_id=template), [])
    assert fis_client.list_experiments()["experiments"] == []
    assert not [e for e in read_journal(ctx.journal.path) if e["event"].startswith("change")]
    kept = fis_client.get_experiment_template(id=template)["experimentTemplate"]["targets"]["web"]["filters"][0]
    assert kept["values"] == ["use1-az1"]                   # someone else's template is not rewritten
