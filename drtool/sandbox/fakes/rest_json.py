"""Serve a fake AWS service over HTTP with the restJson protocol, as AWS does.

The routes, parameter locations and types come from botocore's service model (the model
the SDKs are generated from), so any client sees the same API: boto3, the AWS CLI, other
SDKs. Protocol: https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html
(members bound to the URI, query string or JSON body; timestamps as epoch seconds in the
body, date-time in the query string; errors carry `X-Amzn-ErrorType` and a JSON body
with `message`).

- `RestJsonFake(service, fake)`: `match(method, raw_path)` and `handle(...)` for one fake
  (an object with `operations` and `call(operation, region, params)`).
- `FakesMiddleware(app)`: WSGI middleware in front of moto's app. A request whose SigV4
  signing service (`Authorization: ... Credential=KEY/DATE/REGION/SERVICE/aws4_request`,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) belongs to
  a mounted fake and whose route is one of its operations goes to the fake; everything
  else goes to moto.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from drtool.sandbox.fakes.backup_state import BackupError

_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/([^/,]+)/([^/,]+)/aws4_request")
Response = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    segments: tuple[str, ...]   # literal, "{name}" or "{name+}"


def signing_scope(authorization: str | None) -> tuple[str, str] | None:
    """(region, service) from a SigV4 Authorization header, else None."""
    found = _SCOPE.search(authorization or "")
    return (found.group(1), found.group(2)) if found else None


class RestJsonFake:
    """One fake service behind its restJson routes."""

    def __init__(self, service: str, fake: Any) -> None:
        import botocore.session

        self.service = service
        self.fake = fake
        self.model = botocore.session.get_session().get_service_model(service)
        self.routes = [self._route(name) for name in fake.operations]

    def _route(self, name: str) -> _Route:
        http = self.model.operation_model(name).http
        return _Route(name, http["method"], tuple(http["requestUri"].split("?")[0].split("/")))

    def match(self, method: str, raw_path: str) -> tuple[str, dict[str, str]] | None:
        """(operation, uri members by location name) for a request, None if not ours."""
        parts = raw_path.split("/")
        for route in self.routes:
            if route.method != method:
                continue
            found = _match(route.segments, parts)
            if found is not None:
                return route.operation, found
        return None

    def handle(self, operation: str, uri: dict[str, str], region: str, query: str, body: bytes) -> Response:
        try:
            params = self._params(operation, uri, query, body)
            result = self.fake.call(operation, region, params)
        except BackupError as exc:
            return _error(exc.status, exc.code, exc.message)
        except (ValueError, KeyError) as exc:
            return _error(400, "InvalidParameterValueException", f"{type(exc).__name__}: {exc}")
        result.pop("ResponseMetadata", None)
        return 200, _headers(), json.dumps(result, default=_json_default).encode()

    def _params(self, operation: str, uri: dict[str, str], query: str, body: bytes) -> dict[str, Any]:
        shape = self.model.operation_model(operation).input_shape
        if shape is None:
            return {}
        values = parse_qs(query, keep_blank_values=True)
        document = json.loads(body or b"{}") or {}
        params: dict[str, Any] = {}
        for name, member in shape.members.items():
            location, wire = member.serialization.get("location"), member.serialization.get("name", name)
            if location == "uri" and wire in uri:
                params[name] = _convert(member, uri[wire])
            elif location == "querystring" and wire in values:
                raw = values[wire]
                params[name] = [_convert(member.member, v) for v in raw] if member.type_name == "list" \
                    else _convert(member, raw[-1])
            elif location is None and name in document:
                value = document[name]
                params[name] = datetime.fromtimestamp(float(value), tz=UTC) \
                    if member.type_name == "timestamp" else value
        return params


def _match(template: tuple[str, ...], parts: list[str]) -> dict[str, str] | None:
    found: dict[str, str] = {}
    for index, segment in enumerate(template):
        if segment.startswith("{") and segment.endswith("+}"):
            rest = parts[index:]
            if not rest or not rest[0]:
                return None
            found[segment[1:-2]] = unquote("/".join(rest))
            return found
        if index >= len(parts):
            return None
        if segment.startswith("{"):
            if not parts[index]:
                return None
            found[segment[1:-1]] = unquote(parts[index])
        elif segment != parts[index]:
            return None
    return found if len(parts) == len(template) else None


def _convert(shape: Any, text: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        return int(text)
    if kind == "boolean":
        return text.lower() == "true"
    if kind == "timestamp":
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), tz=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return text


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _headers(**extra: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4()), **extra}


def _error(status: int, code: str, message: str) -> Response:
    body = {"message": message, "Message": message, "Code": code}
    return status, _headers(**{"x-amzn-ErrorType": code}), json.dumps(body).encode()


class FakesMiddleware:
    """WSGI: requests for a mounted fake's operations go to it; the rest to `app` (moto)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self._fakes: dict[str, RestJsonFake] = {}
        self._lock = threading.Lock()

    def mount(self, fake: RestJsonFake) -> None:
        with self._lock:
            self._fakes[fake.service] = fake

    def unmount_all(self) -> None:
        with self._lock:
            self._fakes.clear()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        scope = signing_scope(environ.get("HTTP_AUTHORIZATION"))
        fake = self._fakes.get(scope[1]) if scope else None
        if fake is not None and scope is not None:
            raw_path = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/"))
            matched = fake.match(environ["REQUEST_METHOD"], raw_path.split("?")[0])
            if matched is not None:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(length) if length else b""
                status, headers, payload = fake.handle(matched[0], matched[1], scope[0],
                                                       environ.get("QUERY_STRING", ""), body)
                start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                               [*headers.items(), ("Content-Length", str(len(payload)))])
                return [payload]
        return self.app(environ, start_response)
