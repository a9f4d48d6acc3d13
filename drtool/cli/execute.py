"""Shared by `run`, `plan` and `demo`: run a drill and print its summary.

Imports only click at module level; the library is imported inside functions.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click


def report(line: str) -> None:
    from drtool.redact import redact_text

    click.echo(redact_text(line), err=True)   # secrets and URL credentials never reach the terminal


def print_plan(drill: str, *, sandbox: bool, profile: str | None, region: str | None, seed: int | None) -> int:
    from drtool.api import drill_target
    from drtool.guardrails import enforce, prepare
    from drtool.plan_text import describe_plan
    from drtool.timing import SystemClock

    with drill_target(drill, sandbox=sandbox, profile=profile, region=region) as (loaded, session, mode):
        plan = prepare(loaded, session, SystemClock(), seed=seed, mode=mode)
        click.echo(describe_plan(plan))
        enforce(plan)
    click.echo("plan ok: nothing was changed")
    return 0


def _ask_manual(text: str) -> str | None:
    from drtool.run_types import operator as _operator

    click.echo(f"\nMANUAL STEP: {text}", err=True)
    if click.confirm("Done?", default=False, err=True):
        return click.prompt("Your name", default=_operator(), err=True)
    return None


def _confirm(plan_text: str) -> bool:
    click.echo(plan_text, err=True)
    return click.confirm("Run this drill? It changes the resources above", default=False, err=True)


def execute_run(drill: str, *, yes: bool, results: str, formats: tuple[str, ...], sandbox: bool,
                assume_manual: bool, seed: int | None, sign_key: str | None, retain: str | None,
                profile: str | None, region: str | None, interactive: bool | None = None) -> int:
    from drtool.api import drill_target
    from drtool.outputs.store import open_store
    from drtool.runner import RunOptions, run_drill

    with drill_target(drill, sandbox=sandbox, profile=profile, region=region) as (loaded, session, mode):
        remote = results.startswith("s3://")
        store = open_store(results, (lambda: session) if remote else None, retain=retain)
        if remote:
            store.preflight()                     # an unusable results bucket stops us before any change
        local_root = Path("drill-results") if remote else Path(results)
        opts = RunOptions(results=local_root, yes=yes,
                          interactive=sys.stdin.isatty() if interactive is None else interactive,
                          assume_manual=assume_manual, mode=mode, seed=seed, confirm=_confirm,
                          ask_manual=_ask_manual, report=report, previous_sha256=store.previous_integrity,
                          store=store)
        result = run_drill(loaded, session, opts)
        written = _outputs(result, formats, sign_key, session)
        if remote:
            for item in store.publish(result.run_dir, loaded.name, result.scorecard["run"]["id"]):
                if item.problem:
                    report(f"warning: {item.location}: {item.problem}")
            report(f"published to {results}")
    print_summary(result.scorecard, result.run_dir, written)
    return result.exit_code


def _outputs(result: Any, formats: tuple[str, ...], sign_key: str | None, session: Any) -> list[Path]:
    from drtool.outputs import write_formats

    written = write_formats(result.run_dir, result.scorecard, [f for f in formats if f != "json"])
    if sign_key:
        from drtool.signing import sign_scorecard, write_signature

        written.append(write_signature(result.run_dir, sign_scorecard(session, sign_key, result.scorecard)))
    return written


def print_summary(card: dict[str, Any], run_dir: Path, written: list[Path]) -> None:
    from drtool.durations import format_duration

    run, rto, rpo = card["run"], card["objectives"]["rto"], card["objectives"]["rpo"]
    verdict = {"passed": "PASSED", "failed": "FAILED", "aborted": "ABORTED",
               "rollback-incomplete": "ROLLBACK INCOMPLETE"}[run["status"]]

    def objective(name: str, o: dict[str, Any]) -> str:
        if o.get("target_s") is None and o.get("measured_s") is None:
            return f"{name} -"
        met = {True: "met", False: "MISSED", None: "no target"}[o.get("met")]
        method = f", {o['method']}" if o.get("method") else ""
        return f"{name} {format_duration(o.get('measured_s'))} / target {format_duration(o.get('target_s'))} ({met}{method})"

    from drtool.outputs.view import impact_line
    from drtool.scorecard import describe_remaining

    click.echo(f"\n{verdict}  {run['drill']}  run {run['id']}  [{run['mode']}]")
    if run.get("reason"):
        click.echo(f"  reason:    {run['reason']}")
    click.echo(f"  {objective('RTO', rto)}")
    click.echo(f"  impact:    {impact_line(card)}")
    click.echo(f"  {objective('RPO', rpo)}")
    click.echo(f"  rollback:  {card['rollback']['status']}" +
               "".join(f"\n    still changed: {describe_remaining(r)}" for r in card["rollback"]["remaining"]))
    for item in card.get("follow_up", []):
        click.echo(f"  follow-up: {item['summary']} -> {item['how']}")
    click.echo(f"  scorecard: {run_dir / 'scorecard.json'}")
    for path in written:
        click.echo(f"  report:    {path}")
