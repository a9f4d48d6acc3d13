"""Issue 12.6: every AWS operation a bundled drill calls in the sandbox is allowed by the
policy `drtool permissions` prints for it.

Each drill runs in-process (`drtool run --sandbox`); every client drtool's AwsSession
makes records its calls (a `before-call` hook, the same one that feeds AwsSession.calls).
An operation maps to its IAM action as `<signing name>:<operation>`, the naming the
Service Authorization Reference uses, except where S3 and CloudWatch authorize under
another name (listed in EXCEPTIONS)."""

from __future__ import annotations

import fnmatch
import json
from collections import Counter
from pathlib import Path

import pytest

from drtool.cli import invoke

pytestmark = [pytest.mark.e2e, pytest.mark.moto]

ROOT = Path(__file__).resolve().parents[2]
DRILLS = sorted(p for p in (ROOT / "drills").glob("*.yaml") if "\nkind: drill" in "\n" + p.read_text())
SIGNING_TO_IAM = {"monitoring": "cloudwatch", "tagging": "tag"}
# Service Authorization Reference, Amazon S3: these operations are authorized as another action.
EXCEPTIONS = {
    "s3:ListObjectsV2": "s3:ListBucket", "s3:ListObjects": "s3:ListBucket", "s3:HeadBucket": "s3:ListBucket",
    "s3:ListObjectVersions": "s3:ListBucketVersions", "s3:HeadObject": "s3:GetObject",
    "s3:GetBucketReplication": "s3:GetReplicationConfiguration",
    "s3:PutBucketReplication": "s3:PutReplicationConfiguration", "s3:DeleteObjects": "s3:DeleteObject",
    "s3:GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration", "s3:ListBuckets": "s3:ListAllMyBuckets",
}


def iam_action(signing: str, operation: str) -> str:
    name = f"{SIGNING_TO_IAM.get(signing, signing)}:{operation}"
    return EXCEPTIONS.get(name, name)


def allowed(policy: dict, action: str) -> bool:
    return any(s["Effect"] == "Allow" and any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in s["Action"])
               for s in policy["Statement"])


@pytest.fixture
def recorded(monkeypatch):
    from drtool.aws.session import AwsSession

    calls: Counter[str] = Counter()
    original = AwsSession._count

    def count(self, model, **kwargs):
        calls[iam_action(model.service_model.signing_name, model.name)] += 1
        return original(self, model, **kwargs)

    monkeypatch.setattr(AwsSession, "_count", count)
    return calls


@pytest.mark.parametrize("drill", DRILLS, ids=[d.stem for d in DRILLS])
def test_every_call_of_a_bundled_drill_is_in_its_policy(drill, recorded, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke(["permissions", str(drill)]) == 0
    policy = json.loads(capsys.readouterr().out)
    assert invoke(["run", str(drill), "--sandbox", "--yes", "--results", str(tmp_path / "r")]) == 0, \
        capsys.readouterr().err[-2000:]
    writes = ("Create", "Put", "Update", "Replace", "Terminate", "Failover", "Promote", "Start", "Delete", "Set")
    assert any(a.split(":")[1].startswith(writes) for a in recorded), f"no change recorded: {sorted(recorded)}"
    missing = sorted(a for a in recorded if not allowed(policy, a))
    assert missing == [], f"{drill.name}: called but not in `drtool permissions`: {missing}"
