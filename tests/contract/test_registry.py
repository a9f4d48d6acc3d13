"""Every registry entry, built-in or added later: summary, strict params, real IAM actions, known undos."""

from __future__ import annotations

import functools
import re

import pytest

from drtool.registry import ACTIONS, PROBES, TARGETS, UNDOS, Params, load_builtins

load_builtins()
ALL = [e for registry in (ACTIONS, PROBES, UNDOS, TARGETS) for e in registry.entries()]
IDS = [f"{e.kind}:{e.name}" for e in ALL]

# IAM service prefix -> botocore service model name(s) whose operations the actions name.
IAM_PREFIX_TO_BOTOCORE = {
    "elasticloadbalancing": ("elbv2", "elb"),
    "dynamodb": ("dynamodb", "dynamodbstreams"),
    "s3": ("s3", "s3control"),
    "tag": ("resourcegroupstaggingapi",),
    "states": ("stepfunctions",),
}

# Permissions IAM knows that no API operation is named after. Keep it short; say why.
IAM_ONLY = {
    "iam:PassRole": "lets a service assume a role drtool names (S3 replication, Backup restore); not an API call",
    "s3:ListBucket": "IAM name for ListObjects/ListObjectsV2/HeadBucket",
    "s3:ListBucketVersions": "IAM name for ListObjectVersions",
    "s3:GetObjectVersion": "IAM name for GetObject/HeadObject with a VersionId",
    "s3:DeleteObjectVersion": "IAM name for DeleteObject with a VersionId",
    "s3:GetReplicationConfiguration": "IAM name for GetBucketReplication",
    "s3:PutReplicationConfiguration": "IAM name for PutBucketReplication",
}


@functools.cache
def operations(prefix: str) -> frozenset[str]:
    import botocore.session

    session = botocore.session.get_session()
    ops: set[str] = set()
    for name in IAM_PREFIX_TO_BOTOCORE.get(prefix, (prefix,)):
        ops |= set(session.get_service_model(name).operation_names)
    return frozenset(ops)


def test_builtins_are_registered():
    assert {e.name for e in ACTIONS.entries()} >= {
        "ec2.terminate-instances", "ec2.stop-instances", "ec2.blackhole-subnets", "autoscaling.set-capacity"}
    assert {e.name for e in PROBES.entries()} >= {
        "autoscaling.capacity-healthy", "elbv2.targets-healthy", "http.ok", "cloudwatch.alarm-ok"}
    assert {e.name for e in TARGETS.entries()} >= {"ec2:instance", "ec2:subnet"}


@pytest.mark.parametrize("entry", ALL, ids=IDS)
def test_summary_and_name(entry):
    assert entry.summary.strip(), "needs a one-line summary"
    pattern = r"[a-z0-9]+:[a-z0-9-]+" if entry.kind == "target type" else r"[a-z0-9]+\.[a-z0-9-]+"
    assert re.fullmatch(pattern, entry.name), f"{entry.name!r} should look like {pattern}"


@pytest.mark.parametrize("entry", ALL, ids=IDS)
def test_params_are_strict_params_models(entry):
    assert issubclass(entry.params, Params), "params must subclass drtool.registry.Params"
    assert entry.params.model_config.get("extra") == "forbid"
    assert "region" in entry.params.model_fields
    entry.params.model_json_schema()  # `drtool schema` must be able to render it


@pytest.mark.parametrize("entry", ALL, ids=IDS)
def test_iam_actions_exist(entry):
    if entry.kind == "action":
        assert entry.iam, "every action declares the IAM actions it needs"
    for name in entry.iam:
        assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", name), f"{name!r} is not `service:Action`"
        if name in IAM_ONLY:
            continue
        prefix, op = name.split(":")
        assert op in operations(prefix), f"{name}: botocore has no {op} in {prefix} (see IAM_ONLY)"


@pytest.mark.parametrize("entry", ACTIONS.entries(), ids=lambda e: e.name)
def test_action_undo_and_target_type_exist(entry):
    if entry.undo is not None:
        assert entry.undo in UNDOS, f"undo {entry.undo!r} is not registered"
    for name in entry.extra.get("undos", ()):  # further undos an action journals
        assert name in UNDOS, f"undo {name!r} is not registered"
    if entry.target_type is not None:
        assert entry.target_type in TARGETS, f"target type {entry.target_type!r} is not registered"
