"""Serve the fake ARC Region switch (`arc_switch_state.FakeRegionSwitch`) over HTTP, as AWS does.

The service model lists two protocols, `smithy-rpc-v2-cbor` and `json` (botocore's
`arc-region-switch` metadata `protocols`); a client picks one, so both are served:

- awsJson1_0: `POST /`, `X-Amz-Target: ArcRegionSwitch.<Operation>`, JSON body, timestamps as
  epoch seconds (https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html). boto3 picks
  this one (botocore's PRIORITY_ORDERED_SUPPORTED_PROTOCOLS puts `json` first).
- rpcv2Cbor: `POST /service/ArcRegionSwitch/operation/<Operation>`, `smithy-protocol:
  rpc-v2-cbor`, CBOR body, timestamps as tag 1 epoch seconds, errors as a map with `__type`
  and `message` (https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html).
  The CBOR is read and written by botocore's own code: `RpcV2CBORParser` (the generic CBOR
  decoder behind every rpcv2Cbor response) for requests, and `RpcV2CBORSerializer` walking
  the operation's output shape for responses, so a response that strays from the model fails.

Requests are recognised by their SigV4 signing service (`Credential=.../arc-region-switch/
aws4_request`). `RegionSwitchMiddleware` is the WSGI side (registered by the sandbox server);
`serving(fake)` answers in-process clients through botocore's `before-send` event.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from botocore.handlers import BUILTIN_HANDLERS

from drtool.sandbox.fakes.arc_switch_state import FakeRegionSwitch, SwitchError
from drtool.sandbox.fakes.rest_json import signing_scope
from drtool.sandbox.loopback import RawBody

SERVICE, TARGET_PREFIX = "arc-region-switch", "ArcRegionSwitch"
CBOR_PATH = f"/service/{TARGET_PREFIX}/operation/"
JSON_TYPE, CBOR_TYPE = "application/x-amz-json-1.0", "application/cbor"
Response = tuple[int, dict[str, str], bytes]


def cbor_decode(body: bytes) -> Any:
    """A CBOR data item, decoded by botocore's rpcv2Cbor parser."""
    from botocore.parsers import RpcV2CBORParser

    return RpcV2CBORParser()._initial_body_parse(body) if body else {}


def cbor_encode(value: dict[str, Any], shape: Any) -> bytes:
    """`value` as CBOR, written by botocore's rpcv2Cbor serializer along `shape`."""
    from botocore.serialize import RpcV2CBORSerializer

    out = bytearray()
    RpcV2CBORSerializer()._serialize_data_item(out, value, shape)
    return bytes(out)


def cbor_error(code: str, message: str) -> bytes:
    """The rpcv2Cbor error body: a map of text strings `__type` and `message`."""
    from botocore.serialize import RpcV2CBORSerializer

    ser, out = RpcV2CBORSerializer(), bytearray()
    out.extend(ser._get_initial_byte(ser.MAP_MAJOR_TYPE, 2))
    for text in ("__type", f"com.amazonaws.arcregionswitch#{code}", "message", message):
        ser._serialize_type_string(out, text, None, None)
    return bytes(out)


class RegionSwitchHttp:
    """One fake behind both protocols."""

    def __init__(self, fake: FakeRegionSwitch) -> None:
        import botocore.session

        self.fake = fake
        self.model = botocore.session.get_session().get_service_model(SERVICE)

    def handle(self, method: str, path: str, headers: dict[str, str], region: str, body: bytes) -> Response | None:
        """The response for one request, or None when it is not an operation of the fake."""
        if method != "POST":
            return None
        target = headers.get("x-amz-target", "")
        if path.startswith(CBOR_PATH):
            operation, cbor = path[len(CBOR_PATH):], True
        elif target.startswith(TARGET_PREFIX + "."):
            operation, cbor = target.split(".", 1)[1], False
        else:
            return None
        if operation not in self.fake.operations:
            return _error(cbor, 400, "IllegalArgumentException", f"{operation} is not served by the sandbox")
        try:
            params = cbor_decode(body) if cbor else json.loads(body or b"{}")
            if not isinstance(params, dict):
                raise ValueError("the request body is not a map")
            result = self.fake.call(operation, region, params)
        except SwitchError as exc:
            return _error(cbor, exc.status, exc.code, exc.message)
        except (ValueError, KeyError, TypeError) as exc:
            return _error(cbor, 400, "IllegalArgumentException", f"{type(exc).__name__}: {exc}")
        if cbor:
            shape = self.model.operation_model(operation).output_shape
            return 200, _headers(True), cbor_encode(result, shape) if shape is not None else b""
        return 200, _headers(False), json.dumps(result, default=_epoch).encode()


