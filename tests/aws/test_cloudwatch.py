"""cloudwatch.alarm-ok and the runner's stop-condition check, driven by set_alarm_state."""

from __future__ import annotations

import boto3
import pytest

from drtool.aws.cloudwatch import alarms_in_alarm
from drtool.context import StepContext
from drtool.registry import PROBES
from drtool.timing import FakeClock


def put_alarm(name, region="us-east-1", state=None):
    cw = boto3.client("cloudwatch", region_name=region)
    cw.put_metric_alarm(AlarmName=name, MetricName="5xx", Namespace="App", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    if state:
        cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason="drill test")


@pytest.fixture
def ctx(session):
    return StepContext(aws=session, clock=FakeClock(), region="us-east-1", run_id="run-test", read_only=True)


def probe(ctx, alarm):
    entry = PROBES.get("cloudwatch.alarm-ok")
    return entry.func(ctx, entry.params(alarm=alarm))


def test_alarm_ok_then_alarm(ctx):
    put_alarm("checkout-5xx")
    assert probe(ctx, "checkout-5xx").ok
    put_alarm("checkout-5xx", state="ALARM")
    result = probe(ctx, "checkout-5xx")
    assert not result.ok and result.data["state"] == "ALARM"
    assert result.detail == "Alarm checkout-5xx is ALARM: drill test"


def test_alarm_missing(ctx):
    result = probe(ctx, "nope")
    assert not result.ok and "not found" in result.detail


def test_alarms_in_alarm_one_call_per_region(session):
    put_alarm("a-east", state="ALARM")
    put_alarm("b-east")
    put_alarm("c-west", region="us-west-2", state="ALARM")
    put_alarm("d-west", region="us-west-2")
    session.calls.clear()
    firing = alarms_in_alarm(session, [("a-east", "us-east-1"), ("b-east", None), ("c-west", "us-west-2"),
                                       ("d-west", "us-west-2"), ("missing", "us-west-2")])
    assert firing == ["a-east", "c-west"]
    assert session.calls == {"cloudwatch:DescribeAlarms": 2}


def test_alarms_in_alarm_none_firing(session):
    put_alarm("quiet")
    assert alarms_in_alarm(session, [("quiet", None)]) == []
