"""The offline sandbox: a simulated AWS estate with real failure dynamics.

moto (in this process, on 127.0.0.1) answers the AWS API; the simulator beside it makes
time matter: replacements take their delay, replicas lag, DNS follows health checks
after its TTL, alarms evaluate. See docs/sandbox-contract.md::

    with Sandbox.load("webshop") as sb:
        ec2 = sb.session().client("ec2")
        ...

Importing this package does not import boto3 or moto (the CLI stays lazy).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from drtool.errors import DrToolError, UsageError
from drtool.sandbox.estate import Estate, Truth, load_estate

__all__ = ["Sandbox", "SandboxError", "SandboxMissing", "Estate", "Truth", "load_estate", "require_moto"]

FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

_ACTIVE_GUARD = threading.Lock()
_active: Sandbox | None = None


class SandboxError(DrToolError):
    """The sandbox could not start (exit 3)."""


class SandboxMissing(UsageError):
    """The sandbox extra (moto) is not installed (exit 2)."""


def require_moto() -> None:
    """Raise SandboxMissing unless moto's server (the `drtool[sandbox]` extra) is installed."""
    missing = [name for name in ("moto", "flask") if not _installed(name)]
    if missing:
        raise SandboxMissing(f"the offline sandbox needs {' and '.join(missing)}, which is not installed: "
                             "install drtool[sandbox]",
                             'pip install "drtool[sandbox]" (in a checkout: pip install ".[sandbox]")')


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


