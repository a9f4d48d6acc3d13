"""http.ok against a tiny loopback http.server thread (no AWS)."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import ValidationError

from drtool.context import StepContext
from drtool.registry import PROBES
from drtool.timing import FakeClock

release = threading.Event()


class Handler(BaseHTTPRequestHandler):
    routes = {"/health": (200, b"status: all good"), "/down": (503, b"maintenance")}

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/hang":
            release.wait(10)  # answers only after the test is done with it
        status, body = self.routes.get(self.path, (404, b"nothing here"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    release.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def ctx():
    return StepContext(aws=None, clock=FakeClock(), region="us-east-1", run_id="run-test", read_only=True)


def probe(ctx, **with_):
    entry = PROBES.get("http.ok")
    return entry.func(ctx, entry.params(**with_))


def test_ok_and_contains(ctx, server):
    result = probe(ctx, url=f"{server}/health", contains="all good")
    assert result.ok and result.data["status"] == 200
    assert result.detail.startswith(f"GET {server}/health answered 200 in ")
    missing = probe(ctx, url=f"{server}/health", contains="degraded")
    assert not missing.ok and "lacks 'degraded'" in missing.detail


def test_wrong_status_and_expected_status(ctx, server):
    down = probe(ctx, url=f"{server}/down")
    assert not down.ok and "answered 503, expected 200" in down.detail
    assert probe(ctx, url=f"{server}/down", status=503, contains="maintenance").ok


def test_closed_port_is_a_failed_result_not_an_error(ctx):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = probe(ctx, url=f"http://127.0.0.1:{port}/health")
    assert not result.ok and "failed" in result.detail and result.data["error"]


def test_timeout_is_a_failed_result(ctx, server):
    result = probe(ctx, url=f"{server}/hang", timeout="0.2s")
    assert not result.ok and "timed out" in result.detail


def test_params(ctx):
    params = PROBES.get("http.ok").params
    assert params(url="https://x.example/health", timeout="1.5m").timeout == 90.0
    assert params(url="https://x.example/health").timeout == 5.0
    with pytest.raises(ValidationError, match="http"):
        params(url="file:///etc/passwd")
    with pytest.raises(ValidationError, match="duration"):
        params(url="https://x.example/", timeout="soon")
    assert PROBES.get("http.ok").iam == ()
