"""Issue 4's definition of done, checked on the sandbox's own state after a full region-loss
drill: measured RTO and RPO, the primary region's network and replication restored, no
canary left in either bucket, and the promoted replica listed as follow-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from drtool.api import drill_target
from drtool.runner import RunOptions, run_drill

pytestmark = pytest.mark.moto  # runs the sandbox (moto's server)

ROOT = Path(__file__).resolve().parents[2]


def test_region_loss_drill_restores_the_primary_region_and_leaves_no_canary(tmp_path):
    with drill_target(ROOT / "drills" / "checkout-region-loss.yaml", sandbox=True) as (drill, session, mode):
        ec2 = session.client("ec2", "us-east-1")
        before = {a["SubnetId"]: acl["NetworkAclId"] for acl in ec2.describe_network_acls()["NetworkAcls"]
                  for a in acl["Associations"]}
        result = run_drill(drill, session, RunOptions(results=tmp_path, yes=True, mode=mode))
        card = result.scorecard

        assert result.exit_code == 0, card["run"]["reason"]
        assert card["objectives"]["rto"]["measured_s"] > 0 and card["objectives"]["rto"]["met"]
        assert card["objectives"]["rpo"]["method"] == "canary" and card["objectives"]["rpo"]["measured_s"] > 0

        after = {a["SubnetId"]: acl["NetworkAclId"] for acl in ec2.describe_network_acls()["NetworkAcls"]
                 for a in acl["Associations"]}
        assert after == before
        assert ec2.describe_network_acls(Filters=[{"Name": "tag-key", "Values": ["drtool:run-id"]}])["NetworkAcls"] == []

        s3 = session.client("s3", "us-east-1")
        rules = s3.get_bucket_replication(Bucket="shop-orders-use1")["ReplicationConfiguration"]["Rules"]
        assert [r["Status"] for r in rules] == ["Enabled"]
        for bucket, region in (("shop-orders-use1", "us-east-1"), ("shop-orders-usw2", "us-west-2")):
            listed = session.client("s3", region).list_object_versions(Bucket=bucket, Prefix="drtool-canary/")
            assert not listed.get("Versions") and not listed.get("DeleteMarkers"), bucket

        [follow_up] = card["follow_up"]
        assert "shop-db-dr" in follow_up["resource"] and "fail back" in follow_up["how"].lower()
        assert card["rollback"]["status"] == "complete"
