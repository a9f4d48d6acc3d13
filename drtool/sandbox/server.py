"""The sandbox's HTTP server: moto's WSGI app behind the sandbox lock, the fakes in front.

Request path: `RegionSwitchMiddleware` (ARC Region switch, `server.region_switch`) ->
`FakesMiddleware` (AWS Backup jobs and recovery points, which moto lacks)
-> the lock (so the simulator never changes moto state in the middle of a request) ->
moto's `DomainDispatcherApplication`. The fakes sit outside the lock: their own native
calls (a backup job's snapshot) are ordinary requests to this same server.
"""

from __future__ import annotations

import threading
from typing import Any

from drtool.sandbox.estate import DEFAULT_ACCOUNT
from drtool.sandbox.fakes.arc_switch_http import RegionSwitchMiddleware
from drtool.sandbox.fakes.arc_switch_state import FakeRegionSwitch, arc_routing
from drtool.sandbox.fakes.rest_json import FakesMiddleware
from drtool.sandbox.moto_adapter import patches
from drtool.timing import SystemClock


def locked_server(lock: threading.RLock) -> Any:
    """A ThreadedMotoServer on 127.0.0.1:<free port>; `.fakes` is its FakesMiddleware (moto
    behind the lock, with the fakes; `drtool.sandbox.loopback` answers it in-thread) and
    `.region_switch` the ARC Region switch fake in front of it."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    native_key = "HTTP_" + patches.NATIVE_HEADER.upper().replace("-", "_")
    app = DomainDispatcherApplication(create_backend_app)

    def locked_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with lock:
            patches.mark_request(native=environ.get(native_key) == "1")
            body = app(environ, start_response)
            try:
                return list(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

    class _LockedServer(ThreadedMotoServer):
        fakes: FakesMiddleware
        region_switch: FakeRegionSwitch

        def _server_entry(self) -> None:
            front = RegionSwitchMiddleware(self.fakes, self.region_switch)   # ARC Region switch (both protocols)
            self._server = make_server(self._ip_address, self._port, front, True)
            self._server_ready_event.set()
            self._server.serve_forever()

    server = _LockedServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.fakes = FakesMiddleware(locked_app)
    server.region_switch = FakeRegionSwitch(SystemClock(), DEFAULT_ACCOUNT)
    server.region_switch.routing = arc_routing      # routing control steps act on the sandbox's ARC fake
    return server


def reset_moto() -> None:
    """Forget every account and region (what POST /moto-api/reset does)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
