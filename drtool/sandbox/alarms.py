"""Simulated metrics and CloudWatch alarm evaluation.

Every `metric_interval` the simulator samples the traffic it models: one request to the
global endpoint, routed by DNS (as of one TTL ago). It puts `drtool/sandbox
HTTPCode_5XX_Count` (1 when the request failed, else 0) with `Endpoint=global` and with
`Endpoint=<region>` for the region that received it, into each region that has an alarm
on it, plus `AWS/RDS ReplicaLag` for live read replicas. It then evaluates every metric
alarm of the sandbox's regions from the stored datapoints (M of N periods, statistic,
comparison, TreatMissingData) and sets the alarm's state when the evaluation changes.

Metrics and states are written through the API (PutMetricData, SetAlarmState); alarms and
datapoints are read from moto every evaluation (`moto_adapter.dns_alarm_state`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable

from drtool.sandbox.estate import Estate
from drtool.sandbox.loopback import ClientFactory
from drtool.sandbox.moto_adapter import dns_alarm_state as mi

METRIC_NAMESPACE = "drtool/sandbox"
METRIC_NAME = "HTTPCode_5XX_Count"
KEEP_SECONDS = 900.0

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": operator.ge, "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt, "LessThanOrEqualToThreshold": operator.le,
}


def statistic(name: str | None, values: list[float]) -> float:
    if name == "Average":
        return sum(values) / len(values)
    if name == "Maximum":
        return max(values)
    if name == "Minimum":
        return min(values)
    if name == "SampleCount":
        return float(len(values))
    return sum(values)


def evaluate(alarm: mi.Alarm, points: list[tuple[float, float]], wall: float) -> str:
    """ALARM when at least M of the last N periods breach, else OK."""
    compare = _COMPARE.get(alarm.comparison, operator.ge)
    breaching = 0
    for k in range(alarm.evaluation_periods):
        high, low = wall - k * alarm.period, wall - (k + 1) * alarm.period
        values = [v for t, v in points if low < t <= high]
        if values:
            breaching += compare(statistic(alarm.statistic, values), alarm.threshold)
        else:
            breaching += alarm.treat_missing == "breaching"
    return "ALARM" if breaching >= (alarm.datapoints_to_alarm or alarm.evaluation_periods) else "OK"


class Alarms:
    def __init__(self, estate: Estate, clients: ClientFactory) -> None:
        self.estate = estate
        self.clients = clients
        self.account = estate.account
        self.regions = list(estate.regions)
        self.interval = estate.behaviour.metric_interval
        self.samples = sorted({(a.region, a.endpoint) for a in estate.alarms})
        self.replicas = [d for d in estate.databases if d.replica_of]
        self._next = 0.0
        self._last: dict[tuple[str, str], str] = {}
        self._count = 0

    def step(self, wall: float, client_region: str | None, serving: dict[str, bool],
             replicas_live: set[str]) -> None:
        if wall < self._next:
            return
        self._next = wall + self.interval
        failed = client_region is None or not serving.get(client_region, False)
        batches: dict[tuple[str, str], list[dict[str, object]]] = {}
        for region, endpoint in self.samples:
            if endpoint == "global":
                value = 1.0 if failed else 0.0
            else:
                value = 1.0 if failed and client_region == endpoint else 0.0
            batches.setdefault((region, METRIC_NAMESPACE), []).append(
                _datum(METRIC_NAME, {"Endpoint": endpoint}, value, "Count"))
        for (region, namespace), data in batches.items():
            self.clients("cloudwatch", region).put_metric_data(Namespace=namespace, MetricData=data)
        for db in self.replicas:
            if db.name in replicas_live:
                mi.publish_service_metric(self.account, db.region, "AWS/RDS", "ReplicaLag",
                                          {"DBInstanceIdentifier": db.name},
                                          self.estate.behaviour.rds_replica_lag, "Seconds")
        self._count += 1
        for region in self.regions:
            if self._count % 120 == 0:
                mi.prune_metrics(self.account, region, METRIC_NAMESPACE, wall - KEEP_SECONDS)
            self._evaluate(region, wall)

    def _evaluate(self, region: str, wall: float) -> None:
        for alarm in mi.alarms(self.account, region):
            if not alarm.namespace or not alarm.metric_name:
                continue  # metric-math alarms are left alone
            since = wall - alarm.period * alarm.evaluation_periods - 1.0
            points = mi.datapoints(self.account, region, alarm.namespace, alarm.metric_name, alarm.dimensions, since)
            state = evaluate(alarm, points, wall)
            key = (region, alarm.name)
            if self._last.get(key) != state and (key in self._last or state != alarm.state):
                reason = (f"Threshold {'crossed' if state == 'ALARM' else 'not crossed'}: "
                          f"{alarm.statistic or 'Sum'} of {alarm.metric_name} "
                          f"over {alarm.evaluation_periods} x {alarm.period}s (drtool sandbox)")
                self.clients("cloudwatch", region).set_alarm_state(AlarmName=alarm.name, StateValue=state,
                                                                   StateReason=reason)
            self._last[key] = state


def _datum(name: str, dimensions: dict[str, str], value: float, unit: str) -> dict[str, object]:
    """One PutMetricData datum, timestamped by CloudWatch on arrival."""
    return {"MetricName": name, "Value": value, "Unit": unit,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()]}
