"""Where a run happens: AWS's own endpoints, a simulator, or another endpoint.

The SDKs take a custom endpoint from `endpoint_url` in the config file, `AWS_ENDPOINT_URL`
or `AWS_ENDPOINT_URL_<SERVICE>` (AWS SDKs and Tools Reference Guide, "Service-specific
endpoints"); botocore resolves them into `client.meta.endpoint_url`. A drill run through
such an endpoint must not be recorded as a live AWS run, whatever the environment says:
the endpoint is *asked*. The drtool sandbox (both `--sandbox` and `drtool sandbox up`)
is served by moto, whose server answers `GET /moto-api/` with its dashboard; any endpoint
that does is a simulator, so the run's mode is `sandbox`. An endpoint under one of AWS's
DNS suffixes (botocore's partition data: amazonaws.com, api.aws, amazonaws.com.cn, ...)
is AWS's own and is not recorded; any other endpoint is recorded on the run.
"""

from __future__ import annotations

import contextlib
import functools
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

PROBE_PATH = "/moto-api/"
PROBE_TIMEOUT_S = 2.0
_FALLBACK_SUFFIXES = ("amazonaws.com", "api.aws", "amazonaws.com.cn", "api.amazonwebservices.com.cn",
                      "c2s.ic.gov", "sc2s.sgov.gov", "cloud.adc-e.uk", "csp.hci.ic.gov", "amazonaws.eu",
                      "api.amazonwebservices.eu")


@dataclass(frozen=True)
class Where:
    mode: str                 # "live" | "sandbox" (SPEC section 6 run.mode)
    endpoint: str | None      # the custom endpoint, None when AWS's own
    identified_by: str | None = None   # how a simulator was recognised


@functools.cache
def aws_suffixes() -> tuple[str, ...]:
    """Every DNS suffix of AWS's partitions (botocore's endpoints data), longest first.
    Read once per process: a new botocore session parses endpoints.json each time."""
    try:
        import botocore.session

        data = botocore.session.get_session().get_data("endpoints")
        found = {p["dnsSuffix"] for p in data["partitions"]}
        found |= {v["dnsSuffix"] for p in data["partitions"] for v in (p.get("defaults") or {}).get("variants", [])
                  if v.get("dnsSuffix")}
    except Exception:  # noqa: BLE001 - botocore data unreadable: the built-in list
        found = set(_FALLBACK_SUFFIXES)
    return tuple(sorted(found | set(_FALLBACK_SUFFIXES), key=len, reverse=True))


def is_aws_endpoint(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return any(host == s or host.endswith("." + s) for s in aws_suffixes())


def configured_endpoints(session: Any) -> list[str]:
    """The custom endpoints this session's clients would use (none for AWS's own)."""
    urls: list[str] = []
    explicit = getattr(session, "endpoint_url", None)
    if explicit:
        urls.append(str(explicit))
    base = getattr(session, "_base", None)
    if base is not None:
        region = getattr(session, "_region", None) or "us-east-1"
        # creating a client makes no request; botocore resolves the configured endpoint (a broken
        # config raises: the variables below still count)
        with contextlib.suppress(Exception):
            urls.append(str(_sts_client(session, base, region, explicit).meta.endpoint_url))
    urls += [v for k, v in sorted(os.environ.items()) if k.startswith("AWS_ENDPOINT_URL") and v]
    out: list[str] = []
    for url in urls:
        url = url.rstrip("/")
        if url and not is_aws_endpoint(url) and url not in out:
            out.append(url)
    return out


def _sts_client(session: Any, base: Any, region: str, explicit: str | None) -> Any:
    """An STS client whose endpoint botocore resolved: the session's own cached one when it
    acts with its base credentials in that region (the run asks STS who it is next), else
    a throwaway client of the base session (no role assumed just to look)."""
    if getattr(session, "_role_arn", True) is None and getattr(session, "_region", None) == region \
            and callable(getattr(session, "client", None)):
        return session.client("sts", region)
    return base.client("sts", region_name=region, endpoint_url=explicit)


def probe(url: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """How `url` identified itself as a simulator, or None."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + PROBE_PATH, timeout=timeout) as resp:  # noqa: S310
            body = resp.read(65536).decode("utf-8", "replace").lower()
            if resp.status == 200 and "moto" in body:
                return f"GET {PROBE_PATH} answered by moto"
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return None


def where(session: Any, *, sandbox: bool = False) -> Where:
    """The mode and endpoint of runs made with `session` (`sandbox`: drtool started it)."""
    endpoints = configured_endpoints(session)
    endpoint = ", ".join(endpoints) or None
    if sandbox:
        return Where("sandbox", endpoint, "started by drtool (--sandbox)")
    for url in endpoints:
        how = probe(url)
        if how:
            return Where("sandbox", endpoint, how)
    return Where("live", endpoint)
