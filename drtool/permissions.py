"""Least-privilege IAM policy for a drill: every call drtool makes for it, and no more.

From the registry's declared IAM actions (steps, undos, target lookups), guardrails, RPO
and posture, plus what every run needs around them: the expiry tags put on changed
resources (`drtool.expiry`), the S3 results store with Object Lock retention, KMS
signing of scorecards, and KMS use on the drill's encrypted resources. Writes on
existing resources carry `aws:ResourceTag/<k>` conditions from `require_tags`, and
`iam:PassRole` carries `iam:PassedToService` (IAM User Guide, "Granting a user
permissions to pass a role to an AWS service",
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html).
"""

from __future__ import annotations

from typing import Any

from drtool.documents import Drill

ALL = "*"   # every account's actions together (what the guardrails report)

BASE_ACTIONS = ("sts:GetCallerIdentity",)
STOP_CONDITION_ACTIONS = ("cloudwatch:DescribeAlarms",)
# The results store (`--results s3://...`): scorecards, journals, locks and their Object Lock
# retention (drtool.outputs.store, drtool.locks). ListObjectsV2 is authorized as s3:ListBucket
# and ListObjectVersions as s3:ListBucketVersions (Service Authorization Reference, Amazon S3).
RESULTS_ACTIONS = ("s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:ListBucket", "s3:ListBucketVersions",
                   "s3:PutObjectRetention", "s3:GetObjectRetention", "s3:GetBucketObjectLockConfiguration")
SIGNING_ACTIONS = ("kms:Sign", "kms:GetPublicKey")    # `--sign-key` (drtool.signing)
# Encrypted volumes, SSE-KMS objects and customer-managed-key restores use the key through
# the service; kms:ViaService limits that to the drill's services and regions (AWS KMS
# Developer Guide, "kms:ViaService", https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html).
ENCRYPTED_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey")
GRANT_ACTIONS = ("kms:CreateGrant",)
KMS_SERVICES = ("ec2", "rds", "dynamodb", "s3", "backup")
# What drtool.expiry calls to put and remove the expiry tags, per service it may tag.
TAGGING = {
    "ec2": ("ec2:CreateTags", "ec2:DeleteTags"),
    "autoscaling": ("autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"),
    "rds": ("rds:AddTagsToResource", "rds:RemoveTagsFromResource", "rds:DescribeDBInstances",
            "rds:DescribeDBClusters"),
    "s3": ("s3:GetBucketTagging", "s3:PutBucketTagging"),
    "dynamodb": ("dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:DescribeTable"),
    "route53": ("route53:ChangeTagsForResource",),
}
# Which service a role is passed to, by the call that passes it.
PASSED_TO = {"s3:PutReplicationConfiguration": "s3.amazonaws.com",
             "fis:CreateExperimentTemplate": "fis.amazonaws.com",
             "backup:StartRestoreJob": "backup.amazonaws.com", "backup:StartBackupJob": "backup.amazonaws.com",
             "backup:StartCopyJob": "backup.amazonaws.com"}
# Writes that act on the drill's own (pre-existing, tagged) resources and whose resource
# supports the aws:ResourceTag condition key (Service Authorization Reference per service).
# Writes on resources drtool creates (network ACLs, templates) or on untaggable ones
# (streams, record sets) cannot carry the condition and stay unconditioned.
TAG_CONDITIONED = frozenset({"ec2:TerminateInstances", "ec2:StopInstances", "ec2:StartInstances",
                             "autoscaling:UpdateAutoScalingGroup", "autoscaling:SetDesiredCapacity",
                             "rds:FailoverDBCluster", "rds:PromoteReadReplica", "rds:RebootDBInstance"})
GLOBAL_SERVICES = {"sts", "iam", "route53", "s3", "route53-recovery-cluster", "route53-recovery-control-config"}


