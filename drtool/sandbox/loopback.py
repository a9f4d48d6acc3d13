"""boto3 clients on the sandbox's own server, answered in the calling thread.

The simulator changes the estate through the public AWS API wherever one exists
(SetInstanceHealth, TerminateInstanceInAutoScalingGroup, Register/DeregisterTargets,
CopyObject, PutItem/DeleteItem, PutMetricData, SetAlarmState): real boto3 requests,
signed, serialized and parsed by botocore, answered by the same WSGI app the server
serves. They skip only the socket: the simulator holds the sandbox lock for its whole
step, and the app takes that lock (an RLock) per request, so a request sent over the
socket from inside a step would wait for the step forever; in the calling thread it
re-enters the lock instead. botocore's `before-send` event, which may return the
response itself, is the documented hook for this:
https://docs.aws.amazon.com/boto3/latest/guide/events.html
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

ClientFactory = Callable[[str, str], Any]   # (service, region) -> boto3 client
WsgiApp = Callable[[dict[str, Any], Any], Any]


class RawBody(BytesIO):
    """The response body as botocore reads it (it streams raw bodies for S3 GETs)."""

    def stream(self, **_: Any) -> Any:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


class Loopback:
    """Makes (and caches) boto3 clients whose requests `app` answers in-thread."""

    def __init__(self, app: WsgiApp, endpoint_url: str, account_region: str) -> None:
        self._app = app
        self._endpoint = endpoint_url
        self._region = account_region
        self._session: Any = None
        self._clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            from botocore.config import Config

            from drtool.sandbox.provision import isolated_session

            if self._session is None:
                self._session = isolated_session(self._region)
            made = self._session.client(service, region_name=region, endpoint_url=self._endpoint,
                                        config=Config(retries={"max_attempts": 1}))
            made.meta.events.register_first("before-send", self._send)
            self._clients[key] = made
        return self._clients[key]

    def _send(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        url = urlsplit(request.url)
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        builder = EnvironBuilder(path=url.path or "/", base_url=f"{url.scheme}://{url.netloc}",
                                 query_string=url.query, method=request.method, headers=headers,
                                 data=body or b"")
        try:
            iterable, status, response_headers = run_wsgi_app(self._app, builder.get_environ())
            content = b"".join(iterable)
        finally:
            builder.close()
        return AWSResponse(request.url, int(status.split(" ", 1)[0]), dict(response_headers),
                           RawBody(content))
