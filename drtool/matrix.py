"""A job matrix for the schedulers teams already run (`drtool plan --matrix DRILLS...`).

One entry per drill x account, from the documents alone (no AWS call), as
`{"include": [...]}`: GitHub Actions takes it as `strategy.matrix` via `fromJSON`
(https://docs.github.com/en/actions/using-jobs/using-a-matrix-for-your-jobs), Argo
Workflows takes the `include` list as `withParam` (a JSON array), a GitLab parent job can
turn it into a child pipeline, and each entry is enough to template a Kubernetes CronJob.
Concurrency comes from the scheduler; drtool's per-target lock keeps two jobs off the same
resources, and every job publishes to the same results store.

With `org_accounts` (from AWS Organizations, `list_org_accounts`), a drill fans out to
every ACTIVE account of the organization that its `guardrails.accounts` allows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drtool.errors import DocumentError, Problem, UsageError


def _partition(region: str | None) -> str:
    """ARN partition of a region (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html)."""
    if region and region.startswith("cn-"):
        return "aws-cn"
    if region and region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def drill_files(paths: list[str]) -> list[Path]:
    """Drill files among `paths` (files, or folders searched for *.yaml); scenarios skipped."""
    from drtool.api import yaml_files
    from drtool.documents import read

    found = []
    for path in yaml_files(list(paths)):
        document = read(path)
        if document.kind == "drill" or document.kind is None:   # unreadable: load reports why
            found.append(path)
    return found


def build(paths: list[str], *, org_accounts: list[dict[str, str]] | None = None,
          role: str | None = None) -> dict[str, Any]:
    """The job matrix for the drills in `paths`; DocumentError lists every broken drill."""
    from drtool.documents import load_drill

    files = drill_files(paths)
    if not files:
        raise UsageError(f"no drill files in {', '.join(paths)}", "give drill files or a drills/ folder")
    entries: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for path in files:
        try:
            drill = load_drill(path)
        except DocumentError as exc:
            problems += exc.problems
            continue
        doc = drill.doc
        allowed = doc.guardrails.accounts
        names: dict[str | None, str | None]   # account id (None: the credentials' own) -> name
        if org_accounts is not None:
            names = {a["id"]: a.get("name") for a in org_accounts if not allowed or a["id"] in allowed}
        else:
            names = dict.fromkeys(list(allowed) if allowed else [None])
        regions = drill.regions(None)
        region = drill.home_region or (regions[0] if regions else None)
        for account, account_name in names.items():
            role_arn = (f"arn:{_partition(region)}:iam::{account}:role/{role}" if role and account
                        else doc.aws.role_arn)
            entries.append({
                "id": f"{doc.name}-{account}" if account else doc.name,
                "drill": _display(path), "name": doc.name, "scenario": drill.scenario.name,
                "account": account, "account_name": account_name, "role_arn": role_arn,
                "region": region, "regions": regions,
                "service": doc.service.name, "tier": doc.service.tier,
                "every_s": doc.schedule.every if doc.schedule else None,
            })
    if problems:
        raise DocumentError(problems, "fix these drills (`drtool validate`) before building a matrix")
    ids = [e["id"] for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise UsageError(f"two drills share the name(s) {', '.join(duplicates)}", "drill names must be unique")
    return {"include": sorted(entries, key=lambda e: e["id"])}


def list_org_accounts(session: Any) -> list[dict[str, str]]:
    """ACTIVE accounts of the AWS Organization (one paginated ListAccounts; needs
    organizations:ListAccounts in the management or a delegated administrator account,
    https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html)."""
    client = session.client("organizations")
    accounts = []
    for page in client.get_paginator("list_accounts").paginate():
        for account in page.get("Accounts", []):
            if account.get("Status", "ACTIVE") == "ACTIVE":
                accounts.append({"id": account["Id"], "name": account.get("Name", "")})
    return sorted(accounts, key=lambda a: a["id"])
