"""The pure judgement: fresh, stale, missing, uncopied, stale copy, copied; JSON shape."""

from __future__ import annotations

import json

from drtool.backups import Inventory, ProtectedResource, RecoveryPoint, judge, judge_resource

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY = 86_400.0
VOL = ProtectedResource("vol-1", "ec2:volume", "us-east-1")


def point(age: float, region: str = "us-east-1", kind: str = "ebs-snapshot") -> RecoveryPoint:
    return RecoveryPoint(NOW - age, kind, f"ref-{age}", region)


def test_fresh_is_compliant_and_says_why():
    v = judge_resource(VOL, [point(3 * DAY), point(3600)], rpo_s=DAY, now=NOW)
    assert v.compliant
    assert v.newest_recovery_point_at == NOW - 3600 and v.age_s == 3600
    assert "within the RPO" in v.reason


def test_stale_violates():
    v = judge_resource(VOL, [point(2 * DAY)], rpo_s=DAY, now=NOW)
    assert not v.compliant
    assert v.age_s == 2 * DAY
    assert "over the RPO" in v.reason


def test_missing_violates_with_nulls():
    v = judge_resource(VOL, [], rpo_s=DAY, now=NOW)
    assert not v.compliant
    assert v.newest_recovery_point_at is None and v.age_s is None
    assert v.reason == "no recovery point found"


def test_a_copy_is_not_a_local_recovery_point():
    v = judge_resource(VOL, [point(60, "us-west-2")], rpo_s=DAY, now=NOW)
    assert not v.compliant and v.reason == "no recovery point found"
    assert v.copy_regions == ("us-west-2",)


def test_uncopied_violates_when_a_copy_region_is_required():
    v = judge_resource(VOL, [point(60)], rpo_s=DAY, now=NOW, copy_regions=["us-west-2"])
    assert not v.compliant
    assert v.reason == "no copy in us-west-2"
    assert v.copy_regions == ()


def test_copied_complies():
    v = judge_resource(VOL, [point(60), point(120, "us-west-2")], rpo_s=DAY, now=NOW, copy_regions=["us-west-2"])
    assert v.compliant and v.copy_regions == ("us-west-2",)
    assert "copied to us-west-2" in v.reason


def test_stale_copy_violates():
    v = judge_resource(VOL, [point(60), point(3 * DAY, "us-west-2")], rpo_s=DAY, now=NOW, copy_regions=["us-west-2"])
    assert not v.compliant
    assert "newest copy in us-west-2" in v.reason


def test_copy_requirement_skips_the_resources_own_region():
    v = judge_resource(VOL, [point(60)], rpo_s=DAY, now=NOW, copy_regions=["us-east-1"])
    assert v.compliant


def test_every_problem_is_named():
    v = judge_resource(VOL, [point(2 * DAY)], rpo_s=DAY, now=NOW, copy_regions=["us-west-2", "eu-west-1"])
    assert v.reason.count(";") == 2 and "no copy in eu-west-1" in v.reason


def test_future_points_count_as_age_zero():
    """Clock skew (and moto's frozen PITR time) must not give a negative age."""
    v = judge_resource(VOL, [point(-30)], rpo_s=DAY, now=NOW)
    assert v.age_s == 0.0 and v.compliant


def test_json_shape_is_exactly_the_spec():
    inv = Inventory([VOL, ProtectedResource("t", "dynamodb:table", "us-east-1")],
                    {VOL.key: [point(90.5)]}, ["us-east-1"], [])
    report = judge(inv, rpo_s=DAY, now=NOW)
    data = json.loads(json.dumps(report.to_json()))
    assert list(data) == ["rpo_s", "resources"]
    assert data["rpo_s"] == DAY
    keys = ["id", "type", "region", "newest_recovery_point_at", "age_s", "copy_regions", "compliant", "reason"]
    assert [list(r) for r in data["resources"]] == [keys, keys]
    fresh, missing = data["resources"]
    assert fresh["newest_recovery_point_at"] == "2025-12-31T23:58:29.500Z"
    assert fresh["age_s"] == 90.5 and fresh["copy_regions"] == [] and fresh["compliant"] is True
    assert missing["newest_recovery_point_at"] is None and missing["age_s"] is None
    assert report.compliant is False and [v.id for v in report.violations] == ["t"]