def _steps(drill: Drill, account: str | None) -> list:
    """The drill's steps acting in `account` (ALL: every step; None: the drill's own account)."""
    return [s for s in drill.all_steps() if account == ALL or s.account == account]


def _entry_actions(drill: Drill, account: str | None, mutating_only: bool = False) -> set[str]:
    """IAM actions of the steps in `account`: each entry's, its undos' and its target type's."""
    from drtool.aws.az_ids import IAM as AZ_IAM
    from drtool.aws.az_ids import is_az_id
    from drtool.registry import TARGETS, UNDOS

    found: set[str] = set()
    for step in _steps(drill, account):
        entry = step.entry
        if entry is None or (mutating_only and not entry.mutating):
            continue
        found.update(entry.iam)
        for name in ([entry.undo] if entry.undo else []) + list(entry.extra.get("undos", ())):
            found.update(UNDOS.get(name).iam)
        if not mutating_only and entry.target_type and step.targets is not None:
            found.update(TARGETS.get(entry.target_type).iam)
            if any(is_az_id(az) for az in step.targets.azs):   # translated per account (drtool.aws.az_ids)
                found.update(AZ_IAM)
    return found


def _around(drill: Drill, account: str | None) -> set[str]:
    """What a run needs around the steps in `account`: expiry tags on what they change and
    KMS through the services they change."""
    changed = {a.split(":", 1)[0] for a in _entry_actions(drill, account, mutating_only=True)}
    actions: set[str] = set()
    for service in sorted(changed & set(TAGGING)):
        actions.update(TAGGING[service])
    if changed & set(KMS_SERVICES):
        actions.update(ENCRYPTED_ACTIONS + GRANT_ACTIONS)
    return actions


def iam_actions_for(drill: Drill, account: str | None = ALL) -> list[str]:
    """Every IAM action the drill's steps, undos, target lookups, guardrails, RPO, expiry tags,
    results store and signing need; with `account` (None: the drill's own, or an
    `aws.accounts` name) only what runs there (the results store and signing belong to the
    drill's own account)."""
    from drtool.rpo import rpo_iam

    if account not in (ALL, None):
        return _account_actions(drill, account)
    actions: set[str] = set(BASE_ACTIONS) | set(RESULTS_ACTIONS) | set(SIGNING_ACTIONS)
    actions |= _entry_actions(drill, account) | _around(drill, account)
    if any(account == ALL or not getattr(c, "account", None) for c in drill.doc.guardrails.stop_conditions):
        actions.update(STOP_CONDITION_ACTIONS)
    if account is None and len(drill.account_names()) > 1:
        actions.add("sts:AssumeRole")   # into each named account's role
    actions.update(rpo_iam(drill.doc.rpo, account))
    if drill.doc.posture is not None and drill.doc.posture.backups is not None:
        from drtool.backups.inventory import CHECK_IAM

        actions.update(CHECK_IAM)
    return sorted(actions)


def _account_actions(drill: Drill, account: str | None) -> list[str]:
    """The actions of the steps, stop conditions and RPO sources that act in one named account."""
    from drtool.rpo import rpo_iam

    actions = set(BASE_ACTIONS) | _entry_actions(drill, account) | _around(drill, account)
    actions.update(rpo_iam(drill.doc.rpo, account))
    if any(getattr(c, "account", None) == account for c in drill.doc.guardrails.stop_conditions):
        actions.update(STOP_CONDITION_ACTIONS)
    return sorted(actions)


def _sid(*parts: str) -> str:
    return "Drtool" + "".join(p.title().replace("-", "").replace(":", "") for p in parts)


def policy_for(drill: Drill, regions: list[str], results_bucket: str | None = None) -> dict[str, Any]:
    """An IAM policy document for the drill's own account: one statement per service (scoped
    to the drill's regions), separate statements for tag-conditioned writes, PassRole, the
    results store, signing and KMS through services. Global services (IAM, STS, Route 53, S3
    bucket-level) are not region-scoped, since `aws:RequestedRegion` does not apply to them
    the same way."""
    return _policy(drill, iam_actions_for(drill), regions, results_bucket, own=True)