class Sandbox:
    """One simulated estate: moto server + provisioned resources + simulator + HTTP endpoints.

    moto keeps its state in process-wide globals, so one sandbox runs per process at a time.
    """

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        self.startup_seconds: float | None = None
        self._lock = threading.RLock()
        self._server: Any = None
        self._http: Any = None
        self._simulator: Any = None
        self._backup: Any = None
        self._arc: Any = None
        self._fis: Any = None
        self._fis_ticker: Any = None
        self._provisioned: Any = None
        self._url: str | None = None
        self._native_clients: dict[tuple[str, str], Any] = {}
        self._boto: Any = None
        self._werkzeug_level: int | None = None

    @classmethod
    def load(cls, name_or_path: str | Path) -> Sandbox:
        """A bundled estate by name (`webshop`) or an estate YAML by path."""
        return cls(load_estate(name_or_path))

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> Sandbox:
        global _active
        require_moto()
        with _ACTIVE_GUARD:
            if _active is not None:
                raise SandboxError("a sandbox is already running in this process",
                                   "stop it first (moto keeps its state in process-wide globals)")
            _active = self
        started = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _start(self) -> None:
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # ~0.3 s per region otherwise
        werkzeug = logging.getLogger("werkzeug")
        self._werkzeug_level = werkzeug.level
        werkzeug.setLevel(logging.CRITICAL)

        from drtool.sandbox.fakes.rest_json import RestJsonFake
        from drtool.sandbox.http_endpoints import Endpoints
        from drtool.sandbox.moto_adapter import patches
        from drtool.sandbox.provision import Provisioner
        from drtool.sandbox.server import locked_server, reset_moto
        from drtool.sandbox.simulator import Simulator

        self._server = locked_server(self._lock)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self._url = f"http://{host}:{port}"
        self._backup = self._make_backup_fake()
        self._server.fakes.mount(RestJsonFake("backup", self._backup))
        self._fis = self._make_fis_fake()
        self._server.fakes.mount(RestJsonFake("fis", self._fis))
        with self._lock:
            reset_moto()
            patches.install_patches(self.estate.account, list(self.estate.regions))
        from drtool.sandbox.fakes import arc_http, arc_state

        self._arc = arc_state.ArcFake(self.estate.account, self._url)
        arc_http.mount(self._server, self._arc)      # ARC, which moto lacks, served by this server
        self._provisioned = Provisioner(self.estate, self._url, self._lock).run()
        for check, control in self._provisioned.routing_control_checks.items():
            self._arc.associate(check, control)
        hosts = {dns: region for dns, region in self._provisioned.load_balancer_regions.items()}
        subnets = {r: set(by_az.values()) for r, by_az in self._provisioned.subnets.items()}
        self._simulator = Simulator(self.estate, self._lock, self._loopback(), hosts, subnets)
        self._simulator.start()
        from drtool.sandbox.fakes.fis_state import Ticker

        self._fis_ticker = Ticker(self._fis).start()
        self._http = Endpoints(lambda: self._simulator.snapshot)
        self._http.start()

    def reprovision(self) -> None:
        """Put a running sandbox back to a freshly provisioned estate without restarting its
        server (tests that run many drills reuse one): moto reset, patches, fakes, estate,
        simulator."""
        import urllib.request

        from drtool.sandbox.moto_adapter import patches
        from drtool.sandbox.provision import Provisioner
        from drtool.sandbox.simulator import Simulator

        assert self._simulator is not None and self._url is not None
        self._simulator.stop()
        # served under the sandbox's lock by the server's own thread: not held here
        request = urllib.request.Request(f"{self._url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            response.read()
        with self._lock:
            patches.uninstall_patches()
            patches.install_patches(self.estate.account, list(self.estate.regions))
        if self._backup is not None:
            self._backup.clear()
        arc = self._arc
        with arc._lock:
            for table in (arc.clusters, arc.panels, arc.controls, arc.checks):
                table.clear()
        self._provisioned = Provisioner(self.estate, self._url, self._lock).run()
        for check, control in self._provisioned.routing_control_checks.items():
            arc.associate(check, control)
        hosts = dict(self._provisioned.load_balancer_regions)
        subnets = {r: set(by_az.values()) for r, by_az in self._provisioned.subnets.items()}
        self._simulator = Simulator(self.estate, self._lock, self._loopback(), hosts, subnets)
        self._simulator.start()

    def stop(self) -> None:
        """Stop the simulator, the endpoints and the moto server; undo the moto patches."""
        global _active
        if self._fis_ticker is not None:
            self._fis_ticker.stop()
            self._fis.stop_all()   # revert running faults while the server still answers
            self._fis_ticker = None
        for part in (self._simulator, self._http):
            if part is not None:
                part.stop()
        if self._server is not None and self._url is not None:
            self._server.stop()
        self._simulator = self._http = self._server = None
        if _active is self:
            from drtool.sandbox.fakes import arc_http
            from drtool.sandbox.moto_adapter import patches

            arc_http.unmount()

            with self._lock:
                patches.uninstall_patches()
            if self._werkzeug_level is not None:
                logging.getLogger("werkzeug").setLevel(self._werkzeug_level)
            with _ACTIVE_GUARD:
                _active = None

    def __enter__(self) -> Sandbox:
        return self.start() if self._url is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- access ------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        if self._url is None:
            raise SandboxError("the sandbox is not running", "call start() first")
        return self._url

    @property
    def truth(self) -> Truth:
        """The behaviour numbers, per resource, that a drill in this sandbox should measure."""
        return self.estate.truth()

    @property
    def simulator(self) -> Any:
        return self._simulator

    @property
    def backup(self) -> Any:
        """The fake AWS Backup service the server serves (drtool.sandbox.fakes.backup_api.FakeBackup)."""
        return self._backup

    @property
    def fis(self) -> Any:
        """The fake AWS FIS the server serves (drtool.sandbox.fakes.fis_api.FakeFis)."""
        return self._fis

    @property
    def lock(self) -> threading.RLock:
        """Held by every moto request and every simulator step."""
        return self._lock

    def env(self) -> dict[str, str]:
        """Environment for boto3 / the AWS CLI to use the sandbox (fake credentials)."""
        region = self.estate.primary_region
        return {"AWS_ENDPOINT_URL": self.endpoint_url, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": region, "AWS_DEFAULT_REGION": region}

    def session(self, region: str | None = None) -> Any:
        """A drtool AwsSession on the sandbox (explicit fake credentials). The server serves
        the fake AWS Backup to it, as to any client."""
        from drtool.aws.session import AwsSession

        return AwsSession(region=region or self.estate.primary_region, endpoint_url=self.endpoint_url,
                          credentials=dict(FAKE_CREDENTIALS), isolated=True)

    def client(self, service: str, region: str | None = None) -> Any:
        """A plain boto3 client on the sandbox (for tests and scripts); reads no AWS config."""
        from botocore.config import Config

        from drtool.sandbox.provision import isolated_session

        if self._boto is None:
            self._boto = isolated_session(self.estate.primary_region)
        return self._boto.client(service, region_name=region or self.estate.primary_region,
                                 endpoint_url=self.endpoint_url, config=Config(retries={"max_attempts": 1}))

    def values(self) -> dict[str, str]:
        """Values for `${sandbox.X}` placeholders in drills."""
        if self._http is None:
            raise SandboxError("the sandbox is not running", "call start() first")
        base = self._http.base_url
        out = {"endpoint": base, "endpoint_url": self.endpoint_url, "account_id": self.estate.account,
               "primary_region": self.estate.primary_region, "dr_region": self.estate.dr_region or ""}
        for region in self.estate.regions:
            out[f"endpoint.{region}"] = f"{base}/region/{region}"
        p = self._provisioned
        if p is not None:
            out.update({f"vpc.{r}": v for r, v in p.vpcs.items()})
            out.update({f"subnet.{az}": s for subnets in p.subnets.values() for az, s in subnets.items()})
            out.update({f"target_group.{n}": a for n, a in p.target_groups.items()})
            out.update({f"health_check.{r}": c for r, c in p.health_checks.items()})
            out.update({f"routing_control.{n}": a for n, a in p.routing_controls.items()})
            if p.region_switch_plan:
                out["region_switch_plan"] = p.region_switch_plan
            if p.zone_id:
                out["zone_id"] = p.zone_id
        return out

    # --- AWS Backup ----------------------------------------------------------------------

    def _make_backup_fake(self) -> Any:
        """One fake AWS Backup for every session of this sandbox; its own native calls carry
        a header so the sandbox does not add restore time on top of the job's duration."""
        from drtool.sandbox.fakes.backup_api import FakeBackup
        from drtool.timing import SystemClock

        t = self.truth
        return FakeBackup(SystemClock(), {"backup": t.backup_duration, "copy": t.copy_duration,
                                          "restore": t.restore_duration},
                          self.estate.account, client_factory=self._native_client)

    def _make_fis_fake(self) -> Any:
        """One fake AWS FIS whose experiments act through this server and pause the
        simulator's S3 replicator; its clock is the wall clock (a `Ticker` drives it)."""
        from drtool.sandbox.fakes.fis_api import FakeFis
        from drtool.sandbox.fakes.fis_effects import LockedReplicator, NativeFaults
        from drtool.timing import SystemClock

        def replicator() -> Any:
            return LockedReplicator(self._simulator.s3, self._lock) if self._simulator is not None else None

        return FakeFis(SystemClock(), self.estate.account, NativeFaults(self.client, replicator))

    def _loopback(self) -> Any:
        """Clients for the simulator: the server's app answers them in the simulator's thread."""
        from drtool.sandbox.loopback import Loopback

        assert self._server is not None and self._url is not None
        return Loopback(self._server.fakes, self._url, self.estate.primary_region)

    def _native_client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._native_clients:
            made = self.client(service, region)
            made.meta.events.register("before-send", _mark_native)
            self._native_clients[key] = made
        return self._native_clients[key]


def _mark_native(request: Any, **_: Any) -> None:
    from drtool.sandbox.moto_adapter.patches import NATIVE_HEADER

    request.headers[NATIVE_HEADER] = "1"
