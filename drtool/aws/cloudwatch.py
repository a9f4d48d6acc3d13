"""CloudWatch: the alarm-ok probe and the stop-condition check the runner polls."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import Field

from drtool.context import StepContext
from drtool.registry import Params, probe
from drtool.resources import ProbeResult

_NAMES_PER_CALL = 100  # DescribeAlarms accepts at most 100 AlarmNames


def describe_alarms(client: Any, names: list[str]) -> list[dict[str, Any]]:
    """Metric and composite alarms with these names (paginated, batched by 100).

    AlarmTypes must name both: without it DescribeAlarms returns only metric alarms, even
    if composite alarms exist (CloudWatch API reference, DescribeAlarms, AlarmTypes).
    """
    found: list[dict[str, Any]] = []
    paginator = client.get_paginator("describe_alarms")
    for start in range(0, len(names), _NAMES_PER_CALL):
        chunk = names[start:start + _NAMES_PER_CALL]
        for page in paginator.paginate(AlarmNames=chunk, AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
            found += page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])
    return found


def alarms_in_alarm(session: Any, alarms: list[tuple[str, str | None]]) -> list[str]:
    """Names of the given (name, region) alarms now in state ALARM; one describe per region.

    A region of None means the session's default region. Alarms that do not exist are not
    reported here (check them once before the run).
    """
    by_region: dict[str, list[str]] = defaultdict(list)
    for name, region in alarms:
        by_region[region or session.default_region].append(name)
    firing: set[tuple[str, str]] = set()
    for region, names in by_region.items():
        for alarm in describe_alarms(session.client("cloudwatch", region), sorted(set(names))):
            if alarm.get("StateValue") == "ALARM":
                firing.add((alarm["AlarmName"], region))
    return [name for name, region in dict.fromkeys(alarms)
            if (name, region or session.default_region) in firing]


class AlarmParams(Params):
    alarm: str = Field(description="alarm name")


@probe("cloudwatch.alarm-ok", summary="The CloudWatch alarm is in state OK", params=AlarmParams,
       iam=["cloudwatch:DescribeAlarms"])
def alarm_ok(ctx: StepContext, params: AlarmParams) -> ProbeResult:
    found = describe_alarms(ctx.client("cloudwatch", params.region), [params.alarm])
    if not found:
        return ProbeResult(False, f"Alarm {params.alarm} was not found.")
    state = found[0].get("StateValue")
    reason = found[0].get("StateReason") or "no reason given"
    return ProbeResult(state == "OK", f"Alarm {params.alarm} is {state}: {reason}",
                       {"state": state, "reason": reason})
