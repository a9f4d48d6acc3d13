"""drtool.targets: seeded count/percent/all selection, and resolve() with batched describes."""

from __future__ import annotations

import random

import boto3
import pytest

from drtool.context import StepContext
from drtool.errors import DrToolError
from drtool.registry import TARGETS, Entry
from drtool.resources import Resource
from drtool.selectors import TargetSelector
from drtool.targets import resolve, select
from drtool.timing import FakeClock

POOL = [Resource(id=f"i-{n:02d}", type="ec2:instance", region="us-east-1", selected_by="tags app=web")
        for n in range(10)]


def pick(select_, seed=7, pool=POOL):
    selector = TargetSelector(tags={"app": "web"}, select=select_)
    return [r.id for r in select(pool, selector, random.Random(seed))]


def test_all_is_everything_sorted():
    assert pick("all", pool=list(reversed(POOL))) == [r.id for r in POOL]


def test_count_is_deterministic_for_a_seed_and_input_order():
    first = pick({"count": 3})
    assert len(first) == 3 and first == sorted(first)
    assert pick({"count": 3}) == first
    assert pick({"count": 3}, pool=list(reversed(POOL))) == first
    assert {tuple(pick({"count": 3}, seed=s)) for s in range(20)} != {tuple(first)}
    assert pick({"count": 50}) == [r.id for r in POOL]


def test_percent_rounds_up():
    assert len(pick({"percent": 30})) == 3  # not 4 from float noise
    assert len(pick({"percent": 31})) == 4
    assert len(pick({"percent": 50}, pool=POOL[:3])) == 2
    assert len(pick({"percent": 1}, pool=POOL[:3])) == 1


def test_random_pick_is_recorded_in_selected_by():
    selector = TargetSelector(tags={"app": "web"}, select={"count": 2})
    picked = select(POOL, selector, random.Random(1))
    assert {r.selected_by for r in picked} == {"tags app=web; random 2 of 10 (count=2)"}
    assert POOL[0].selected_by == "tags app=web"  # inputs untouched


@pytest.fixture
def ctx(session):
    return StepContext(aws=session, clock=FakeClock(), region="us-east-1", run_id="run-test", read_only=True)


def test_resolve_uses_one_batched_describe(ctx, session):
    """Six instances in three reservations: one DescribeInstances (plus the cached STS account lookup)."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    for _ in range(3):
        ec2.run_instances(ImageId="ami-12345678", MinCount=2, MaxCount=2, TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "app", "Value": "web"}]}])
    session.calls.clear()
    selector = TargetSelector(tags={"app": "web"}, az=["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d",
                                                      "us-east-1e", "us-east-1f"], select={"count": 4})
    picked = resolve(ctx, "ec2:instance", selector, random.Random(3))
    assert len(picked) == 4
    assert session.calls == {"ec2:DescribeInstances": 1, "sts:GetCallerIdentity": 1}
    assert [r.id for r in resolve(ctx, "ec2:instance", selector, random.Random(3))] == [r.id for r in picked]
    assert session.calls["sts:GetCallerIdentity"] == 1


def test_resolve_refuses_resources_outside_the_region(ctx, monkeypatch):
    stray = Entry(name="test:stray", kind="target type", summary="test", params=TargetSelector,
                  func=lambda _ctx, _sel: [Resource(id="x-1", type="test:stray", region="eu-west-1")])
    monkeypatch.setitem(TARGETS._entries, "test:stray", stray)
    with pytest.raises(DrToolError, match="outside us-east-1"):
        resolve(ctx, "test:stray", TargetSelector(ids=["x-1"]), random.Random(0))
