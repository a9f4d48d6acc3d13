"""Serve the fake ARC (`arc_state.ArcFake`) over HTTP, as AWS does.

- route53-recovery-control-config: restJson (routes and URI members from botocore's service
  model; https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html).
- route53-recovery-cluster: awsJson1_0 (`X-Amz-Target: ToggleCustomerAPI.<Operation>`, JSON
  body; https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html).

Requests are recognised by their SigV4 signing service (`Credential=KEY/DATE/REGION/SERVICE/
aws4_request`); everything else goes on to the wrapped app (moto), so boto3 and the AWS CLI
pointed at the sandbox see ARC like any other service. `mount(server, fake)` wraps a running
werkzeug server's app; `in_process(fake)` answers in-process clients through botocore's
`before-send` event (for tests without a server).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from drtool.sandbox.fakes.arc_state import ArcError, ArcFake, activate
from drtool.sandbox.loopback import RawBody

CONFIG, CLUSTER = "route53-recovery-control-config", "route53-recovery-cluster"
_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/([^/,]+)/([^/,]+)/aws4_request")
_CONFIG_OPS = ("CreateCluster", "DescribeCluster", "CreateControlPanel", "DescribeControlPanel",
               "CreateRoutingControl", "DescribeRoutingControl", "ListRoutingControls",
               "ListAssociatedRoute53HealthChecks", "ListTagsForResource", "TagResource")
Response = tuple[int, dict[str, str], bytes]


def _routes() -> list[tuple[str, str, list[str]]]:
    import botocore.session

    model = botocore.session.get_session().get_service_model(CONFIG)
    out = []
    for name in _CONFIG_OPS:
        http = model.operation_model(name).http
        out.append((name, http["method"], http["requestUri"].split("?")[0].split("/")))
    return out


class ArcHttp:
    def __init__(self, fake: ArcFake) -> None:
        self.fake = fake
        self.routes = _routes()

    def handle(self, service: str, method: str, path: str, headers: dict[str, str], body: bytes) -> Response | None:
        """The response for one request, or None when it is not ARC's."""
        try:
            if service == CLUSTER:
                target = headers.get("x-amz-target", "")
                if not target.startswith("ToggleCustomerAPI."):
                    return None
                return _ok(self._cluster(target.split(".", 1)[1], json.loads(body or b"{}")))
            if service == CONFIG:
                for name, verb, template in self.routes:
                    uri = _match(template, path.split("/")) if verb == method else None
                    if uri is not None:
                        return _ok(self._config(name, uri, json.loads(body or b"{}") if body else {}))
        except ArcError as exc:
            return _error(exc.status, exc.code, exc.message)
        except (ValueError, KeyError, TypeError) as exc:
            return _error(400, "ValidationException", f"{type(exc).__name__}: {exc}")
        return None

    def _cluster(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        fake = self.fake
        if operation == "GetRoutingControlState":
            return fake.get_state(params.get("RoutingControlArn"))
        if operation == "UpdateRoutingControlState":
            return fake.update_states([params])
        if operation == "UpdateRoutingControlStates":
            return fake.update_states(list(params.get("UpdateRoutingControlStateEntries") or []))
        if operation == "ListRoutingControls":
            return {"RoutingControls": fake.list_controls(params.get("ControlPanelArn", ""), with_state=True)}
        raise ArcError(400, "ValidationException", f"operation {operation} is not supported by the sandbox")

    def _config(self, operation: str, uri: dict[str, str], params: dict[str, Any]) -> dict[str, Any]:
        fake = self.fake
        if operation == "CreateCluster":
            return fake.create_cluster(params["ClusterName"], params.get("Tags"))
        if operation == "CreateControlPanel":
            return fake.create_control_panel(params["ClusterArn"], params["ControlPanelName"], params.get("Tags"))
        if operation == "ListTagsForResource":
            return fake.list_tags(uri["ResourceArn"])
        if operation == "TagResource":
            return fake.tag(uri["ResourceArn"], params.get("Tags") or {})
        if operation == "CreateRoutingControl":
            return fake.create_routing_control(params["ClusterArn"], params["RoutingControlName"],
                                               params.get("ControlPanelArn"))
        if operation == "ListRoutingControls":
            return {"RoutingControls": fake.list_controls(uri["ControlPanelArn"], with_state=False)}
        if operation == "ListAssociatedRoute53HealthChecks":
            return {"HealthCheckIds": fake.associated_checks(uri["RoutingControlArn"])}
        kind = operation.removeprefix("Describe")
        return fake.describe(kind, uri[f"{kind}Arn"])


def _match(template: list[str], parts: list[str]) -> dict[str, str] | None:
    if len(template) != len(parts):
        return None
    found: dict[str, str] = {}
    for segment, part in zip(template, parts, strict=True):
        if segment.startswith("{"):
            if not part:
                return None
            found[segment.strip("{}+")] = unquote(part)
        elif segment != part:
            return None
    return found


def _ok(result: dict[str, Any]) -> Response:
    return 200, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": str(uuid.uuid4())}, \
        json.dumps(result).encode()


def _error(status: int, code: str, message: str) -> Response:
    body = {"__type": code, "message": message, "Message": message}
    return status, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code,
                    "x-amzn-RequestId": str(uuid.uuid4())}, json.dumps(body).encode()


