"""RPO sampled at the fault: the newest recovery point's age, and replication lag metrics."""

from __future__ import annotations

import threading
from typing import Any

from drtool.durations import format_duration
from drtool.rpo.canary import _err
from drtool.rpo.config import RecoveryPointConfig, ReplicationLagConfig, RpoMeasurement
from drtool.rpo.recovery_points import recovery_points
from drtool.timing import rfc3339, to_datetime, to_epoch


class _FaultSampler:
    """Takes its sample at mark_fault() on a daemon thread; measure() waits for it."""

    method = ""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.fault_at: float | None = None
        self._result: RpoMeasurement | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        return None

    def mark_fault(self, fault_at: float) -> None:
        self.fault_at = fault_at
        self._thread = threading.Thread(target=self._run, name=f"drtool-rpo-{self.method}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self.fault_at is not None
        try:
            self._result = self.sample(self.fault_at)
        except Exception as exc:  # noqa: BLE001 - reported, never raised
            self._result = RpoMeasurement(self.method, None, f"{self.what()} could not be read at the fault "
                                          f"({_err(exc)}); RPO not measured.", {"error": _err(exc)})

    def measure(self) -> RpoMeasurement:
        if self.fault_at is None:
            return RpoMeasurement(self.method, None, "The drill never reached the fault instant, so there is "
                                  f"no {self.method} to sample.")
        if self._thread is not None:
            self._thread.join(timeout=120)
        if self._result is None:
            return RpoMeasurement(self.method, None, f"{self.what()} did not answer in time; RPO not measured.")
        return self._result

    def cleanup(self) -> None:
        return None

    def what(self) -> str:
        raise NotImplementedError

    def sample(self, fault_at: float) -> RpoMeasurement:
        raise NotImplementedError


class RecoveryPointMeter(_FaultSampler):
    method = "recovery-point"

    def __init__(self, ctx: Any, cfg: RecoveryPointConfig, dr_region: str | None = None) -> None:
        super().__init__(ctx)
        self.cfg = cfg
        self.regions = cfg.regions_to_read(dr_region)

    def what(self) -> str:
        return f"The backups of {self.cfg.resource_arn}"

    def sample(self, fault_at: float) -> RpoMeasurement:
        try:
            found = recovery_points(self.ctx, self.cfg.resource_arn, aws_backup=self.cfg.aws_backup,
                                    regions=self.regions)
        except ValueError as exc:
            return RpoMeasurement(self.method, None, f"{exc}; RPO not measured.")
        points = found.points
        before = [p for p in points if p.at <= fault_at]
        evidence: dict[str, Any] = {"resource_arn": self.cfg.resource_arn, "fault_at": rfc3339(fault_at),
                                    "recovery_points": len(points), "after_fault": len(points) - len(before),
                                    "kinds": sorted({p.kind for p in points}), "regions": found.regions}
        unread = ""
        if found.unread:
            evidence["unread"] = found.unread
            unread = f" ({', '.join(found.unread)} could not be read: {'; '.join(found.unread.values())})"
        where = f" in {', '.join(found.regions)}"
        if not points and found.unread:
            return RpoMeasurement(self.method, None, f"No recovery point of {self.cfg.resource_arn} could be read"
                                  f"{where}{unread}; RPO not measured.", evidence)
        if not before:
            return RpoMeasurement(self.method, None, f"No backup or snapshot of {self.cfg.resource_arn} existed{where} at "
                                  f"the fault, so everything since its creation would be lost{unread}.", evidence)
        newest = max(before, key=lambda p: p.at)
        age = fault_at - newest.at
        evidence.update(newest=newest.describe(), newest_kind=newest.kind, newest_at=rfc3339(newest.at))
        return RpoMeasurement(self.method, age, f"The newest recovery point of {self.cfg.resource_arn} at the fault "
                              f"was {newest.describe()} from {rfc3339(newest.at)}, {format_duration(age)} old{unread}.",
                              evidence)


class ReplicationLagMeter(_FaultSampler):
    """Samples the newest datapoint in the `lookback` before the fault; None when AWS has none."""

    method = "replication-lag"

    def __init__(self, ctx: Any, source: str, name: str, region: str, cfg: ReplicationLagConfig) -> None:
        super().__init__(ctx)
        self.source, self.name, self.region, self.cfg = source, name, region, cfg

    def what(self) -> str:
        kind = "ReplicaLag of RDS replica" if self.source == "rds" else "ReplicationLatency of bucket"
        return f"The {kind} {self.name} ({self.region})"

    def _s3_dimensions(self) -> tuple[list[dict[str, str]], str]:
        from drtool.aws.s3 import replication_config, rule_id

        config = replication_config(self.ctx.client("s3", self.region), self.name)
        rules = [(rule_id(r, i), r) for i, r in enumerate((config or {}).get("Rules") or [])]
        chosen = [r for r in rules if r[0] == self.cfg.s3_rule] if self.cfg.s3_rule else rules[:1]
        if not chosen:
            raise ValueError(f"bucket {self.name} has no replication rule {self.cfg.s3_rule or ''}".rstrip())
        rid, rule = chosen[0]
        metrics = (rule.get("Destination") or {}).get("Metrics", {}).get("Status") == "Enabled"
        dest = rule["Destination"]["Bucket"].split(":::")[-1]
        note = "" if metrics else f" (replication metrics are not enabled on rule {rid})"
        return ([{"Name": "SourceBucket", "Value": self.name}, {"Name": "DestinationBucket", "Value": dest},
                 {"Name": "RuleId", "Value": rid}], note)

    def sample(self, fault_at: float) -> RpoMeasurement:
        note = ""
        if self.source == "rds":
            namespace, metric = "AWS/RDS", "ReplicaLag"
            dims = [{"Name": "DBInstanceIdentifier", "Value": self.name}]
        else:
            namespace, metric = "AWS/S3", "ReplicationLatency"
            try:
                dims, note = self._s3_dimensions()
            except ValueError as exc:
                return RpoMeasurement(self.method, None, f"{exc}; replication lag not measured.")
        points = self.ctx.client("cloudwatch", self.region).get_metric_statistics(
            Namespace=namespace, MetricName=metric, Dimensions=dims, StartTime=to_datetime(fault_at - self.cfg.lookback),
            EndTime=to_datetime(fault_at), Period=60, Statistics=["Maximum"])["Datapoints"]
        evidence: dict[str, Any] = {"namespace": namespace, "metric": metric,
                                    "dimensions": {d["Name"]: d["Value"] for d in dims},
                                    "region": self.region, "fault_at": rfc3339(fault_at), "datapoints": len(points)}
        if not points:
            return RpoMeasurement(self.method, None, (
                f"CloudWatch has no {metric} datapoint for {self.name} ({self.region}) in the "
                f"{format_duration(self.cfg.lookback)} before the fault{note}: the metric is missing, so "
                "replication lag was not measured."), evidence)
        newest = max(points, key=lambda p: p["Timestamp"])
        lag = float(newest["Maximum"])
        evidence.update(sampled_at=rfc3339(to_epoch(newest["Timestamp"])), value=lag, unit=newest.get("Unit"))
        return RpoMeasurement(self.method, lag, f"{metric} of {self.name} ({self.region}) was "
                              f"{format_duration(lag)} at {rfc3339(to_epoch(newest['Timestamp']))}, the newest "
                              "datapoint before the fault.", evidence)


