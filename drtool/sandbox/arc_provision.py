"""Provision the estate's ARC routing controls through the fake's boto3 interface.

As on AWS: one cluster and one control panel (created once), a routing control per name,
turned On through a cluster endpoint (new controls start Off), and a Route 53 health check of
type RECOVERY_CONTROL for it (ARC developer guide, "Create routing control health checks":
`HealthCheckConfig={"Type": "RECOVERY_CONTROL", "RoutingControlArn": ...}`).
"""

from __future__ import annotations

from typing import Any

CONTROL_REGION = "us-west-2"   # the control-config API's Region (ARC API reference)


def routing_control_check(prov: Any, r53: Any, name: str) -> tuple[str, str]:
    """(routing control ARN, health check id) for `name`; `prov` is the Provisioner."""
    config = prov.client("route53-recovery-control-config", CONTROL_REGION)
    cache = prov.__dict__.setdefault("_arc", {})
    if "cluster" not in cache:
        cluster = config.create_cluster(ClusterName=f"{prov.estate.name}-cluster", Tags=dict(prov._tags))["Cluster"]
        cache["cluster"] = cluster["ClusterArn"]
        cache["endpoint"] = cluster["ClusterEndpoints"][0]
        cache["panel"] = config.create_control_panel(ClusterArn=cache["cluster"],
                                                     ControlPanelName=f"{prov.estate.name}-panel",
                                                     Tags=dict(prov._tags))[
            "ControlPanel"]["ControlPanelArn"]
    arn = config.create_routing_control(ClusterArn=cache["cluster"], ControlPanelArn=cache["panel"],
                                        RoutingControlName=name)["RoutingControl"]["RoutingControlArn"]
    endpoint = cache["endpoint"]
    cluster_client = prov._session.client("route53-recovery-cluster", region_name=endpoint["Region"],
                                          endpoint_url=endpoint["Endpoint"], config=prov._config)
    cluster_client.update_routing_control_state(RoutingControlArn=arn, RoutingControlState="On")
    check = r53.create_health_check(CallerReference=f"{prov.estate.name}-rc-{name}", HealthCheckConfig={
        "Type": "RECOVERY_CONTROL", "RoutingControlArn": arn})["HealthCheck"]["Id"]
    r53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=check,
                                 AddTags=prov._tag_list({"Name": f"{prov.estate.name}-rc-{name}"}))
    return arn, str(check)