def signing_service(authorization: str | None) -> tuple[str, str] | None:
    found = _SCOPE.search(authorization or "")
    return (found.group(1), found.group(2)) if found else None


class ArcMiddleware:
    """WSGI: ARC requests to the fake, the rest to `app`."""

    def __init__(self, app: Callable[..., Iterable[bytes]], fake: ArcFake) -> None:
        self.app = app
        self.http = ArcHttp(fake)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        scope = signing_service(environ.get("HTTP_AUTHORIZATION"))
        if scope is not None and scope[1] in (CONFIG, CLUSTER):
            raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            headers = {"x-amz-target": environ.get("HTTP_X_AMZ_TARGET", "")}
            answer = self.http.handle(scope[1], environ["REQUEST_METHOD"], raw.split("?")[0], headers, body)
            if answer is not None:
                status, out, payload = answer
                start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                               [*out.items(), ("Content-Length", str(len(payload)))])
                return [payload]
            if scope[1] == CONFIG:   # moto answers 500 for this service: say what is missing instead
                status, out, payload = _error(400, "ValidationException", "not supported by the sandbox's ARC fake")
                start_response(f"{status} Error", [*out.items(), ("Content-Length", str(len(payload)))])
                return [payload]
        return self.app(environ, start_response)


def mount(server: Any, fake: ArcFake) -> None:
    """Put the fake in front of a started ThreadedMotoServer (its werkzeug server's app) and
    make it the one the routing model reads."""
    inner = server._server
    inner.app = ArcMiddleware(inner.app, fake)
    activate(fake)


def unmount() -> None:
    activate(None)


class in_process:  # noqa: N801 - used as a context manager, like contextlib helpers
    """Answer in-process clients of both ARC services from `fake` (botocore `before-send`)."""

    def __init__(self, fake: ArcFake) -> None:
        self.http = ArcHttp(fake)
        self.fake = fake

    def __call__(self, request: Any, **_: Any) -> Any:
        from urllib.parse import urlsplit

        from botocore.awsrequest import AWSResponse

        auth = request.headers.get("Authorization")
        scope = signing_service(auth.decode() if isinstance(auth, bytes) else auth)
        if scope is None:
            return None
        target = request.headers.get("X-Amz-Target") or b""
        body = request.body or b""
        answer = self.http.handle(scope[1], request.method, urlsplit(request.url).path,
                                  {"x-amz-target": target.decode() if isinstance(target, bytes) else target},
                                  body.encode() if isinstance(body, str) else body)
        if answer is None:
            return None
        status, headers, payload = answer
        return AWSResponse(request.url, status, {k.lower(): v for k, v in headers.items()}, RawBody(payload))

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-send", self)
        return client

    def __enter__(self) -> in_process:
        activate(self.fake)
        return self

    def __exit__(self, *exc: object) -> None:
        activate(None)

