"""Wire-level fault injection for retry tests.

`Faults` is a botocore `before-call` handler (after drtool's call counter): for the n-th
call of an operation it either lets the request through (None) or answers with an error
(status + the parsed error), which botocore raises as it would an error off the wire; the
request is never sent, so moto does not apply it (botocore `BaseClient._make_api_call`). `LoopbackServer` is a local HTTP server
that counts requests and can hold an answer past the client's read timeout.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from botocore.awsrequest import AWSResponse


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any):
        yield self._body


def ec2_error(code: str, status: int = 400) -> tuple[int, bytes]:
    """An EC2 error answer: status and body as EC2 sends them (EC2 API: "Error codes")."""
    return status, (f"<Response><Errors><Error><Code>{code}</Code><Message>injected {code}</Message>"
                    f"</Error></Errors><RequestID>r-1</RequestID></Response>").encode()


def s3_error(code: str, status: int = 503) -> tuple[int, bytes]:
    return status, f"<Error><Code>{code}</Code><Message>injected {code}</Message></Error>".encode()


def _parsed(status: int, body: bytes) -> dict[str, Any]:
    text = body.decode()
    code = text.split("<Code>", 1)[1].split("</Code>", 1)[0]
    return {"Error": {"Code": code, "Message": f"injected {code}"},
            "ResponseMetadata": {"HTTPStatusCode": status}}


class Faults:
    """Answer the n-th request of `operation` with plan[n] (None: send it for real)."""

    def __init__(self, client: Any, service: str, operation: str, plan: list[tuple[int, bytes] | None]) -> None:
        self.plan = list(plan)
        self.requests: list[Any] = []
        raw = getattr(client, "raw", client)
        raw.meta.events.register(f"before-call.{service}.{operation}", self)

    def __call__(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        self.requests.append(params)
        step = self.plan[len(self.requests) - 1] if len(self.requests) <= len(self.plan) else None
        if step is None:
            return None
        status, body = step
        return AWSResponse(params.get("url", ""), status, {}, _Raw(body)), _parsed(status, body)


class LoopbackServer:
    """Counts requests; each answer follows the script: ("hang", seconds) holds the answer
    that long, (status, body) answers at once. Past the script: 200 with `default`."""

    def __init__(self, script: list[tuple[Any, Any]], default: bytes = b"") -> None:
        self.script = list(script)
        self.default = default
        self.actions: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                action = next((p.split("=", 1)[1] for p in body.split("&") if p.startswith("Action=")), "?")
                owner.actions.append(action)
                step = owner.script.pop(0) if owner.script else (200, owner.default)
                if step[0] == "hang":
                    time.sleep(step[1])
                    step = (200, owner.default)
                try:
                    self.send_response(step[0])
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(step[1])))
                    self.end_headers()
                    self.wfile.write(step[1])
                except OSError:
                    pass                    # the client gave up waiting

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
