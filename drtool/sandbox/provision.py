"""Create an estate through boto3 against the sandbox's moto server.

Only public AWS calls here (what a user's IaC would do); the few things no API can do
(backdating a backup, declaring a global table's replicas) go through `moto_adapter`. Auto Scaling groups are created with
their real capacity; under the sandbox's patches moto launches nothing, and the simulator
fills them (already healthy, at start-up).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from drtool.sandbox.estate import Estate
from drtool.sandbox.moto_adapter import data_state, patches

FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
IMAGE_ID = "ami-12c6146b"  # any id: moto does not validate AMIs by default


@dataclass
class Provisioned:
    """Ids of what was created, for `Sandbox.values()` and the simulator."""

    vpcs: dict[str, str] = field(default_factory=dict)                    # region -> vpc id
    subnets: dict[str, dict[str, str]] = field(default_factory=dict)      # region -> az -> subnet id
    target_groups: dict[str, str] = field(default_factory=dict)           # name -> arn
    load_balancers: dict[str, str] = field(default_factory=dict)          # name -> dns name
    load_balancer_regions: dict[str, str] = field(default_factory=dict)   # dns name -> region
    zone_id: str | None = None
    health_checks: dict[str, str] = field(default_factory=dict)           # watched region -> id
    routing_controls: dict[str, str] = field(default_factory=dict)        # ARC routing control name -> arn
    routing_control_checks: dict[str, str] = field(default_factory=dict)  # RECOVERY_CONTROL check id -> arn
    region_switch_plan: str | None = None                                 # ARC Region switch plan ARN


class Provisioner:
    def __init__(self, estate: Estate, endpoint_url: str, lock: threading.RLock) -> None:
        from botocore.config import Config

        self.estate = estate
        self.lock = lock
        self.out = Provisioned()
        self._session = isolated_session(estate.primary_region)
        self._endpoint = endpoint_url
        self._config = Config(retries={"max_attempts": 1})
        self._clients: dict[tuple[str, str], Any] = {}
        self._tags = dict(estate.tags)

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._session.client(service, region_name=region, endpoint_url=self._endpoint,
                                                      config=self._config)
        return self._clients[key]

    def _tag_list(self, extra: dict[str, str] | None = None) -> list[dict[str, str]]:
        return [{"Key": k, "Value": v} for k, v in {**self._tags, **(extra or {})}.items()]

    def _tag_spec(self, resource: str, extra: dict[str, str] | None = None) -> list[dict[str, Any]]:
        return [{"ResourceType": resource, "Tags": self._tag_list(extra)}]

    def run(self) -> Provisioned:
        """Create everything; the order follows the dependencies."""
        for region in self.estate.regions:
            self._network(region)
            self.client("backup", region).create_backup_vault(BackupVaultName="Default",
                                                             BackupVaultTags=dict(self._tags))
        for group in self.estate.groups:
            self._group(group)
        self._databases()
        self._buckets()
        self._tables()
        self._dns()
        self._alarms()
        self._backups()
        return self.out

    def _network(self, region: str) -> None:
        ec2 = self.client("ec2", region)
        spec = self.estate.regions[region]
        vpc = ec2.create_vpc(CidrBlock=spec.vpc_cidr, TagSpecifications=self._tag_spec(
            "vpc", {"Name": f"{self.estate.name}-{region}"}))["Vpc"]["VpcId"]
        self.out.vpcs[region] = vpc
        self.out.subnets[region] = {}
        for az, cidr in self.estate.subnet_cidrs(region):
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az, TagSpecifications=self._tag_spec(
                "subnet", {"tier": "app", "Name": f"{self.estate.name}-{az}"}))["Subnet"]["SubnetId"]
            self.out.subnets[region][az] = subnet

    def _group(self, group: Any) -> None:
        region = group.region
        ec2, elb = self.client("ec2", region), self.client("elbv2", region)
        subnets = [self.out.subnets[region][self.estate.az(region, x)] for x in group.subnets]
        tg_arns = []
        if group.target_group:
            tg = elb.create_target_group(Name=group.target_group, Protocol="HTTP", Port=80,
                                         VpcId=self.out.vpcs[region], HealthCheckPath="/health",
                                         TargetType="instance", Tags=self._tag_list())["TargetGroups"][0]
            tg_arns.append(tg["TargetGroupArn"])
            self.out.target_groups[group.target_group] = tg["TargetGroupArn"]
        if group.load_balancer:
            lb = elb.create_load_balancer(Name=group.load_balancer, Subnets=subnets, Type="application",
                                          Scheme="internet-facing", Tags=self._tag_list())["LoadBalancers"][0]
            self.out.load_balancers[group.load_balancer] = lb["DNSName"]
            self.out.load_balancer_regions[lb["DNSName"]] = region
            if tg_arns:
                elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                    DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arns[0]}])
        template = ec2.create_launch_template(
            LaunchTemplateName=f"{group.name}-lt",
            LaunchTemplateData={"ImageId": IMAGE_ID, "InstanceType": group.instance_type},
            TagSpecifications=self._tag_spec("launch-template"))["LaunchTemplate"]["LaunchTemplateId"]
        self.client("autoscaling", region).create_auto_scaling_group(
            AutoScalingGroupName=group.name, LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"},
            MinSize=group.min, MaxSize=group.max, DesiredCapacity=group.desired,
            VPCZoneIdentifier=",".join(subnets), TargetGroupARNs=tg_arns,
            HealthCheckType=group.health_check_type, HealthCheckGracePeriod=0,
            Tags=[{"Key": t["Key"], "Value": t["Value"], "PropagateAtLaunch": True} for t in self._tag_list()])

    def _databases(self) -> None:
        by_name = {d.name: d for d in self.estate.databases}
        ordered = [d for d in self.estate.databases if not d.replica_of] + \
                  [d for d in self.estate.databases if d.replica_of]
        for db in ordered:
            rds = self.client("rds", db.region)
            if db.replica_of:
                source = by_name[db.replica_of]
                arn = f"arn:aws:rds:{source.region}:{self.estate.account}:db:{source.name}"
                extra = {"SourceRegion": source.region} if source.region != db.region else {}
                rds.create_db_instance_read_replica(
                    DBInstanceIdentifier=db.name, DBInstanceClass=db.instance_class, Tags=self._tag_list(),
                    SourceDBInstanceIdentifier=arn if extra else source.name, **extra)
            else:
                rds.create_db_instance(DBInstanceIdentifier=db.name, Engine=db.engine,
                                       DBInstanceClass=db.instance_class, AllocatedStorage=20,
                                       MasterUsername="shop", MasterUserPassword="sandbox-only-1",
                                       BackupRetentionPeriod=7, Tags=self._tag_list())
        for cluster in self.estate.clusters:
            rds = self.client("rds", cluster.region)
            rds.create_db_cluster(DBClusterIdentifier=cluster.name, Engine=cluster.engine, MasterUsername="shop",
                                  MasterUserPassword="sandbox-only-1", Tags=self._tag_list())
            for name in cluster.instances:
                rds.create_db_instance(DBInstanceIdentifier=name, DBClusterIdentifier=cluster.name,
                                       Engine=cluster.engine, DBInstanceClass="db.r6g.large",
                                       Tags=self._tag_list())

    def _buckets(self) -> None:
        for bucket in self.estate.buckets:
            s3 = self.client("s3", bucket.region)
            extra = {} if bucket.region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": bucket.region}}
            s3.create_bucket(Bucket=bucket.name, **extra)
            s3.put_bucket_tagging(Bucket=bucket.name, Tagging={"TagSet": self._tag_list()})
            if bucket.versioned:
                s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"})
        for bucket in self.estate.buckets:
            if bucket.replication:
                rep = bucket.replication
                self.client("s3", bucket.region).put_bucket_replication(Bucket=bucket.name, ReplicationConfiguration={
                    "Role": f"arn:aws:iam::{self.estate.account}:role/{self.estate.name}-replication",
                    "Rules": [{"ID": rep.rule_id, "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": rep.prefix},
                               "DeleteMarkerReplication": {"Status": "Disabled"},
                               "Destination": {"Bucket": f"arn:aws:s3:::{rep.destination}"}}]})

    def _tables(self) -> None:
        for table in self.estate.tables:
            keys = [{"AttributeName": table.partition_key, "KeyType": "HASH"}]
            attrs = [{"AttributeName": table.partition_key, "AttributeType": "S"}]
            if table.sort_key:
                keys.append({"AttributeName": table.sort_key, "KeyType": "RANGE"})
                attrs.append({"AttributeName": table.sort_key, "AttributeType": "S"})
            for region in [table.region, *table.replicas]:
                stream = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
                self.client("dynamodb", region).create_table(
                    TableName=table.name, KeySchema=keys, AttributeDefinitions=attrs,
                    BillingMode="PAY_PER_REQUEST", Tags=self._tag_list(),
                    **({"StreamSpecification": stream} if region == table.region else {}))
            if table.replicas:
                with self.lock:
                    patches.declare_table_replicas(self.estate.account, table.name, [table.region, *table.replicas])

    def _dns(self) -> None:
        dns = self.estate.dns
        if dns is None:
            return
        r53 = self.client("route53", self.estate.primary_region)
        zone = r53.create_hosted_zone(Name=dns.zone, CallerReference=f"{self.estate.name}-zone")["HostedZone"]["Id"]
        self.out.zone_id = zone.split("/")[-1]
        r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=self.out.zone_id, AddTags=self._tag_list())
        ttl = max(1, round(self.estate.behaviour.dns_ttl))
        changes = [_upsert({"Name": spec.endpoint.rstrip(".") + ".", "Type": "A", "TTL": ttl,
                            "ResourceRecords": [{"Value": "127.0.0.1"}]})
                   for spec in self.estate.regions.values()]
        for record in dns.records:
            if record.value is not None:
                changes.append(_upsert({"Name": record.name, "Type": record.type, "TTL": ttl,
                                        "ResourceRecords": [{"Value": record.value}]}))
                continue
            for role, target in (("PRIMARY", record.primary), ("SECONDARY", record.secondary)):
                if target is None:  # the estate model requires both when there is no value
                    continue
                rrset = {"Name": record.name, "Type": record.type, "TTL": ttl, "SetIdentifier": role.lower(),
                         "Failover": role, "ResourceRecords": [{"Value": target.value}]}
                if target.routing_control:
                    rrset["HealthCheckId"] = self._routing_control_check(r53, target.routing_control)
                elif target.health_check:
                    rrset["HealthCheckId"] = self._health_check(r53, target.health_check)
                changes.append(_upsert(rrset))
            pair = (record.primary, record.secondary)
            if self.out.region_switch_plan is None and self.estate.dr_region and all(
                    t is not None and t.routing_control for t in pair):
                from drtool.sandbox.arc_provision import region_switch_plan

                self.out.region_switch_plan = region_switch_plan(
                    self, *(self.out.routing_controls[t.routing_control] for t in pair if t and t.routing_control))
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})

    def _routing_control_check(self, r53: Any, name: str) -> str:
        """An ARC routing control (turned On) and its RECOVERY_CONTROL health check."""
        from drtool.sandbox.arc_provision import routing_control_check

        arn, check = routing_control_check(self, r53, name)
        self.out.routing_controls[name] = arn
        self.out.routing_control_checks[check] = arn
        return check

    def _health_check(self, r53: Any, region: str) -> str:
        if region not in self.out.health_checks:
            host = self.estate.regions[region].endpoint.rstrip(".")
            check = r53.create_health_check(CallerReference=f"{self.estate.name}-{region}", HealthCheckConfig={
                "Type": "HTTP", "FullyQualifiedDomainName": host, "Port": 80, "ResourcePath": "/health",
                "RequestInterval": 10, "FailureThreshold": 1})["HealthCheck"]["Id"]
            r53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check,
                                         AddTags=self._tag_list({"Name": f"{self.estate.name}-{region}"}))
            self.out.health_checks[region] = check
        return self.out.health_checks[region]

    def _alarms(self) -> None:
        from drtool.sandbox.alarms import METRIC_NAME, METRIC_NAMESPACE

        for alarm in self.estate.alarms:
            self.client("cloudwatch", alarm.region).put_metric_alarm(
                AlarmName=alarm.name, Namespace=METRIC_NAMESPACE, MetricName=METRIC_NAME,
                Dimensions=[{"Name": "Endpoint", "Value": alarm.endpoint}], Statistic="Sum",
                Period=alarm.period, EvaluationPeriods=alarm.evaluation_periods, Threshold=alarm.threshold,
                ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
                AlarmDescription=f"5xx answers of the {alarm.endpoint} endpoint", Tags=self._tag_list())

    def _backups(self) -> None:
        regions = {d.name: d.region for d in self.estate.databases} | {t.name: t.region for t in self.estate.tables}
        for backup in self.estate.backups:
            region = regions[backup.resource]
            if backup.kind == "dynamodb-backup":
                arn = self.client("dynamodb", region).create_backup(
                    TableName=backup.resource, BackupName=backup.name)["BackupDetails"]["BackupArn"]
                with self.lock:
                    data_state.age_table_backup(self.estate.account, region, arn, backup.age)
            else:
                self.client("rds", region).create_db_snapshot(DBSnapshotIdentifier=backup.name,
                                                              DBInstanceIdentifier=backup.resource,
                                                              Tags=self._tag_list())
                with self.lock:
                    data_state.age_db_snapshot(self.estate.account, region, backup.name, backup.age)


def isolated_session(region: str) -> Any:
    """A boto3 session with the fake credentials that reads no AWS config or credentials
    file and ignores AWS_PROFILE: the sandbox never touches the user's AWS set-up."""
    import boto3

    from drtool.aws.session import isolated_botocore_session

    return boto3.Session(botocore_session=isolated_botocore_session(), region_name=region, **FAKE_CREDENTIALS)


def _upsert(rrset: dict[str, Any]) -> dict[str, Any]:
    return {"Action": "UPSERT", "ResourceRecordSet": rrset}
