"""`drtool permissions`: conditions on writes and PassRole, the results store, KMS."""

from __future__ import annotations

from pathlib import Path

from drtool.documents import load_drill
from drtool.permissions import policy_for

ROOT = Path(__file__).resolve().parents[2]


def _statements(name: str) -> dict[str, dict]:
    policy = policy_for(load_drill(ROOT / "drills" / name), ["us-east-1", "us-west-2"], results_bucket="dr-evidence")
    return {s["Sid"]: s for s in policy["Statement"]}


def test_writes_on_the_drills_resources_carry_require_tags():
    found = _statements("instance-termination.yaml")
    tagged = found["DrtoolEc2Tagged"]
    assert "ec2:TerminateInstances" in tagged["Action"]
    assert tagged["Condition"]["StringEquals"]["aws:ResourceTag/drill"] == "allowed"
    assert "ec2:TerminateInstances" not in found["DrtoolEc2"]["Action"]


def test_pass_role_names_the_service_it_is_passed_to():
    found = _statements("checkout-region-loss.yaml")
    passrole = found["DrtoolPassRole"]
    assert passrole["Action"] == ["iam:PassRole"]
    assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": ["s3.amazonaws.com"]}}


def test_results_store_signing_kms_and_expiry_tags():
    found = _statements("az-loss.yaml")
    store = found["DrtoolResultsStore"]
    assert {"s3:PutObjectRetention", "s3:GetObjectRetention", "s3:GetBucketObjectLockConfiguration",
            "s3:PutObject", "s3:GetObject", "s3:ListBucket"} <= set(store["Action"])
    assert store["Resource"] == ["arn:aws:s3:::dr-evidence", "arn:aws:s3:::dr-evidence/*"]
    assert found["DrtoolScorecardSigning"]["Action"] == ["kms:GetPublicKey", "kms:Sign"]
    via = found["DrtoolEncryptedResources"]["Condition"]["StringLike"]["kms:ViaService"]
    assert "ec2.us-west-2.amazonaws.com" in via
    assert found["DrtoolEncryptedResourceGrants"]["Action"] == ["kms:CreateGrant"]
    assert {"ec2:CreateTags", "ec2:DeleteTags"} <= set(found["DrtoolEc2"]["Action"])
    assert {"autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"} <= set(found["DrtoolAutoscaling"]["Action"])
