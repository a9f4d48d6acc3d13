"""Route 53 and CloudWatch state the routing and alarms read every tick.

Reads stay internal for the tick's sake: each 50 ms step reads every health check and the
global record's record sets (ListHealthChecks, ListResourceRecordSets per zone), and each
alarm evaluation every alarm and its datapoints (DescribeAlarms, GetMetricData per alarm
and region). Alarm states and metrics are written through the API (`drtool.sandbox.alarms`).
No AWS API deletes metric data (CloudWatch keeps it up to 15 months, see retention in
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html),
so pruning the sandbox's own old datapoints, which keeps each evaluation cheap, stays here.
"""

from __future__ import annotations

from dataclasses import dataclass

from drtool.sandbox.moto_adapter import backends


@dataclass(frozen=True)
class HealthCheck:
    check_id: str
    type: str
    fqdn: str | None
    ip_address: str | None
    port: int
    path: str | None
    inverted: bool
    disabled: bool


@dataclass(frozen=True)
class Record:
    name: str
    type: str
    set_identifier: str | None
    failover: str | None
    health_check_id: str | None
    values: tuple[str, ...]
    ttl: int


@dataclass(frozen=True)
class Alarm:
    name: str
    namespace: str | None
    metric_name: str | None
    dimensions: tuple[tuple[str, str], ...]
    statistic: str | None
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int | None
    threshold: float
    comparison: str
    treat_missing: str | None
    state: str


def health_checks(account: str) -> list[HealthCheck]:
    return [HealthCheck(h.id, str(h.type_), h.fqdn, h.ip_address, int(h.port or 80), h.resource_path,
                        backends.is_true(h.inverted), backends.is_true(h.disabled))
            for h in list(backends.route53(account).health_checks.values())]


def record_sets(account: str, record_name: str) -> list[Record]:
    """Every record set named `record_name` (trailing dot optional) in any zone."""
    wanted = record_name.rstrip(".") + "."
    result = []
    for zone in list(backends.route53(account).zones.values()):
        for rr in list(zone.rrsets):
            if rr.name.rstrip(".") + "." != wanted:
                continue
            values = tuple(v["Value"] if isinstance(v, dict) else str(v) for v in rr.records or [])
            result.append(Record(rr.name, rr.type, rr.set_identifier, rr.failover, rr.health_check_id,
                                 values, int(rr.ttl or 0)))
    return result


def alarms(account: str, region: str) -> list[Alarm]:
    return [Alarm(a.name, a.namespace, a.metric_name, tuple((d.name, d.value) for d in a.dimensions),
                  a.statistic, int(a.period or 60), int(a.evaluation_periods or 1),
                  int(a.datapoints_to_alarm) if a.datapoints_to_alarm else None, float(a.threshold or 0),
                  a.comparison_operator, a.treat_missing_data, a.state_value)
            for a in list(backends.cloudwatch(account, region).alarms.values())]


def datapoints(account: str, region: str, namespace: str, name: str,
               dimensions: tuple[tuple[str, str], ...], since: float) -> list[tuple[float, float]]:
    """[(epoch, value)] of single-value datapoints of the metric newer than `since`."""
    from moto.cloudwatch.models import MetricDatum

    wanted = set(dimensions)
    after = backends.naive_utc(since)
    return [(backends.epoch(d.timestamp), d.value) for d in list(backends.cloudwatch(account, region).metric_data)
            if isinstance(d, MetricDatum) and d.namespace == namespace and d.name == name
            and backends.naive(d.timestamp) > after and {(x.name, x.value) for x in d.dimensions} == wanted]


def prune_metrics(account: str, region: str, namespace: str, older_than: float) -> None:
    """Drop `namespace` datapoints older than `older_than` (epoch) so evaluation stays cheap."""
    backend = backends.cloudwatch(account, region)
    cutoff = backends.naive_utc(older_than)
    backend.metric_data = [d for d in backend.metric_data
                           if d.namespace != namespace or backends.naive(d.timestamp) >= cutoff]


def publish_service_metric(account: str, region: str, namespace: str, name: str, dimensions: dict[str, str],
                           value: float, unit: str) -> None:
    """A datapoint an AWS service publishes itself (RDS's `AWS/RDS ReplicaLag`): PutMetricData
    refuses namespaces beginning with `AWS/`, reserved for AWS products
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html)."""
    backends.cloudwatch(account, region).put_metric_data(namespace, [{
        "MetricName": name, "Value": value, "Unit": unit,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()]}])
