"""Run one bundled drill in the sandbox with its Nth AWS call failing, and judge the result.

A cell is (drill, kind, N). It runs in this process through the real CLI path
(`drtool.cli.invoke(["run", ..., "--sandbox", "--yes"])`, so exit codes and messages are
the user's), with `drtool.api.drill_target` pointed at a sandbox this module started, so
the estate can be read before and after and the fault hook composed onto the session's
`on_client`. Every cell starts from a pristine estate: a drill such as region-loss leaves
a promoted replica behind by design (a follow-up), and a failed cell must not leak into
the next one. A `SandboxPool` keeps one sandbox running and re-provisions it between
cells (tests/safety/sandbox_pool.py), which is what makes the matrix affordable.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import yaml

from tests.safety.estate_state import Difference, EstateState, compare, snapshot, unexplained
from tests.safety.faults import FaultInjector, Injected, is_read
from tests.safety.sandbox_pool import SandboxPool

ROOT = Path(__file__).resolve().parents[2]
DRILLS = sorted(p for p in (ROOT / "drills").glob("*.yaml") if "kind: drill" in p.read_text())   # not services.yaml

# The bundled webshop estate, faster: the same resources and failure dynamics, every delay
# of the simulator (drtool/sandbox/delays.py, AWS's figures at the sandbox's 1/30) shortened
# by the same FAST_FACTOR, so a cell takes seconds. Each drill keeps its own `poll:` (a faster
# poll multiplies its calls, and so the cells); its AWS-sized windows (`impact.within`,
# `recovery.stable_for`) run on TIME_SCALE instead of the sandbox's 1/30
# (drtool.run_types.SANDBOX_TIME_SCALE), e.g. stable_for 30s -> 0.5s. The delays that make an
# outage (replacement, scale-up, promotion, Aurora failover) stay at least OUTAGE_FLOOR_S: the
# runner looks at the steady state only when it polls, and an outage shorter than the first
# poll after the fault under load would go unseen ("fault not observed", exit 1) whatever
# the injected fault.
FAST_FACTOR = 1 / 6
OUTAGE_FLOOR_S = 1.0
OUTAGES = ("replacement_delay", "scale_up_delay", "promotion_delay", "failover_delay")
UNSCALED = ("tick", "metric_interval", "rds_replica_lag")    # resolutions and a published value, not waits
FAST_POLL = "0.5s"        # only for a drill without its own `poll:`
TIME_SCALE = 1 / 60
# drtool retries a throttled or lost read after a full-jitter backoff of up to 0.5s x 2^n
# (drtool/aws/retry.py, after AWS's "Error retries and exponential backoff in AWS":
# https://docs.aws.amazon.com/general/latest/gr/api-retries.html). Against real AWS that is
# small beside an outage of minutes; here an outage lasts 0.6s, so an unscaled backoff alone
# could hide the impact and fail a cell for a reason AWS would never produce. The retries
# themselves (attempts, what is resent) are unchanged.
RETRY_BASE_DELAY = 0.02
SETTLE_S = 8.0          # an undo may take effect through the simulator: re-read the estate this long
EXIT_CODES = {0, 1, 3, 4, 5}


@dataclass(frozen=True)
class Cell:
    drill: str          # stem of drills/<drill>.yaml
    kind: str
    n: int | None       # None: the un-faulted baseline

    def __str__(self) -> str:
        return f"{self.drill} {self.kind} N={self.n}"


@dataclass
class CellResult:
    cell: Cell
    exit_code: int | None
    calls: list[str]
    injected: list[Injected]
    problems: list[str] = field(default_factory=list)
    status: str | None = None
    remaining: int = 0
    seconds: float = 0.0
    output: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def restored(self) -> bool:
        """Every change undone, or named as remaining (the problems say which were not)."""
        return not any(p.startswith(("estate:", "no scorecard")) for p in self.problems)

    @property
    def hit(self) -> str:
        return self.injected[0].operation if self.injected else "-"


def fast_behaviour() -> dict[str, str]:
    from drtool.sandbox.estate import Behaviour

    fast = {key: value * FAST_FACTOR for key, value in Behaviour().model_dump().items() if key not in UNSCALED}
    return {key: f"{max(value, OUTAGE_FLOOR_S) if key in OUTAGES else value:.4f}s" for key, value in fast.items()}


def prepare_drills(workdir: Path) -> dict[str, Path]:
    """Copies of every bundled drill on a fast copy of its estate (poll FAST_POLL)."""
    workdir.mkdir(parents=True, exist_ok=True)
    estate = yaml.safe_load((ROOT / "drtool" / "sandbox" / "estates" / "webshop.yaml").read_text())
    estate["behaviour"] = {**(estate.get("behaviour") or {}), **fast_behaviour()}
    (workdir / "fast-webshop.yaml").write_text(yaml.safe_dump(estate))
    out = {}
    for drill in DRILLS:
        doc = yaml.safe_load(drill.read_text())
        if doc.get("sandbox", {}).get("estate") != "webshop":
            continue
        doc["sandbox"]["estate"] = "fast-webshop.yaml"
        doc["poll"] = doc.get("poll", FAST_POLL)
        doc["scenario"] = str(ROOT / "scenarios" / f"{doc['scenario']}.yaml")
        path = workdir / drill.name
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        out[drill.stem] = path
    return out


@contextlib.contextmanager
def _target(sb: Any, injector: FaultInjector) -> Iterator[Any]:
    """`drtool.api.drill_target` on an already running sandbox, the fault hook composed in."""
    from drtool.api import sandbox_overrides
    from drtool.documents import load_drill, read_document
    from drtool.runner import RunOptions  # its `scale` reads SANDBOX_TIME_SCALE of its module

    @contextlib.contextmanager
    def drill_target(path: Any, *, sandbox: bool = False, profile: Any = None, region: Any = None,
                     params: Any = None) -> Iterator[Any]:
        assert not params, "the matrix runs drills without --param"
        _loaded, doc = read_document(path)
        config: Any = getattr(doc, "sandbox", None)     # every prepared drill has one
        drill = load_drill(path, overrides=sandbox_overrides(config.parameters, sb.values()))
        session = sb.session(region or drill.home_region)
        sandbox_hook = session._on_client      # compose with the sandbox's own hook (AWS Backup fake)

        def on_client(service: str, client: Any) -> None:
            injector.attach(service, client)
            if sandbox_hook is not None:
                sandbox_hook(service, client)

        session._on_client = on_client
        session.base_delay = RETRY_BASE_DELAY
        yield drill, session, "sandbox"

    with mock.patch("drtool.api.drill_target", drill_target), \
            mock.patch(f"{RunOptions.__module__}.SANDBOX_TIME_SCALE", TIME_SCALE):
        yield


def _invoke(argv: list[str]) -> tuple[int | None, str]:
    from drtool.cli import invoke

    out = io.StringIO()
    code: int | None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = invoke(argv)
        except BaseException as exc:  # noqa: BLE001 - an escape is itself the finding
            import traceback

            traceback.print_exc(file=out)
            code = None if not isinstance(exc, SystemExit) else int(exc.code or 0)
    return code, out.getvalue()


def _settled(sb: Any, before: EstateState, card: dict[str, Any] | None) -> list[Difference]:
    """Differences left once the simulator had SETTLE_S to apply the undos."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        diffs = compare(before, snapshot(sb))
        if card is not None:
            diffs = unexplained(diffs, card)
        if not diffs or time.monotonic() > deadline:
            return diffs
        time.sleep(0.25)


