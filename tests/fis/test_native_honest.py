"""Native faults made honest: the S3 pause lists what it left unreplicated, and warns in plan."""

from __future__ import annotations

import time

from drtool.aws import s3
from drtool.registry import ACTIONS
from tests.aws.cas_helpers import rollback
from tests.region.helpers import PRIMARY, make_buckets


def test_native_s3_pause_lists_objects_written_meanwhile_in_follow_up(session, ctx, clock):
    make_buckets(session)
    client = session.client("s3", PRIMARY)
    client.put_object(Bucket="shop-orders-use1", Key="before", Body=b"x")   # written before: not listed
    time.sleep(1.1)   # LastModified has whole seconds
    clock.advance(time.time() - clock.now())   # moto stamps LastModified with the wall clock
    s3.pause_replication(ctx, s3.BucketParams(bucket="shop-orders-use1"), [])
    for key in ("during-1", "during-2"):
        client.put_object(Bucket="shop-orders-use1", Key=key, Body=b"x")
    clock.advance(1)
    assert rollback(ctx) == []
    [item] = ctx.follow_ups
    assert item["resource"] == "arn:aws:s3:::shop-orders-use1"
    assert item["summary"].startswith("2 object(s) written to shop-orders-use1 while replication rule(s) to-dr")
    assert "S3 Batch Replication" in item["how"] and "ObjectReplicationStatuses=[NONE]" in item["how"]


def test_native_s3_pause_without_writes_has_no_follow_up(session, ctx):
    make_buckets(session)
    s3.pause_replication(ctx, s3.BucketParams(bucket="shop-orders-use1"), [])
    assert rollback(ctx) == [] and ctx.follow_ups == []


def test_native_s3_pause_warns_in_plan():
    warning = ACTIONS.get("s3.pause-replication").extra["plan_warning"]
    assert "NEVER replicated" in warning and "fis.experiment" in warning
