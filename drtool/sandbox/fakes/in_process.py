"""Serve the fakes to in-process moto (`mock_aws`) the way its own mock is served.

moto's in-process mock answers botocore's `before-send` event for every client created
after `import moto` (botocore's BUILTIN_HANDLERS). This module does the same for the
fakes, on the more specific `before-send.<service>` event, so it answers first; the HTTP
request is the one botocore built and the response goes through botocore's own parser,
exactly as with the sandbox server. Import it before the sessions are created::

    from drtool.sandbox.fakes import in_process
    with in_process.serving(FakeBackup(clock, ...)):
        ...  # every backup client created since the import sees the fake
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from botocore.awsrequest import AWSResponse
from botocore.handlers import BUILTIN_HANDLERS

from drtool.sandbox.fakes.rest_json import RestJsonFake, signing_scope
from drtool.sandbox.loopback import RawBody

_MOUNTED: dict[str, RestJsonFake] = {}


def _dispatch(request: Any, **_: Any) -> AWSResponse | None:
    headers = request.headers
    auth = headers.get("Authorization")
    scope = signing_scope(auth.decode() if isinstance(auth, bytes) else auth)
    fake = _MOUNTED.get(scope[1]) if scope else None
    if fake is None or scope is None:
        return None
    url = urlsplit(request.url)
    matched = fake.match(request.method, url.path)
    if matched is None:
        return None
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    status, out_headers, payload = fake.handle(matched[0], matched[1], scope[0], url.query,
                                               body.encode() if isinstance(body, str) else body)
    return AWSResponse(request.url, status, {k.lower(): v for k, v in out_headers.items()}, RawBody(payload))


for _service in ("backup",):
    BUILTIN_HANDLERS.append((f"before-send.{_service}", _dispatch))


@contextlib.contextmanager
def serving(fake: Any, service: str = "backup") -> Iterator[Any]:
    """Serve `fake` to every in-process client of `service` until the block ends."""
    _MOUNTED[service] = RestJsonFake(service, fake)
    try:
        yield fake
    finally:
        _MOUNTED.pop(service, None)
