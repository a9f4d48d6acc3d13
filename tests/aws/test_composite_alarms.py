"""Composite alarms as stop conditions (review B5).

moto has no put_composite_alarm, so one CloudWatch behaviour is simulated on the real
botocore client with two event hooks around moto's DescribeAlarms: a composite alarm is
added to the parsed response only when the request's AlarmTypes names CompositeAlarm,
as AWS does ("If you omit this parameter, only metric alarms are returned, even if
composite alarms exist in the account", CloudWatch API reference, DescribeAlarms). The
rest of the call (metric alarms, pagination, the HTTP round trip) is moto's.
"""

from __future__ import annotations

import boto3
import pytest

from drtool.aws.cloudwatch import alarms_in_alarm
from drtool.guardrails import prepare
from drtool.timing import FakeClock
from tests.unit import fake_entries
from tests.unit.test_runner import make_drill

fake_entries.register()

STOP = """\
  stop_conditions:
    - alarm: service-health
    - alarm: svc-5xx
"""


def composite_alarm(session, state: dict) -> None:
    """Make the session's CloudWatch client in us-east-1 know one composite alarm."""
    client = session.client("cloudwatch", "us-east-1")

    def remember(params, context, **_kw):
        context["composite"] = "CompositeAlarm" in params.get("AlarmTypes", [])

    def add(parsed, context, **_kw):
        names = state.get("asked", [])
        if context.get("composite") and "service-health" in names:
            parsed.setdefault("CompositeAlarms", []).append(
                {"AlarmName": "service-health", "StateValue": state["value"], "StateReason": "children"})

    def names(params, **_kw):
        state["asked"] = list(params.get("AlarmNames", []))

    client.meta.events.register("provide-client-params.monitoring.DescribeAlarms", names)
    client.meta.events.register("before-parameter-build.monitoring.DescribeAlarms", remember)
    client.meta.events.register("after-call.monitoring.DescribeAlarms", add)


@pytest.fixture
def metric_alarm(aws):
    boto3.client("cloudwatch", region_name="us-east-1").put_metric_alarm(
        AlarmName="svc-5xx", MetricName="5xx", Namespace="svc", Statistic="Sum", Period=60, EvaluationPeriods=1,
        Threshold=1, ComparisonOperator="GreaterThanThreshold")


def test_a_composite_alarm_is_an_existing_stop_condition(metric_alarm, session, tmp_path):
    composite_alarm(session, {"value": "OK"})
    plan = prepare(make_drill(tmp_path, drill_extra=STOP), session, FakeClock(), seed=1)
    assert plan.refusals == []


def test_the_hook_mimics_aws_without_alarm_types(metric_alarm, session, tmp_path):
    """The old check (no AlarmTypes) would not have seen the composite alarm: the test can fail."""
    composite_alarm(session, {"value": "OK"})
    client = session.client("cloudwatch", "us-east-1")
    plain = client.describe_alarms(AlarmNames=["service-health", "svc-5xx"])
    assert plain.get("CompositeAlarms", []) == [] and [a["AlarmName"] for a in plain["MetricAlarms"]] == ["svc-5xx"]


def test_a_missing_alarm_is_still_refused(metric_alarm, session, tmp_path):
    plan = prepare(make_drill(tmp_path, drill_extra=STOP), session, FakeClock(), seed=1)
    assert plan.refused_by == ["stop_conditions"]
    assert plan.refusals == ["stop condition alarm 'service-health' does not exist in us-east-1"]


def test_a_composite_alarm_in_alarm_fires(metric_alarm, session):
    composite_alarm(session, {"value": "ALARM"})
    assert alarms_in_alarm(session, [("service-health", "us-east-1"), ("svc-5xx", "us-east-1")]) == ["service-health"]
