"""Session factory: one boto3 session per drill, clients cached per (service, region).

Credentials come from the standard chain, `--profile`, or an assumed role
(`aws.role_arn` + `external_id`) whose credentials renew themselves before they expire and
whose session name carries the run id (`drtool-<run id>`, so CloudTrail ties every call to
the run). The endpoint comes from AWS_ENDPOINT_URL (boto3 reads it itself) or is given
explicitly (the sandbox). botocore sends each call once; the `RetryingClient` wrapper
retries with tenacity only where it is safe (see `drtool.aws.retry`).
"""

from __future__ import annotations

import copy
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drtool.errors import UsageError


def isolated_botocore_session():  # noqa: ANN201 - botocore.session.Session
    """A botocore session that reads no AWS config or credentials file and ignores AWS_PROFILE."""
    import os

    import botocore.session

    return botocore.session.Session(session_vars={
        "profile": (None, None, None, None),
        "config_file": (None, None, os.devnull, None),
        "credentials_file": (None, None, os.devnull, None)})


SESSION_NAME = re.compile(r"[^\w+=,.@-]")
MIN_DURATION_S, MAX_DURATION_S = 900, 43200   # STS AssumeRole DurationSeconds bounds


def role_session_name(run_id: str | None) -> str:
    """`drtool-<run id>` (STS: 2-64 characters of [\\w+=,.@-]) so CloudTrail ties every
    call of a run to it."""
    if not run_id:
        return "drtool"
    return ("drtool-" + SESSION_NAME.sub("-", run_id))[:64]


@dataclass(frozen=True)
class AccountRole:
    """How to act in a named account: the role to assume there (and its external id)."""

    role_arn: str
    external_id: str | None = None

    @property
    def account_id(self) -> str:
        """The 12-digit account of the role ARN (`arn:PARTITION:iam::ACCOUNT:role/NAME`)."""
        parts = self.role_arn.split(":")
        return parts[4] if len(parts) > 5 else ""


