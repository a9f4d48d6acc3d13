"""A snapshot of what a drill can change in the sandbox estate, to compare before and after.

Every entry is keyed `service/region/kind/id` and carries the ids that would name it in
a scorecard (`names`), so a difference can be matched against `rollback.remaining` and
`follow_up`. Volatile state the simulator replaces on its own (instance ids, target
health, alarm states, object versions) is left out. Reads go through the sandbox's plain
clients, so they are neither counted nor faulted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

RUN_TAG = "drtool:run-id"


@dataclass
class EstateState:
    values: dict[str, Any] = field(default_factory=dict)
    names: dict[str, set[str]] = field(default_factory=dict)

    def put(self, key: str, value: Any, *names: str) -> None:
        self.values[key] = value
        self.names[key] = {key.rsplit("/", 1)[-1], *(n for n in names if n)}


@dataclass
class Difference:
    key: str
    before: Any
    after: Any
    names: set[str]

    def __str__(self) -> str:
        return f"{self.key}: {self.before!r} -> {self.after!r}"


_READER: Any = None
_CLIENTS: dict[tuple[str, str, str], Any] = {}


def _client(sb: Any, service: str, region: str | None = None) -> Any:
    """A plain client on the sandbox from one shared botocore session, kept per endpoint
    (a client costs more to make than the reads it serves)."""
    global _READER
    from botocore.config import Config

    from drtool.sandbox.provision import isolated_session

    key = (sb.endpoint_url, service, region or sb.estate.primary_region)
    if key not in _CLIENTS:
        if _READER is None:
            _READER = isolated_session(sb.estate.primary_region)
        _CLIENTS[key] = _READER.client(service, region_name=key[2], endpoint_url=key[0],
                                       config=Config(retries={"max_attempts": 1}))
    return _CLIENTS[key]


def snapshot(sb: Any) -> EstateState:
    state = EstateState()
    for region in sb.estate.regions:
        _ec2(_client(sb, "ec2", region), region, state)
        _autoscaling(_client(sb, "autoscaling", region), region, state)
        _rds(_client(sb, "rds", region), region, state)
        _dynamodb(_client(sb, "dynamodb", region), region, state)
        _alarms(_client(sb, "cloudwatch", region), region, state)
    _s3(_client(sb, "s3"), state)
    _route53(_client(sb, "route53"), state)
    return state


def compare(before: EstateState, after: EstateState) -> list[Difference]:
    out = []
    for key in sorted(before.values.keys() | after.values.keys()):
        b, a = before.values.get(key), after.values.get(key)
        if b != a:
            out.append(Difference(key, b, a, before.names.get(key, set()) | after.names.get(key, set())))
    return out


def unexplained(differences: list[Difference], card: dict[str, Any]) -> list[Difference]:
    """Differences no `rollback.remaining` or `follow_up` item names (by any of its ids)."""
    told = json.dumps({"remaining": card.get("rollback", {}).get("remaining", []),
                       "follow_up": card.get("follow_up", [])})
    return [d for d in differences if not any(name in told for name in d.names)]


# -- per service -------------------------------------------------------------------------

def _tags(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or []}


def _ec2(ec2: Any, region: str, state: EstateState) -> None:
    for acl in ec2.describe_network_acls()["NetworkAcls"]:
        tags = _tags(acl.get("Tags"))
        entries = sorted((e["RuleNumber"], e["RuleAction"], e["Egress"]) for e in acl.get("Entries", []))
        state.put(f"ec2/{region}/network-acl/{acl['NetworkAclId']}",
                  {"default": acl.get("IsDefault"), "run": RUN_TAG in tags, "entries": entries}, acl["VpcId"])
        for assoc in acl.get("Associations", []):
            state.put(f"ec2/{region}/subnet-acl/{assoc['SubnetId']}", acl["NetworkAclId"], acl["NetworkAclId"])
    for volume in ec2.describe_volumes()["Volumes"]:
        state.put(f"ec2/{region}/volume/{volume['VolumeId']}", volume.get("SnapshotId"))


def _autoscaling(asg: Any, region: str, state: EstateState) -> None:
    for group in asg.describe_auto_scaling_groups()["AutoScalingGroups"]:
        state.put(f"autoscaling/{region}/group/{group['AutoScalingGroupName']}",
                  {"min": group["MinSize"], "max": group["MaxSize"], "desired": group["DesiredCapacity"],
                   "suspended": sorted(p["ProcessName"] for p in group.get("SuspendedProcesses", []))})


def _rds(rds: Any, region: str, state: EstateState) -> None:
    for db in rds.describe_db_instances()["DBInstances"]:
        state.put(f"rds/{region}/db-instance/{db['DBInstanceIdentifier']}",
                  {"source": db.get("ReadReplicaSourceDBInstanceIdentifier"),
                   "cluster": db.get("DBClusterIdentifier")}, db.get("DBInstanceArn", ""))
    for cluster in rds.describe_db_clusters()["DBClusters"]:
        writers = sorted(m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers", [])
                         if m.get("IsClusterWriter"))
        state.put(f"rds/{region}/db-cluster/{cluster['DBClusterIdentifier']}", {"writers": writers},
                  *writers)


def _dynamodb(ddb: Any, region: str, state: EstateState) -> None:
    from botocore.exceptions import ClientError

    for name in ddb.list_tables()["TableNames"]:
        arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
        try:
            policy = ddb.get_resource_policy(ResourceArn=arn).get("Policy")
        except ClientError:
            policy = None
        state.put(f"dynamodb/{region}/table/{name}", {"policy": json.loads(policy) if policy else None}, arn)


def _alarms(cw: Any, region: str, state: EstateState) -> None:
    for alarm in cw.describe_alarms()["MetricAlarms"]:
        state.put(f"cloudwatch/{region}/alarm/{alarm['AlarmName']}", {"actions": alarm.get("ActionsEnabled")})


def _s3(s3: Any, state: EstateState) -> None:
    from botocore.exceptions import ClientError

    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        try:
            rules = s3.get_bucket_replication(Bucket=name)["ReplicationConfiguration"]["Rules"]
        except ClientError:
            rules = None
        keys = sorted(o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name)
                      for o in page.get("Contents", []))
        state.put(f"s3/global/bucket/{name}",
                  {"replication": [(r.get("ID"), r.get("Status")) for r in rules or []], "keys": keys})


def _route53(r53: Any, state: EstateState) -> None:
    for zone in r53.list_hosted_zones()["HostedZones"]:
        zone_id = zone["Id"].rsplit("/", 1)[-1]
        for rr in r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]:
            if rr["Type"] in ("SOA", "NS"):
                continue
            ident = f"{rr['Name']}{rr['Type']}:{rr.get('SetIdentifier', '')}"
            state.put(f"route53/global/record/{ident}",
                      {"failover": rr.get("Failover"), "health_check": rr.get("HealthCheckId"),
                       "values": sorted(r["Value"] for r in rr.get("ResourceRecords", [])),
                       "alias": (rr.get("AliasTarget") or {}).get("DNSName")}, rr["Name"], zone_id)
    for check in r53.list_health_checks()["HealthChecks"]:
        config = {k: v for k, v in check["HealthCheckConfig"].items()}
        state.put(f"route53/global/health-check/{check['Id']}", config)
