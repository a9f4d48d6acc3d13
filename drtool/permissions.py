"""Least-privilege IAM policy for a drill, from the registry's declared IAM actions."""

from __future__ import annotations

from typing import Any

from drtool.documents import Drill

BASE_ACTIONS = ("sts:GetCallerIdentity",)
STOP_CONDITION_ACTIONS = ("cloudwatch:DescribeAlarms",)


ALL = "*"   # every account's actions together (what the guardrails report)


def iam_actions_for(drill: Drill, account: str | None = ALL) -> list[str]:
    """Every IAM action the drill's steps, undos, target lookups, guardrails and RPO need;
    with `account` (None: the drill's own, or an `aws.accounts` name) only what runs there."""
    from drtool.registry import TARGETS, UNDOS
    from drtool.rpo import rpo_iam

    actions: set[str] = set(BASE_ACTIONS)
    if account not in (ALL, None):
        return _account_actions(drill, account)
    for step in drill.all_steps():
        if account is None and step.account:
            continue
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
    if any(account == ALL or not getattr(c, "account", None) for c in drill.doc.guardrails.stop_conditions):
        actions.update(STOP_CONDITION_ACTIONS)
    if account is None and len(drill.account_names()) > 1:
        actions.add("sts:AssumeRole")   # into each named account's role
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
    return _policy(iam_actions_for(drill), regions)


def _policy(actions: list[str], regions: list[str]) -> dict[str, Any]:
    by_service: dict[str, list[str]] = {}
    for action in actions:
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


def _account_actions(drill: Drill, account: str | None) -> list[str]:
    """The actions of the steps (and stop conditions) that act in one named account."""
    from drtool.registry import TARGETS, UNDOS

    actions: set[str] = set(BASE_ACTIONS)
    for step in drill.all_steps():
        entry = step.entry
        if entry is None or step.account != account:
            continue
        actions.update(entry.iam)
        for name in ([entry.undo] if entry.undo else []) + list(entry.extra.get("undos", ())):
            actions.update(UNDOS.get(name).iam)
        if entry.target_type and step.targets is not None:
            actions.update(TARGETS.get(entry.target_type).iam)
    if any(getattr(c, "account", None) == account for c in drill.doc.guardrails.stop_conditions):
        actions.update(STOP_CONDITION_ACTIONS)
    return sorted(actions)


def policies_by_account(drill: Drill, regions: list[str]) -> list[dict[str, Any]]:
    """One policy per account the drill acts in: the drill's own (`account: null`, with
    sts:AssumeRole into the others) first, then each `aws.accounts` name with its role."""
    out = []
    for name in drill.account_names():
        role = drill.doc.aws.accounts[name].role_arn if name else drill.doc.aws.role_arn
        out.append({"account": name, "role_arn": role,
                    "policy": _policy(iam_actions_for(drill, name), regions)})
    return out
