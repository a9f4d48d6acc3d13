"""Least-privilege IAM policy for a drill, from the registry's declared IAM actions."""

from __future__ import annotations

from typing import Any

from drtool.documents import Drill

BASE_ACTIONS = ("sts:GetCallerIdentity",)
STOP_CONDITION_ACTIONS = ("cloudwatch:DescribeAlarms",)


def iam_actions_for(drill: Drill) -> list[str]:
    """Every IAM action the drill's steps, undos, target lookups, guardrails and RPO need."""
    from drtool.registry import TARGETS, UNDOS
    from drtool.rpo import rpo_iam

    actions: set[str] = set(BASE_ACTIONS)
    for step in drill.all_steps():
        entry = step.entry
        if entry is None:
            continue
        actions.update(entry.iam)
        if entry.undo:
            actions.update(UNDOS.get(entry.undo).iam)
        for name in entry.extra.get("undos", ()):
            actions.update(UNDOS.get(name).iam)
        if entry.target_type and step.targets is not None:
            actions.update(TARGETS.get(entry.target_type).iam)
    if drill.doc.guardrails.stop_conditions:
        actions.update(STOP_CONDITION_ACTIONS)
    actions.update(rpo_iam(drill.doc.rpo))
    if drill.doc.posture is not None and drill.doc.posture.backups is not None:
        from drtool.backups.inventory import CHECK_IAM

        actions.update(CHECK_IAM)
    return sorted(actions)


def policy_for(drill: Drill, regions: list[str]) -> dict[str, Any]:
    """An IAM policy document: one statement per service, scoped to the drill's regions.

    Global services (IAM, STS, Route 53, S3 bucket-level) are not region-scoped, since
    `aws:RequestedRegion` does not apply to them the same way.
    """
    by_service: dict[str, list[str]] = {}
    for action in iam_actions_for(drill):
        by_service.setdefault(action.split(":", 1)[0], []).append(action)
    global_services = {"sts", "iam", "route53", "s3"}
    statements = []
    for service in sorted(by_service):
        statement: dict[str, Any] = {
            "Sid": f"Drtool{service.title().replace('-', '')}",
            "Effect": "Allow",
            "Action": sorted(by_service[service]),
            "Resource": "*",
        }
        if service not in global_services and regions:
            statement["Condition"] = {"StringEquals": {"aws:RequestedRegion": sorted(regions)}}
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}
