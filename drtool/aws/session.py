"""Session factory: one boto3 session per drill, clients cached per (service, region).

Credentials come from the standard chain, `--profile`, or an assumed role
(`aws.role_arn` + `external_id`). The endpoint comes from AWS_ENDPOINT_URL (boto3 reads
it itself) or is given explicitly (the sandbox). botocore's own retries are off; the
`RetryingClient` wrapper retries with tenacity only where it is safe (see `drtool.aws.retry`).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
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


class AwsSession:
    def __init__(self, *, profile: str | None = None, region: str | None = None,
                 role_arn: str | None = None, external_id: str | None = None,
                 endpoint_url: str | None = None, credentials: dict[str, str] | None = None,
                 max_attempts: int = 5, session_name: str = "drtool", isolated: bool = False,
                 on_client: Callable[[str, Any], None] | None = None) -> None:
        """`isolated=True` reads no AWS config/credentials file and ignores AWS_PROFILE (the sandbox);
        `on_client(service, client)` sees every new boto3 client (e.g. to install a fake)."""
        import boto3

        core = isolated_botocore_session() if isolated else None
        self._base = boto3.Session(profile_name=profile, region_name=region, botocore_session=core,
                                   **(credentials or {}))
        self._region = region or self._base.region_name
        self._role_arn = role_arn
        self._external_id = external_id
        self._session_name = session_name
        self.endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self._on_client = on_client
        self._session = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._account: str | None = None
        self.calls: Counter[str] = Counter()

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
        import boto3

        from drtool.aws.errors import call_aws

        sts = self._raw_client(self._base, "sts", self._region or "us-east-1")
        kwargs: dict[str, Any] = {"RoleArn": self._role_arn, "RoleSessionName": self._session_name}
        if self._external_id:
            kwargs["ExternalId"] = self._external_id
        creds = call_aws(sts.assume_role, "sts:AssumeRole", **kwargs)["Credentials"]
        return boto3.Session(aws_access_key_id=creds["AccessKeyId"],
                             aws_secret_access_key=creds["SecretAccessKey"],
                             aws_session_token=creds["SessionToken"], region_name=self._region)

    def _raw_client(self, session, service: str, region: str):
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "max_attempts": 1},
                        connect_timeout=5, read_timeout=30, user_agent_extra="drtool")
        client = session.client(service, region_name=region, endpoint_url=self.endpoint_url, config=config)
        client.meta.events.register("before-call.*.*", self._count)
        if self._on_client is not None:
            self._on_client(service, client)
        return client

    def _count(self, model, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def client(self, service: str, region: str | None = None):
        """A cached client for (service, region) that retries safe calls."""
        from drtool.aws.retry import RetryingClient

        region = region or self.default_region
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                raw = self._raw_client(self._boto_session(), service, region)
                self._clients[key] = RetryingClient(raw, self.max_attempts)
            return self._clients[key]

    def account_id(self) -> str:
        """The account the credentials act in (one STS call, cached)."""
        if self._account is None:
            self._account = self.client("sts").get_caller_identity()["Account"]
        return self._account
