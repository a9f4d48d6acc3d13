"""Backup posture across an AWS Organization: list accounts, check each account x region.

Accounts come from AWS Organizations, called from the management account or a delegated
administrator (AWS: ListAccounts, ListAccountsForParent): every account with `ListAccounts`,
or, per `--ou`, `ListAccountsForParent` on the OU and, recursively,
`ListOrganizationalUnitsForParent` for its child OUs (ListAccountsForParent returns only
the accounts directly in that OU). Only ACTIVE accounts are checked (`Status` is
ACTIVE | SUSPENDED | PENDING_CLOSURE). Every List* page is followed while `NextToken` is
set (AWS: "Always check the NextToken response parameter ... even if you receive an empty
result set").

Each account is read through `arn:<partition>:iam::<id>:role/<role>` (STS AssumeRole with
the caller's credentials); the account the caller already acts in is read directly. The
work is one task per account x region in one bounded thread pool; calls go through the
retrying clients (throttling backs off). An account whose role cannot be assumed, or a
region that answers AccessDenied, is recorded as a failure and the rest goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from drtool.backups.check import CheckReport, Verdict, judge
from drtool.backups.inventory import TagQuery, collect, paginate
from drtool.errors import DrToolError

# The services `collect` reads in every region (tagging first: it opens the account's session).
FIRST_SERVICE = "resourcegroupstaggingapi"
COLLECT_SERVICES = (FIRST_SERVICE, "ec2", "backup")
ORG_IAM = ("organizations:ListAccounts", "organizations:ListAccountsForParent",
           "organizations:ListOrganizationalUnitsForParent", "sts:AssumeRole", "sts:GetCallerIdentity")


@dataclass(frozen=True)
class OrgAccount:
    id: str
    name: str = ""


@dataclass(frozen=True)
class AccountFailure:
    """An account (or one of its regions) that could not be read, and why."""

    account: str
    name: str
    region: str | None
    error: str

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "name": self.name, "region": self.region, "error": self.error}


@dataclass
class OrgReport:
    """Every account's verdicts merged, plus what could not be read."""

    rpo_s: float
    checked_at: float
    required_copy_regions: tuple[str, ...]
    accounts: list[OrgAccount]
    verdicts: list[Verdict] = field(default_factory=list)
    failures: list[AccountFailure] = field(default_factory=list)

    @property
    def compliant(self) -> bool:
        return not self.failures and all(v.compliant for v in self.verdicts)

    @property
    def violations(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.compliant]

    def to_json(self) -> dict[str, Any]:
        """The single-account shape plus `account` per resource, `accounts` and `failures`."""
        return {"rpo_s": self.rpo_s,
                "accounts": [{"id": a.id, "name": a.name} for a in self.accounts],
                "resources": [{**v.to_json(), "account": v.account} for v in self.verdicts],
                "failures": [f.to_json() for f in self.failures]}


def _partition(aws: Any) -> str:
    region = aws.default_region if getattr(aws, "_region", None) else "us-east-1"
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def list_accounts(aws: Any, ous: Sequence[str] = ()) -> list[OrgAccount]:
    """ACTIVE accounts of the organization, or of the OUs (and their child OUs)."""
    org = aws.client("organizations", "us-east-1")   # a global service, endpoint in us-east-1
    raw: list[dict[str, Any]] = []
    if not ous:
        raw = list(paginate(org.list_accounts, "organizations:ListAccounts", "Accounts", "NextToken"))
    seen: set[str] = set()
    pending = list(ous)
    while pending:
        parent = pending.pop()
        if parent in seen:
            continue
        seen.add(parent)
        raw += paginate(org.list_accounts_for_parent, "organizations:ListAccountsForParent", "Accounts",
                        "NextToken", ParentId=parent)
        pending += [ou["Id"] for ou in paginate(
            org.list_organizational_units_for_parent, "organizations:ListOrganizationalUnitsForParent",
            "OrganizationalUnits", "NextToken", ParentId=parent)]
    accounts = {a["Id"]: OrgAccount(a["Id"], a.get("Name", "")) for a in raw
                if a.get("Status", "ACTIVE") == "ACTIVE"}
    return sorted(accounts.values(), key=lambda a: a.id)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DrToolError):
        return str(exc).splitlines()[0]
    return f"{type(exc).__name__}: {exc}"


