"""docs/catalog.md is generated from the registry and must match it."""

from pathlib import Path

from drtool.catalog import catalog_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "catalog.md"


def test_catalog_doc_is_current():
    assert DOC.read_text() == catalog_markdown(), "run: drtool catalog > docs/catalog.md"


def test_catalog_covers_the_spec_catalogue():
    text = catalog_markdown()
    for name in ("ec2.terminate-instances", "ec2.stop-instances", "ec2.blackhole-subnets", "autoscaling.set-capacity",
                 "rds.promote-read-replica", "rds.failover-cluster", "route53.failover", "s3.pause-replication",
                 "autoscaling.capacity-healthy", "elbv2.targets-healthy", "rds.available", "route53.points-to",
                 "http.ok", "cloudwatch.alarm-ok", "rds.restore-snapshot", "dynamodb.restore-backup"):
        assert f"### `{name}`" in text, name
