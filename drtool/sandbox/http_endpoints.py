"""Loopback HTTP endpoints answering from the simulated state, so `http.ok` probes real HTTP.

- `GET /health`: the global endpoint. It follows DNS (the global record's answer as of one
  TTL ago) to a region: 200 when that region serves, else 503.
- `GET /region/<region>/health` (or `/region/<region>/`): that region alone.
- `GET /state`: the whole simulated state as JSON (for people poking at `sandbox up`).
Bodies are JSON: `{"status": "ok"|"unavailable", "region": ..., "reason": ...}`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from drtool.sandbox.simulator import RegionState, Snapshot


class Endpoints:
    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self._snapshot = snapshot
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the endpoints are not running: start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> str:
        snapshot = self._snapshot

        class Handler(_Handler):
            get_snapshot = staticmethod(snapshot)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="drtool-sandbox-http", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    get_snapshot: Callable[[], Snapshot]
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        snap = self.get_snapshot()
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if parts == ["health"]:
            region, state = snap.global_target(time.monotonic())
            self._answer(state, region, via="dns")
        elif len(parts) in (2, 3) and parts[0] == "region" and parts[2:] in ([], ["health"]):
            region = parts[1]
            self._answer(snap.regions.get(region, RegionState(False, f"no region {region}")), region)
        elif parts == ["state"]:
            body = {"regions": {r: {"serves": s.serves, "reason": s.reason} for r, s in snap.regions.items()},
                    "global_region": snap.dns.client_region(time.monotonic()), "dns_ttl": snap.dns.ttl}
            self._send(200, body)
        else:
            self._send(404, {"status": "not-found", "path": self.path})

    def _answer(self, state: RegionState, region: str | None, via: str | None = None) -> None:
        body: dict[str, Any] = {"status": "ok" if state.serves else "unavailable", "region": region,
                                "reason": state.reason}
        if via:
            body["via"] = via
        self._send(200 if state.serves else 503, body)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence per-request logs
        return
