"""The three-account estate of the cross-account tests (moto in-process)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.accounts.test_cross_account import NETWORKING, WORKLOAD, client_in


@pytest.fixture
def estate(aws) -> dict[str, Any]:
    ec2 = client_in(WORKLOAD, "ec2")
    fleet = [i["InstanceId"] for i in ec2.run_instances(
        ImageId="ami-12345678", MinCount=2, MaxCount=2,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "app", "Value": "web"}]}])["Instances"]]
    r53 = client_in(NETWORKING, "route53")
    zone = r53.create_hosted_zone(Name="example.test", CallerReference="net")["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": "www.example.test.", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.1.1"}]}}]})
    return {"fleet": fleet, "zone": zone}
