"""Shared by `run`, `plan` and `demo`: run a drill and print its summary.

Imports only click at module level; the library is imported inside functions.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def events_option(name: str = "events") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--events json`: every journal event as one JSON line on stdout (people's text on stderr)."""
    return click.option("--events", name, type=click.Choice(["json"]), default=None,
                        help="Print every journal event as one JSON object per line on stdout; "
                             "human output then goes to stderr only.")


def progress_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--progress auto|rich|plain|off` for the live view on stderr."""
    return click.option("--progress", type=click.Choice(["auto", "rich", "plain", "off"]), default="auto",
                        show_default=True, envvar="DRTOOL_PROGRESS",
                        help="Live view on stderr: rich on a terminal, plain lines otherwise (auto).")(func)


def report(line: str) -> None:
    from drtool.redact import redact_text

    click.echo(redact_text(line), err=True)   # secrets and URL credentials never reach the terminal


def print_plan(drill: str, *, sandbox: bool, profile: str | None, region: str | None, seed: int | None,
               params: dict[str, str] | None = None, as_json: bool = False, events: str | None = None) -> int:
    """Print the plan (text, `--json`, or as `plan`/`plan.finished` JSON events), then
    refuse (exit 4) if a guardrail would."""
    import json

    from drtool.api import drill_target
    from drtool.guardrails import enforce, prepare
    from drtool.plan_text import describe_plan, plan_json
    from drtool.timing import SystemClock, rfc3339

    clock = SystemClock()
    with drill_target(drill, sandbox=sandbox, profile=profile, region=region, params=params) as (loaded, session, mode):
        plan = prepare(loaded, session, clock, seed=seed, mode=mode)
        body = plan_json(plan) if as_json or events else None
        if as_json:
            click.echo(json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False))
        else:
            click.echo(describe_plan(plan), err=bool(events))
        if events:
            from drtool.live import JsonEvents

            printer = JsonEvents()
            now = clock.now()
            printer.emit({"event": "plan", "t": now, "at": rfc3339(now), "mode": mode, "plan": body})
            printer.emit({"event": "plan.finished", "t": now, "at": rfc3339(now), "drill": loaded.name,
                          "status": "refused" if plan.refusals else "ok",
                          "refusals": (body or {}).get("refusals", [])})
        enforce(plan)
    click.echo("plan ok: nothing was changed", err=bool(events or as_json))
    return 0


def _manual_asker(view: Any) -> Callable[[str], str | None]:
    def ask(text: str) -> str | None:
        from drtool.run_types import operator as _operator

        with view.paused() if view is not None else contextlib.nullcontext():
            click.echo(f"\nMANUAL STEP: {text}", err=True)
            if click.confirm("Done?", default=False, err=True):
                return str(click.prompt("Your name", default=_operator(), err=True))
            return None

    return ask


def _confirm(plan_text: str) -> bool:
    click.echo(plan_text, err=True)
    return click.confirm("Run this drill? It changes the resources above", default=False, err=True)


def execute_run(drill: str, *, yes: bool, results: str, formats: tuple[str, ...], sandbox: bool,
                assume_manual: bool, seed: int | None, sign_key: str | None, retain: str | None,
                profile: str | None, region: str | None, interactive: bool | None = None,
                params: dict[str, str] | None = None, events: str | None = None, progress: str = "auto") -> int:
    """Run the drill with the live view on stderr (`progress`) and, with `events="json"`,
    every journal event as a JSON line on stdout (the summary then goes to stderr)."""
    from drtool.api import drill_target
    from drtool.live import JsonEvents, fan_out, make_view
    from drtool.outputs.store import S3Store, open_store
    from drtool.redact import redact_text
    from drtool.runner import RunOptions, run_drill

    view = make_view(progress, redact=redact_text)
    log = view.log if view is not None else report
    printer = JsonEvents() if events == "json" else None
    with drill_target(drill, sandbox=sandbox, profile=profile, region=region, params=params) as (loaded, session, mode):
        remote = results.startswith("s3://")
        store = open_store(results, (lambda: session) if remote else None, retain=retain)
        if isinstance(store, S3Store):
            store.preflight()                     # an unusable results bucket stops us before any change
        local_root = Path("drill-results") if remote else Path(results)
        opts = RunOptions(results=local_root, yes=yes,
                          interactive=sys.stdin.isatty() if interactive is None else interactive,
                          assume_manual=assume_manual, mode=mode, seed=seed, confirm=_confirm,
                          ask_manual=_manual_asker(view), report=log, previous_sha256=store.previous_integrity,
                          store=store,
                          on_event=fan_out(view.on_event if view else None, printer.emit if printer else None),
                          on_poll=view.on_poll if view is not None else None)
        with view if view is not None else contextlib.nullcontext():
            result = run_drill(loaded, session, opts)
        written = _outputs(result, formats, sign_key, session)
        if remote:
            for item in store.publish(result.run_dir, loaded.name, result.scorecard["run"]["id"]):
                if item.problem:
                    report(f"warning: {item.location}: {item.problem}")
            report(f"published to {results}")
    print_summary(result.scorecard, result.run_dir, written, err=printer is not None)
    return result.exit_code


def _outputs(result: Any, formats: tuple[str, ...], sign_key: str | None, session: Any) -> list[Path]:
    from drtool.outputs import write_formats

    written = write_formats(result.run_dir, result.scorecard, [f for f in formats if f != "json"])
    if sign_key:
        from drtool.signing import sign_scorecard, write_signature

        written.append(write_signature(result.run_dir, sign_scorecard(session, sign_key, result.scorecard)))
    return written


def print_summary(card: dict[str, Any], run_dir: Path, written: list[Path], err: bool = False) -> None:
    """The verdict, objectives, rollback and where the files are (on stderr when `err`)."""
    from drtool.durations import format_duration
    from drtool.estimate import truth_clause

    def echo(text: str) -> None:
        click.echo(text, err=err)

    run, rto, rpo = card["run"], card["objectives"]["rto"], card["objectives"]["rpo"]
    verdict = {"passed": "PASSED", "failed": "FAILED", "aborted": "ABORTED",
               "rollback-incomplete": "ROLLBACK INCOMPLETE"}[run["status"]]

    def objective(name: str, o: dict[str, Any]) -> str:
        if o.get("target_s") is None and o.get("measured_s") is None:
            return f"{name} -"
        met = {True: "met", False: "MISSED", None: "no target"}[o.get("met")]
        method = f", {o['method']}" if o.get("method") else ""
        truth = truth_clause(o.get("measured_s"), o.get("estimate_s"), o.get("estimate_half_width_s"))
        return f"{name} {format_duration(o.get('measured_s'))}{truth} / target {format_duration(o.get('target_s'))} ({met}{method})"

    from drtool.outputs.card import read_scorecard
    from drtool.outputs.readers import failed_by_service
    from drtool.outputs.view import impact_line, workaround_line
    from drtool.scorecard import describe_remaining

    typed = read_scorecard(card)

    echo(f"\n{verdict}  {run['drill']}  run {run['id']}  [{run['mode']}]")
    if run.get("reason"):
        echo(f"  reason:    {run['reason']}")
    echo(f"  {objective('RTO', rto)}")
    echo(f"  impact:    {impact_line(typed)}")
    if workaround := workaround_line(typed):
        echo(f"  workaround: {workaround}")
    for line in failed_by_service(typed):
        echo(f"  impaired:  {line}")
    echo(f"  {objective('RPO', rpo)}")
    echo(f"  rollback:  {card['rollback']['status']}" +
               "".join(f"\n    still changed: {describe_remaining(r)}" for r in card["rollback"]["remaining"]))
    for item in card.get("follow_up", []):
        echo(f"  follow-up: {item['summary']} -> {item['how']}")
    echo(f"  scorecard: {run_dir / 'scorecard.json'}")
    for path in written:
        echo(f"  report:    {path}")
