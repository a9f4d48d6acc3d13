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


def region_switch_plan(prov: Any, primary_control: str, secondary_control: str) -> str:
    """An ARC Region switch plan for a failover pair guarded by two routing controls, created
    through the fake's boto3 interface (CreatePlan): active/passive between the estate's two
    Regions, one workflow to `activate` either Region, one ARC routing control step that sets
    the activated Region's control On and the other Off (ARC developer guide, "ARC routing
    control execution block": activating Region A updates the routing controls configured for A)."""
    estate = prov.estate
    primary, dr = estate.primary_region, estate.dr_region
    role = f"arn:aws:iam::{estate.account}:role/{estate.name}-region-switch"
    controls = {primary: [{"routingControlArn": primary_control, "state": "On"},
                          {"routingControlArn": secondary_control, "state": "Off"}],
                dr: [{"routingControlArn": secondary_control, "state": "On"},
                     {"routingControlArn": primary_control, "state": "Off"}]}
    step = {"name": "routing-controls", "description": "move app traffic with the ARC routing controls",
            "executionBlockType": "ARCRoutingControl",
            "executionBlockConfiguration": {"arcRoutingControlConfig": {"regionAndRoutingControls": controls}}}
    plan = prov.client("arc-region-switch", primary).create_plan(
        name=f"{estate.name}-switch", regions=[primary, dr], recoveryApproach="activePassive",
        primaryRegion=primary, executionRole=role, tags=dict(prov._tags),
        workflows=[{"workflowTargetAction": "activate", "steps": [step]}])["plan"]
    return str(plan["arn"])
