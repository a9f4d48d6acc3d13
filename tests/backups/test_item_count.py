"""dynamodb.item-count: DescribeTable's approximate ItemCount with a tolerance by default, and
with `count: exact` one bounded Scan(Select=COUNT) per run and table, never one per poll."""

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


def test_approximate_reads_describe_table_and_never_scans(make_ctx, scans):
    h.table("orders", items=7)
    result = check(make_ctx(), table="orders", equals=7)
    assert result.ok and result.data == {"count": 7, "expected": 7, "method": "approximate", "tolerance": 0}
    assert "holds about 7 items (ItemCount)" in result.detail
    assert scans == []


def test_percent_and_absolute_tolerances_take_the_larger(make_ctx):
    h.table("orders", items=7)
    ctx = make_ctx()
    assert not check(ctx, table="orders", equals=10).ok            # 1% of 10 rounds to 0 items
    assert check(ctx, table="orders", equals=10, tolerance_percent=30).ok
    assert check(ctx, table="orders", equals=10, tolerance=3).ok
    out = check(ctx, table="orders", equals=10, tolerance=2, tolerance_percent=10)
    assert not out.ok and out.data["tolerance"] == 2 and "but expected 10 (within 2)" in out.detail


def test_a_stale_item_count_says_so_and_the_exact_count_scans_once(make_ctx, scans, lagging_item_count):
    h.table("orders", items=5)
    ctx = make_ctx()
    stale = check(ctx, table="orders", equals=5)
    assert not stale.ok and "refreshed about every six hours" in stale.detail and "count: exact" in stale.detail
    assert scans == []
    for _ in range(3):                                              # polls reuse the run's one count
        exact = check(ctx, table="orders", equals=5, count="exact")
        assert exact.ok and exact.data["method"] == "exact" and "holds 5 items" in exact.detail
    assert scans == ["orders"]
    assert check(make_ctx(run_id="run-2"), table="orders", equals=5, count="exact").ok
    assert scans == ["orders", "orders"]                           # another run counts afresh


def test_the_exact_count_is_bounded(make_ctx):
    h.table("blobs")
    client = boto3.client("dynamodb", PRIMARY)
    for i in range(4):                                              # ~1.4 MB: Scan pages at 1 MB
        client.put_item(TableName="blobs", Item={"pk": {"S": f"b{i}"}, "data": {"S": "x" * 350_000}})
    count, complete = scan_count(client, "blobs", max_pages=1)
    assert not complete and count < 4
    assert scan_count(client, "blobs", max_pages=10) == (4, True)
    out = check(make_ctx(), table="blobs", equals=4, count="exact", max_scan_pages=1)
    assert not out.ok and "max_scan_pages=1" in out.detail
