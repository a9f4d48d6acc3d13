"""The `drtool` command line: a thin shell over the library.

Commands live one per module (`drtool/cli/<name>.py`, each exposing `command`) and are
imported only when invoked, so `drtool --help` never imports boto3. Library errors
become messages and exit codes here, in one place.
"""

from __future__ import annotations

import importlib
import sys

import click

from drtool import __version__

COMMANDS = {
    "validate": "drtool.cli.validate",
    "plan": "drtool.cli.plan",
    "run": "drtool.cli.run",
    "rollback": "drtool.cli.rollback",
    "report": "drtool.cli.report",
    "verify": "drtool.cli.verify",
    "history": "drtool.cli.history",
    "attest": "drtool.cli.attest",
    "backups": "drtool.cli.backups",
    "scenarios": "drtool.cli.scenarios",
    "catalog": "drtool.cli.catalog",
    "permissions": "drtool.cli.permissions",
    "schema": "drtool.cli.schema",
    "demo": "drtool.cli.demo",
    "sandbox": "drtool.cli.sandbox",
    "import": "drtool.cli.importer",
    "coverage": "drtool.cli.coverage",
    "dashboard": "drtool.cli.dashboard",
}

SHORT_HELP = {
    "validate": "Check drill and scenario files; print every problem as file:line:col.",
    "plan": "Resolve targets read-only, apply guardrails, show what run would do.",
    "run": "Run a drill: inject, recover, verify, measure RTO/RPO, roll back, score.",
    "rollback": "Undo what an interrupted or crashed run left changed.",
    "report": "Render a stored scorecard as md, html, junit or json.",
    "verify": "Check scorecard integrity: digest, hash chain, signature.",
    "history": "Past runs per drill: status, RTO/RPO trend, overdue drills.",
    "attest": "Record a human review of a scorecard (signed, separate document).",
    "backups": "Backup posture: newest recovery point age vs RPO, cross-region copies.",
    "scenarios": "List the scenario library with parameters.",
    "catalog": "List every action and probe: parameters, undo, IAM actions.",
    "permissions": "Print the least-privilege IAM policy a drill needs.",
    "schema": "Print the JSON Schema of drill and scenario documents.",
    "demo": "Run the bundled region-loss drill in the offline sandbox.",
    "sandbox": "Run the offline AWS sandbox for rehearsing your own drills.",
    "import": "Turn an AWS FIS template or Chaos Toolkit experiment into a scenario and drill.",
    "coverage": "Service x disruption coverage by tier, backup posture, open actions (exit 1 on gaps).",
    "dashboard": "Write a static HTML resilience dashboard: management, service owners, engineers.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMANDS.get(name)
        if module is None:
            return None
        try:
            return importlib.import_module(module).command
        except ModuleNotFoundError as exc:  # a command not built yet
            if exc.name != module:
                raise
            return None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, SHORT_HELP[name]) for name in COMMANDS])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="drtool")
@click.option("--debug", is_flag=True, envvar="DRTOOL_DEBUG", help="Show tracebacks.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Disaster-recovery drills against AWS that measure the RTO and RPO you achieve.

    Exit codes: 0 success, 1 objective missed / tampering / overdue, 2 invalid input,
    3 aborted and rolled back, 4 refused by a guardrail, 5 rollback incomplete.
    """
    ctx.obj = {"debug": debug}


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and map every library error to its exit code."""
    sys.exit(invoke(argv))


def invoke(argv: list[str] | None = None) -> int:
    from drtool.errors import EXIT_ABORTED, EXIT_INVALID, DrToolError

    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        result = cli.main(args=argv, prog_name="drtool", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_ABORTED
    except click.ClickException as exc:
        exc.show()
        return EXIT_INVALID if exc.exit_code in (1, 2) else exc.exit_code
    except DrToolError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        click.echo(f"error: {exc.render()}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return EXIT_ABORTED
    except Exception as exc:  # noqa: BLE001 - last line of defence: never a bare traceback
        from drtool.aws.errors import translate

        if debug:
            import traceback

            traceback.print_exc()
        err = translate(exc, "AWS call")   # maps every exception, never raises
        click.echo(f"error: {err.render()}", err=True)
        return err.exit_code
    return result if isinstance(result, int) else 0
