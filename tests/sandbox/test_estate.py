"""Estate documents: the bundled webshop matches docs/sandbox-contract.md; bad estates are refused."""

from __future__ import annotations

import pytest

from drtool.errors import UsageError
from drtool.sandbox.estate import load_estate
from tests.sandbox.helpers import TRUTH_ESTATE


def test_webshop_behaviour_is_aws_defaults_at_the_sandbox_time_scale():
    """docs/sandbox-delays.md: launch 60 s + ALB 30 s x 5, promotion 3 min, failover 35 s,
    S3 30 s, DynamoDB 1 s, TTL 60 s, all at 1/30."""
    truth = load_estate("webshop").truth()
    assert (truth.replacement_delay, truth.scale_up_delay, truth.promotion_delay, truth.failover_delay,
            truth.s3_replication_lag, truth.dynamodb_replication_lag, truth.dns_ttl) == pytest.approx(
        (7, 7, 6, 35 / 30, 1, 1 / 30, 2))
    assert (truth.target_unhealthy_after, truth.target_healthy_after, truth.dns_failover_after,
            truth.health_check_grace_period) == pytest.approx((2, 5, 3, 10))
    assert truth.groups["shop-use1"].replacement_delay == pytest.approx(7)
    assert truth.buckets == {"shop-orders-use1": pytest.approx(1.0)}


def test_truth_resolves_per_resource_overrides():
    truth = load_estate(TRUTH_ESTATE).truth()
    assert truth.groups["spare"].scale_up_delay == 1.2
    assert truth.groups["web"].scale_up_delay == 1.5


def test_subnet_cidrs_default_to_consecutive_slash_24s():
    estate = load_estate("webshop")
    assert estate.subnet_cidrs("us-west-2") == [("us-west-2a", "10.1.1.0/24"), ("us-west-2b", "10.1.2.0/24"),
                                                ("us-west-2c", "10.1.3.0/24")]
    assert estate.endpoint_regions() == {"use1.shop.example.com": "us-east-1", "usw2.shop.example.com": "us-west-2"}


@pytest.mark.parametrize("change, message", [
    ({"groups": [{"name": "g", "region": "eu-west-1", "min": 0, "desired": 0, "max": 1, "subnets": ["a"]}]},
     "region eu-west-1 is not in regions"),
    ({"behaviour": {"dns_ttl": "soon"}}, "expected a duration"),
    ({"surprise": 1}, "Extra inputs are not permitted"),
    ({"account": "222222222222"}, "123456789012"),
])
def test_invalid_estates_are_refused_with_the_reason(tmp_path, change, message):
    import yaml

    data = yaml.safe_load(TRUTH_ESTATE.read_text())
    data.update(change)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(UsageError, match=message):
        load_estate(path)


def test_unknown_estate_names_the_bundled_ones():
    with pytest.raises(UsageError) as info:
        load_estate("nope")
    assert "webshop" in info.value.render()