def policies_by_account(drill: Drill, regions: list[str]) -> list[dict[str, Any]]:
    """One policy per account the drill acts in: the drill's own (`account: null`, with
    sts:AssumeRole into the others) first, then each `aws.accounts` name with its role."""
    out = []
    for name in drill.account_names():
        role = drill.doc.aws.accounts[name].role_arn if name else drill.doc.aws.role_arn
        out.append({"account": name, "role_arn": role,
                    "policy": _policy(drill, iam_actions_for(drill, name), regions, None, own=name is None)})
    return out


def _policy(drill: Drill, actions: list[str], regions: list[str], results_bucket: str | None,
            own: bool) -> dict[str, Any]:
    special = set(RESULTS_ACTIONS) | set(SIGNING_ACTIONS) | set(ENCRYPTED_ACTIONS) | set(GRANT_ACTIONS)
    needed_by_steps = _entry_actions(drill, ALL) | set(_rpo(drill))
    require = dict(drill.doc.guardrails.require_tags or {})
    by_service: dict[str, list[str]] = {}
    tagged: dict[str, list[str]] = {}
    for action in actions:
        if action == "iam:PassRole" or (action in special and action not in needed_by_steps):
            continue
        service = action.split(":", 1)[0]
        (tagged if require and action in TAG_CONDITIONED else by_service).setdefault(service, []).append(action)
    statements: list[dict[str, Any]] = []
    for service in sorted(by_service):
        statements.append(_statement(_sid(service), by_service[service], _region(service, regions)))
    for service in sorted(tagged):
        condition = _region(service, regions)
        condition.setdefault("StringEquals", {}).update({f"aws:ResourceTag/{k}": v for k, v in require.items()})
        statements.append(_statement(_sid(service, "tagged"), tagged[service], condition))
    passed = sorted({PASSED_TO[a] for a in actions if a in PASSED_TO})
    if "iam:PassRole" in actions:
        statements.append(_statement("DrtoolPassRole", ["iam:PassRole"],
                                     {"StringEquals": {"iam:PassedToService": passed}} if passed else {}))
    if own:
        bucket = f"arn:aws:s3:::{results_bucket}" if results_bucket else "*"
        statements.append(_statement("DrtoolResultsStore", list(RESULTS_ACTIONS), {},
                                     [bucket, f"{bucket}/*"] if results_bucket else "*"))
        statements.append(_statement("DrtoolScorecardSigning", list(SIGNING_ACTIONS), {}))
    if ENCRYPTED_ACTIONS[0] in actions:
        via = sorted(f"{s}.{r}.amazonaws.com" for s in KMS_SERVICES for r in regions)
        if via:
            statements.append(_statement("DrtoolEncryptedResources", list(ENCRYPTED_ACTIONS),
                                         {"StringLike": {"kms:ViaService": via}}))
            statements.append(_statement("DrtoolEncryptedResourceGrants", list(GRANT_ACTIONS),
                                         {"StringLike": {"kms:ViaService": via},
                                          "Bool": {"kms:GrantIsForAWSResource": "true"}}))
    return {"Version": "2012-10-17", "Statement": statements}


def _rpo(drill: Drill) -> list[str]:
    from drtool.rpo import rpo_iam

    return list(rpo_iam(drill.doc.rpo))


def _region(service: str, regions: list[str]) -> dict[str, Any]:
    if service in GLOBAL_SERVICES or not regions:
        return {}
    return {"StringEquals": {"aws:RequestedRegion": sorted(regions)}}


def _statement(sid: str, actions: list[str], condition: dict[str, Any], resource: Any = "*") -> dict[str, Any]:
    out: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resource}
    if condition:
        out["Condition"] = condition
    return out
