"""One running sandbox for many cells: reset and re-provisioned between them, not restarted.

Starting a sandbox costs a moto server, a provisioning pass and a simulator; stopping it
waits out the server's shutdown poll. A cell only needs a pristine estate, so between
cells the pool stops the simulator, resets moto (its documented `POST /moto-api/reset`:
https://docs.getmoto.org/en/latest/docs/server_mode.html#reset-api), forgets the sandbox's
patch state, clears the fake AWS Backup, provisions the estate again through the same
public AWS calls and starts a fresh simulator. The server and HTTP endpoints stay up.

`share_botocore_loader()` makes every botocore session of this process share one data
loader, so each service model's JSON is parsed once per process rather than once per
session (a drill run, the provisioner and the estate reader each make their own).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any


def share_botocore_loader() -> None:
    """Idempotent: `botocore.session.create_loader` returns one loader per data path."""
    import botocore.session

    if getattr(botocore.session.create_loader, "_drtool_shared", False):
        return
    shared = functools.lru_cache(maxsize=None)(botocore.session.create_loader)
    shared._drtool_shared = True  # type: ignore[attr-defined]
    botocore.session.create_loader = shared  # type: ignore[assignment]


class SandboxPool:
    """`pool.get(estate_path)` is a running sandbox on that estate in its provisioned state."""

    def __init__(self) -> None:
        self.sandbox: Any = None
        self.path: Path | None = None
        self.used = False

    def get(self, estate_path: Path) -> Any:
        from drtool.sandbox import Sandbox

        share_botocore_loader()
        if self.sandbox is not None and self.path != estate_path:
            self.close()
        if self.sandbox is None:
            self.sandbox, self.path = Sandbox.load(estate_path).start(), estate_path
        elif self.used:
            reprovision(self.sandbox)
        self.used = True
        return self.sandbox

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()
        self.sandbox, self.path, self.used = None, None, False


def reprovision(sb: Any) -> None:
    """Put a running sandbox back to its freshly provisioned estate (the product's own reset)."""
    sb.reprovision()


def _clear_backup(fake: Any) -> None:
    with fake._lock:
        for name in ("recovery_points", "jobs", "_tokens", "_vaults"):
            getattr(fake, name).clear()
