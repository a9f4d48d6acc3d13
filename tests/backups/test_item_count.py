"""dynamodb.item-count: a bounded Scan(Select=COUNT) on every poll by default (DescribeTable's
ItemCount lags by about six hours, API_TableDescription.html), DescribeTable's approximate
ItemCount only with `count: approximate`; one tolerance, in items or in percent, default none."""

from __future__ import annotations

import boto3
import pytest

from drtool.backups.restore_dynamodb import scan_count
from drtool.registry import PROBES
from tests.backups import helpers as h
from tests.backups.helpers import PRIMARY


def check(ctx, **with_):
    entry = PROBES.get("dynamodb.item-count")
    return entry.func(ctx, entry.params.model_validate(with_))


@pytest.fixture
def scans(aws, monkeypatch):
    """Counts the Scan requests moto answers."""
    from moto.dynamodb.models import DynamoDBBackend

    calls: list[str] = []
    original = DynamoDBBackend.scan

    def scan(self, table_name, *args, **kwargs):
        calls.append(table_name)
        return original(self, table_name, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "scan", scan)
    return calls


@pytest.fixture
def lagging_item_count(aws, monkeypatch):
    """Emulate AWS right after a write burst: DescribeTable's ItemCount still says 0
    ("DynamoDB updates this value approximately every six hours", API_TableDescription)."""
    from moto.dynamodb.models.table import Table

    original = Table.describe

    def describe(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        for body in out.values():
            body["ItemCount"] = 0
        return out

    monkeypatch.setattr(Table, "describe", describe)


def test_approximate_is_opt_in_reads_describe_table_and_never_scans(make_ctx, scans):
    h.table("orders", items=7)
    result = check(make_ctx(), table="orders", equals=7, count="approximate")
    assert result.ok and result.data == {"count": 7, "expected": 7, "method": "approximate", "tolerance": 0}
    assert "holds about 7 items (approximate: DescribeTable's ItemCount" in result.detail
    assert scans == []


def test_the_default_is_an_exact_count_with_no_tolerance(make_ctx, scans, lagging_item_count):
    h.table("orders", items=5)
    result = check(make_ctx(), table="orders", equals=5)
    assert result.ok and result.data == {"count": 5, "expected": 5, "method": "exact", "tolerance": 0}
    assert "holds 5 items, matching expected 5." in result.detail and scans == ["orders"]
    assert not check(make_ctx(), table="orders", equals=6).ok


def test_one_tolerance_in_items_or_in_percent_never_both(make_ctx):
    h.table("orders", items=7)
    ctx = make_ctx()
    assert not check(ctx, table="orders", equals=8, tolerance=0).ok                # an explicit 0 stays 0
    assert not check(ctx, table="orders", equals=10, tolerance_percent=29).ok     # 2.9 items: 2 allowed
    assert check(ctx, table="orders", equals=10, tolerance_percent=30).ok
    out = check(ctx, table="orders", equals=10, tolerance=2)
    assert not out.ok and out.data["tolerance"] == 2 and "but expected 10 (within 2)" in out.detail
    params = PROBES.get("dynamodb.item-count").params
    with pytest.raises(ValueError, match="not both"):
        params.model_validate({"table": "orders", "equals": 10, "tolerance": 0, "tolerance_percent": 30})


def test_a_stale_item_count_says_so_and_a_wait_sees_the_exact_count_change(make_ctx, scans, lagging_item_count):
    h.table("orders", items=5)
    ctx = make_ctx()
    stale = check(ctx, table="orders", equals=5, count="approximate")
    assert not stale.ok and "refreshed about every six hours" in stale.detail and "count: exact" in stale.detail
    assert scans == []
    assert check(ctx, table="orders", equals=5).ok
    client = boto3.client("dynamodb", PRIMARY)
    for i in range(2):                                             # the restore is still filling the table
        client.put_item(TableName="orders", Item={"pk": {"S": f"late-{i}"}})
    polls = [check(ctx, table="orders", equals=7) for _ in range(2)]
    assert [p.ok for p in polls] == [True, True] and [p.data["count"] for p in polls] == [7, 7]
    assert scans == ["orders"] * 3                                 # one Scan per poll, none reused


def test_the_exact_count_is_bounded(make_ctx):
    h.table("blobs")
    client = boto3.client("dynamodb", PRIMARY)
    for i in range(4):                                              # ~1.4 MB: Scan pages at 1 MB
        client.put_item(TableName="blobs", Item={"pk": {"S": f"b{i}"}, "data": {"S": "x" * 350_000}})
    count, complete = scan_count(client, "blobs", max_pages=1)
    assert not complete and count < 4
    assert scan_count(client, "blobs", max_pages=10) == (4, True)
    out = check(make_ctx(), table="blobs", equals=4, max_scan_pages=1)
    assert not out.ok and "max_scan_pages=1" in out.detail