def _epoch(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _headers(cbor: bool, **extra: str) -> dict[str, str]:
    if cbor:
        return {"Content-Type": CBOR_TYPE, "smithy-protocol": "rpc-v2-cbor", "x-amzn-RequestId": str(uuid.uuid4()),
                **extra}
    return {"Content-Type": JSON_TYPE, "x-amzn-RequestId": str(uuid.uuid4()), **extra}


def _error(cbor: bool, status: int, code: str, message: str) -> Response:
    if cbor:
        return status, _headers(True), cbor_error(code, message)
    body = {"__type": code, "message": message}
    return status, _headers(False, **{"x-amzn-ErrorType": code}), json.dumps(body).encode()


class RegionSwitchMiddleware:
    """WSGI: Region switch requests to the fake, the rest to `app`."""

    def __init__(self, app: Callable[..., Iterable[bytes]], fake: FakeRegionSwitch) -> None:
        self.app = app
        self.http = RegionSwitchHttp(fake)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
            self.http.fake.clear()      # moto forgets every account and Region: the plans go with them
        scope = signing_scope(environ.get("HTTP_AUTHORIZATION"))
        if scope is not None and scope[1] == SERVICE:
            raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            headers = {"x-amz-target": environ.get("HTTP_X_AMZ_TARGET", "")}
            answer = self.http.handle(environ["REQUEST_METHOD"], raw.split("?")[0], headers, scope[0], body)
            if answer is None:
                answer = _error(False, 400, "IllegalArgumentException", "not an operation of the sandbox's "
                                "Region switch fake")
            status, out, payload = answer
            start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                           [*out.items(), ("Content-Length", str(len(payload)))])
            return [payload]
        return self.app(environ, start_response)


# --- in-process (moto's mock_aws, no server) ------------------------------------------------

_SERVED: list[RegionSwitchHttp] = []



def _dispatch(request: Any, **_: Any) -> Any:
    from botocore.awsrequest import AWSResponse

    auth = request.headers.get("Authorization")
    scope = signing_scope(auth.decode() if isinstance(auth, bytes) else auth)
    if not _SERVED or scope is None or scope[1] != SERVICE:
        return None
    target = request.headers.get("X-Amz-Target") or b""
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    answer = _SERVED[-1].handle(request.method, urlsplit(request.url).path,
                                {"x-amz-target": target.decode() if isinstance(target, bytes) else target},
                                scope[0], body.encode() if isinstance(body, str) else body)
    if answer is None:
        return None
    status, headers, payload = answer
    return AWSResponse(request.url, status, {k.lower(): v for k, v in headers.items()}, RawBody(payload))


if (f"before-send.{SERVICE}", _dispatch) not in BUILTIN_HANDLERS:
    BUILTIN_HANDLERS.append((f"before-send.{SERVICE}", _dispatch))


@contextlib.contextmanager
def serving(fake: FakeRegionSwitch) -> Iterator[FakeRegionSwitch]:
    """Serve `fake` to every in-process Region switch client created after this module's import."""
    _SERVED.append(RegionSwitchHttp(fake))
    try:
        yield fake
    finally:
        _SERVED.pop()