class AwsSession:
    def __init__(self, *, profile: str | None = None, region: str | None = None,
                 role_arn: str | None = None, external_id: str | None = None,
                 endpoint_url: str | None = None, credentials: dict[str, str] | None = None,
                 max_attempts: int = 5, session_name: str | None = None, isolated: bool = False,
                 on_client: Callable[[str, Any], None] | None = None, run_id: str | None = None,
                 duration_seconds: int = 3600, base_delay: float = 0.5,
                 sleep: Callable[[float], None] | None = None,
                 connect_timeout: float = 5, read_timeout: float = 30) -> None:
        """`isolated=True` reads no AWS config/credentials file and ignores AWS_PROFILE (the sandbox);
        `on_client(service, client)` sees every new boto3 client (e.g. to install a fake).
        An assumed role (`role_arn`) is renewed before it expires; its session name is
        `session_name`, else `drtool-<run_id>`; `duration_seconds` is each renewal's lifetime."""
        import boto3

        if role_arn and not MIN_DURATION_S <= duration_seconds <= MAX_DURATION_S:
            raise UsageError(f"role session duration {duration_seconds}s is out of range",
                             f"use {MIN_DURATION_S}-{MAX_DURATION_S} seconds (STS AssumeRole DurationSeconds)")
        core = isolated_botocore_session() if isolated else None
        self._isolated = isolated
        self._profile = profile
        self._base = boto3.Session(profile_name=profile, region_name=region, botocore_session=core,
                                   **(credentials or {}))
        self._region = region or self._base.region_name
        self._role_arn = role_arn
        self._external_id = external_id
        self._fixed_name = session_name
        self._run_id = run_id
        self.duration_seconds = duration_seconds
        self.endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self._sleep = sleep
        self._timeouts = (connect_timeout, read_timeout)
        self._on_client = on_client
        self._session = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.RLock()
        self._account: str | None = None
        self.calls: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self.accounts: dict[str, AccountRole] = {}
        self._children: dict[str, AwsSession] = {}
        self._root: AwsSession = self
        self.account_name: str | None = None   # the `aws.accounts` name a child acts for

    @property
    def session_name(self) -> str:
        """The assumed role's session name (what CloudTrail shows as the caller)."""
        return self._fixed_name or role_session_name(self._run_id)

    def set_run_id(self, run_id: str) -> None:
        """Name the role session after the run (children too). Call it before the first
        client; if a role session already exists under another name, the next client
        assumes the role anew."""
        with self._lock:
            before = self.session_name
            self._run_id = run_id
            for child in self._children.values():
                child.set_run_id(run_id)
            if self._role_arn and self._session is not None and self.session_name != before:
                self._session = None
                self._clients.clear()

    @property
    def default_region(self) -> str:
        if not self._region:
            raise UsageError("no AWS region configured",
                             "pass --region, set AWS_REGION, or name the region in the drill's steps")
        return self._region

    def _boto_session(self):
        if self._session is None:
            if self._role_arn:
                self._session = self._assume_role()
            else:
                self._session = self._base
        return self._session

    def _assume_role(self):
        """A session whose credentials renew themselves: botocore calls `refresh` again
        when fewer than 15 minutes are left (RefreshableCredentials), so a drill and its
        rollback can outlast one STS session (AWS: "Request temporary security credentials")."""
        import boto3
        from botocore.credentials import RefreshableCredentials

        from drtool.aws.errors import call_aws

        sts = self._raw_client(self._base, "sts", self._region or "us-east-1")
        name = self.session_name

        def refresh() -> dict[str, str]:
            kwargs: dict[str, Any] = {"RoleArn": self._role_arn, "RoleSessionName": name,
                                      "DurationSeconds": self.duration_seconds}
            if self._external_id:
                kwargs["ExternalId"] = self._external_id
            creds = call_aws(sts.assume_role, "sts:AssumeRole", **kwargs)["Credentials"]
            return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                    "token": creds["SessionToken"], "expiry_time": creds["Expiration"].isoformat()}

        if self._isolated:
            core = isolated_botocore_session()
        else:
            import botocore.session

            core = botocore.session.Session(profile=self._profile)   # the profile's config (CA bundle, ...)
        # Share the base session's model loader: parsing service models is the costly part
        # of a first client, and a fan-out opens one role session per account.
        core.register_component("data_loader", self._base._session.get_component("data_loader"))
        # A botocore session's credentials, once set, are what its clients sign with.
        core._credentials = RefreshableCredentials.create_from_metadata(
            metadata=refresh(), refresh_using=refresh, method="assume-role")
        return boto3.Session(botocore_session=core, region_name=self._region)

    def _raw_client(self, session, service: str, region: str, endpoint_url: str | None = None,
                    timeouts: tuple[float, float] | None = None):
        from botocore.config import Config

        # `total_max_attempts: 1` means one attempt: botocore's `max_attempts` counts
        # retries (client config; botocore/args.py adds 1), so `max_attempts: 1` would
        # resend every call, changes included, once after a timeout or a 5xx.
        connect, read = timeouts or self._timeouts
        config = Config(retries={"mode": "standard", "total_max_attempts": 1},
                        connect_timeout=connect, read_timeout=read, user_agent_extra="drtool")
        client = session.client(service, region_name=region, endpoint_url=endpoint_url or self.endpoint_url,
                                config=config)
        client.meta.events.register("before-call.*.*", self._count)
        if self._on_client is not None:
            self._on_client(service, client)
        return client

    def _count(self, model, **_: Any) -> None:
        with self._count_lock:
            self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def assume(self, role_arn: str, *, external_id: str | None = None) -> AwsSession:
        """A child session acting through `role_arn`, assumed with this session's
        credentials (role chaining when this one is itself a role; AWS: "Role chaining"
        caps each renewal at one hour, so the child asks for `min(duration, 3600)`).
        It shares endpoint, retry policy, run id, client hook and call counter."""
        with self._lock:
            child = copy.copy(self)
            chained = bool(self._role_arn)
            child._base = self._boto_session()
        child._role_arn = role_arn
        child._external_id = external_id
        child._fixed_name = self._fixed_name
        if chained:
            child.duration_seconds = min(self.duration_seconds, 3600)
        child._session = None
        child._clients = {}
        child._lock = threading.RLock()
        child._account = None
        child.accounts = {}
        child._children = {}
        child.account_name = None
        return child

    @property
    def role_arn(self) -> str | None:
        """The role this session assumes, if any."""
        return self._role_arn

    def configure_accounts(self, accounts: dict[str, AccountRole]) -> None:
        """Name the accounts steps may act in (a drill's `aws.accounts`)."""
        with self._lock:
            self.accounts = dict(accounts)
            self._children.clear()

    def for_account(self, name: str | None) -> AwsSession:
        """The drill's own session for `None`, else the cached child that assumes the
        named account's role (asked of a child, its root answers). Unknown: UsageError."""
        root = self._root
        if not name:
            return root
        with root._lock:
            if name not in root._children:
                role = root.accounts.get(name)
                if role is None:
                    known = ", ".join(sorted(root.accounts)) or "none"
                    raise UsageError(f"unknown account {name!r}", f"name one of aws.accounts: {known}")
                child = root.assume(role.role_arn, external_id=role.external_id)
                child._root = root
                child.account_name = name
                root._children[name] = child
            return root._children[name]

    def client(self, service: str, region: str | None = None):
        """A cached client for (service, region) that retries safe calls."""
        from drtool.aws.retry import RetryingClient, RetryPolicy

        region = region or self.default_region
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                raw = self._raw_client(self._boto_session(), service, region)
                policy = RetryPolicy(self.max_attempts, self.base_delay, sleep=self._sleep or time.sleep)
                self._clients[key] = RetryingClient(raw, policy=policy)
            return self._clients[key]

    def client_at(self, service: str, region: str, endpoint_url: str, *,
                  timeouts: tuple[float, float] = (5, 10)):
        """An uncached, single-attempt client on an explicit endpoint (e.g. one of an ARC
        cluster's five regional endpoints), signed with this session's credentials, counted
        and hooked like every other client. The caller owns failover between endpoints."""
        return self._raw_client(self._boto_session(), service, region, endpoint_url, timeouts)

    def account_id(self) -> str:
        """The account the credentials act in (one STS call, cached)."""
        if self._account is None:
            self._account = self.client("sts").get_caller_identity()["Account"]
        return self._account