def check_org(aws: Any, accounts: Sequence[OrgAccount], *, role: str, regions: Sequence[str], tags: TagQuery,
              rpo_s: float, copy_regions: Sequence[str] = (), now: float | None = None,
              workers: int = 16, session_for: Callable[[OrgAccount], Any] | None = None) -> OrgReport:
    """Check every account x region in one pool of `workers` threads; merge one report.

    `session_for(account)` gives the session acting in an account (default: assume
    `role` there, or this session for the caller's own account)."""
    partition = _partition(aws)
    own = _own_account(aws)

    def default_session(account: OrgAccount) -> Any:
        if account.id == own:
            return aws
        return aws.assume(f"arn:{partition}:iam::{account.id}:role/{role}")

    make = session_for or default_session
    sessions: dict[str, Any] = {}
    opening = {a.id: threading.Lock() for a in accounts}
    lock = threading.Lock()
    verdicts: list[Verdict] = []
    failures: list[AccountFailure] = []
    broken: dict[str, str] = {}
    inventories: list[tuple[str, Any]] = []

    def session(account: OrgAccount, region: str) -> Any:
        """The account's session, its role assumed once (one AssumeRole per account)."""
        with opening[account.id]:
            if account.id in broken:
                return None
            if account.id not in sessions:
                try:
                    opened = make(account)
                    # Assume the role now, so a refusal names the account; through the first
                    # client `collect` needs anyway (a client costs ~10-30 ms of CPU to build).
                    opened.client(FIRST_SERVICE, region)
                except Exception as exc:  # noqa: BLE001 - reported per account, not fatal
                    broken[account.id] = _reason(exc)
                    with lock:
                        failures.append(AccountFailure(account.id, account.name, None, broken[account.id]))
                    return None
                sessions[account.id] = opened
            return sessions[account.id]

    def task(account: OrgAccount, region: str) -> None:
        acting = session(account, region)
        if acting is None:
            return
        try:
            inventory = collect(acting, regions=[region], tags=tags, copy_regions=list(copy_regions), workers=1)
        except Exception as exc:  # noqa: BLE001 - one region's failure is reported, not fatal
            with lock:
                failures.append(AccountFailure(account.id, account.name, region, _reason(exc)))
            return
        with lock:
            inventories.append((account.id, inventory))

    jobs = [(a, r) for a in accounts for r in dict.fromkeys(regions)]
    if jobs:   # one thread fills the model cache the account sessions share (see _load_models)
        _load_models(session(*jobs[0]), jobs[0][1])
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs) or 1)),
                            thread_name_prefix="drtool-org") as pool:
        for future in [pool.submit(task, a, r) for a, r in jobs]:
            future.result()
    if now is None:
        from drtool.timing import SystemClock

        now = SystemClock().now()
    for account_id, inventory in inventories:
        report: CheckReport = judge(inventory, rpo_s=rpo_s, now=now, copy_regions=list(copy_regions))
        verdicts.extend(replace(v, account=account_id) for v in report.verdicts)
    verdicts.sort(key=lambda v: (v.account or "", v.region, v.type, v.id))
    failures.sort(key=lambda f: (f.account, f.region or ""))
    return OrgReport(rpo_s, now, tuple(copy_regions), list(accounts), verdicts, failures)


def _load_models(acting: Any, region: str) -> None:
    """Build the first task's clients for `collect`'s services before the pool starts: the
    botocore model cache every account session shares is then filled by one thread instead
    of being parsed again by each worker that misses it at the same instant (botocore's
    loader cache takes no lock; EC2's model alone takes ~70 ms). The first task reuses them."""
    if acting is None:
        return
    for service in COLLECT_SERVICES:
        try:
            acting.client(service, region)
        except Exception:  # noqa: BLE001 - an optimisation only; the task reports real errors
            return


def _own_account(aws: Any) -> str | None:
    try:
        return str(aws.account_id())
    except Exception:  # noqa: BLE001 - unknown: every account is then reached through the role
        return None
