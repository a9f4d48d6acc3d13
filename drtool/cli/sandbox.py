"""`drtool sandbox up`: keep an offline sandbox running for rehearsing drills and the AWS CLI."""

from __future__ import annotations

import click

from drtool.cli.common import echo_err


@click.group("sandbox")
def command() -> None:
    """Run the offline AWS sandbox (a simulated estate on loopback; no AWS account needed)."""


@command.command("up")
@click.option("--estate", "estate", default="webshop", show_default=True, metavar="NAME|FILE",
              help="Bundled estate name or path to an estate YAML.")
def up(estate: str) -> int:
    """Start a sandbox, print the environment to export, and run until Ctrl-C or SIGTERM."""
    import shlex
    import signal
    import threading

    from drtool.sandbox import Sandbox, require_moto

    sandbox = Sandbox.load(estate)   # a bad estate is exit 2 with or without the extra
    require_moto()  # exit 2 before starting anything when the extra is missing
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        sandbox.start()
        values = sandbox.values()
        click.echo(f"# drtool sandbox: estate {sandbox.estate.name!r} is up "
                   f"(started in {sandbox.startup_seconds:.1f}s). Paste into your shell:")
        for key, value in sandbox.env().items():
            click.echo(f"export {key}={shlex.quote(value)}")
        click.echo("unset AWS_PROFILE AWS_SESSION_TOKEN")
        click.echo(f"# global endpoint: {values['endpoint']}/health (follows DNS)")
        for region in sandbox.estate.regions:
            click.echo(f"# {region} endpoint: {values['endpoint.' + region]}/health")
        click.echo("# with these exported, `drtool plan/run DRILL` and the AWS CLI act on this sandbox "
                   "(`--sandbox` starts a private one instead); Ctrl-C stops it")
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)   # a second Ctrl-C must not cut the stop short
        try:
            sandbox.stop()
        finally:
            signal.signal(signal.SIGINT, interrupt)
            signal.signal(signal.SIGTERM, previous)
    echo_err("sandbox stopped")
    return 0