def run_cell(cell: Cell, drill_path: Path, results: Path, pool: SandboxPool | None = None) -> CellResult:
    """One cell on `pool`'s sandbox (re-provisioned), or on a sandbox of its own."""
    started = time.monotonic()
    injector = FaultInjector(kind=cell.kind, at=cell.n)
    doc = yaml.safe_load(drill_path.read_text())
    own = pool is None
    pool = SandboxPool() if pool is None else pool
    try:
        sb = pool.get(drill_path.parent / doc["sandbox"]["estate"])
        before = snapshot(sb)
        with _target(sb, injector):
            code, output = _invoke(["run", str(drill_path), "--sandbox", "--yes", "--results", str(results)])
        result = CellResult(cell, code, list(injector.calls), list(injector.injected), output=output)
        card = judge(result, results / doc["name"])
        diffs = _settled(sb, before, card)
        result.problems += [f"estate: {d} (not undone, not in rollback.remaining)" for d in diffs]
        errors = list(sb.simulator.errors) if sb.simulator is not None else []
        result.problems += [f"simulator error: {e}" for e in errors]
    finally:
        if own:
            pool.close()
    result.seconds = time.monotonic() - started
    return result


def _reason(output: str) -> str:
    """The run's own `reason:` line (or its last line), for a failing cell's message."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return next((line for line in lines if line.startswith(("reason:", "error:"))), lines[-1] if lines else "")


def judge(result: CellResult, drill_results: Path) -> dict[str, Any] | None:
    """Exit code, traceback and scorecard checks; returns the scorecard (None if absent)."""
    problems = result.problems
    transient = result.cell.kind == "throttling" or (result.cell.kind == "read-timeout" and is_read(result.hit))
    if result.injected and transient and result.exit_code != 0:
        # drtool/aws/retry.py: throttling is retried on every call, a lost read on reads.
        problems.append(f"retry: a transient {result.cell.kind} on {result.hit} changed the outcome "
                        f"(exit {result.exit_code}, the un-faulted run exits 0): {_reason(result.output)}")
    if "Traceback" in result.output or "internal error" in result.output:
        problems.append("traceback / internal error in the output")
    if result.exit_code not in EXIT_CODES:
        problems.append(f"exit code {result.exit_code} not one of {sorted(EXIT_CODES)}")
    runs = sorted(p for p in drill_results.iterdir() if p.is_dir()) if drill_results.is_dir() else []
    if len(runs) > 1:
        problems.append(f"{len(runs)} run folders for one run")
    if not runs:                               # never started: only a refusal/abort before any change
        if result.exit_code not in (3, 4):
            problems.append(f"no run started, yet exit {result.exit_code}")
        return {}
    card_path = runs[-1] / "scorecard.json"
    if not card_path.is_file():
        problems.append("no scorecard.json although the run started (journal exists)")
        return None
    card = json.loads(card_path.read_text())
    result.status = card["run"]["status"]
    remaining = card["rollback"]["remaining"]
    result.remaining = len(remaining)
    if card["run"]["exit_code"] != result.exit_code:
        problems.append(f"exit {result.exit_code} but the scorecard says {card['run']['exit_code']}")
    expected = {"passed": {0}, "failed": {1}, "aborted": {3}, "rollback-incomplete": {5}}.get(result.status, set())
    if result.exit_code not in expected:
        problems.append(f"status {result.status} with exit {result.exit_code}")
    if result.exit_code in (0, 1) and remaining:
        problems.append(f"exit {result.exit_code} with rollback.remaining {remaining}")
    if result.exit_code == 5 and not remaining:
        problems.append("exit 5 but rollback.remaining is empty")
    return card
