"""The http.ok probe: GET a URL with the standard library (not AWS, same registry)."""

from __future__ import annotations

from pydantic import Field, field_validator

from drtool.context import StepContext
from drtool.durations import format_duration, parse_duration
from drtool.registry import Params, probe
from drtool.resources import ProbeResult

MAX_BODY = 1 << 20  # read at most 1 MiB when looking for `contains`


class HttpOkParams(Params):
    url: str = Field(description="http:// or https:// URL to GET")
    status: int = Field(default=200, ge=100, le=599, description="expected status code")
    timeout: float = Field(default=5.0, gt=0, description="duration, e.g. 5s")
    contains: str | None = Field(default=None, description="text the body must contain")

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value

    @field_validator("timeout", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)


def _get(url: str, timeout: float) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "drtool http.ok"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(MAX_BODY)
    except urllib.error.HTTPError as exc:  # 4xx/5xx still answered
        with exc:
            return exc.code, exc.read(MAX_BODY)


@probe("http.ok", summary="GET `url` answers `status` (default 200) within `timeout`, body has `contains`",
       params=HttpOkParams)
def http_ok(ctx: StepContext, params: HttpOkParams) -> ProbeResult:
    """Never raises on network trouble: the reason becomes the detail of a failed result."""
    import http.client
    import time
    import urllib.error

    started = time.monotonic()  # real elapsed time: the network does not follow a fake clock
    try:
        status, body = _get(params.url, params.timeout)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        cause = getattr(exc, "reason", exc)  # URLError wraps the socket error
        reason = str(cause) or type(cause).__name__
        return ProbeResult(False, f"GET {params.url} failed: {reason}.", {"error": reason})
    elapsed = time.monotonic() - started
    data = {"status": status, "elapsed_s": round(elapsed, 3)}
    took = format_duration(elapsed)
    if status != params.status:
        return ProbeResult(False, f"GET {params.url} answered {status}, expected {params.status} ({took}).", data)
    if elapsed > params.timeout:
        return ProbeResult(False, f"GET {params.url} answered {status} in {took}, over the "
                                  f"{format_duration(params.timeout)} timeout.", data)
    if params.contains is not None and params.contains not in body.decode("utf-8", errors="replace"):
        return ProbeResult(False, f"GET {params.url} answered {status} but the body lacks {params.contains!r}.", data)
    return ProbeResult(True, f"GET {params.url} answered {status} in {took}.", data)
