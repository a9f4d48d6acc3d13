"""`drtool validate PATH...`"""

from __future__ import annotations

import click

from drtool.cli.params import param_option, split_params


@click.command("validate")
@click.argument("paths", nargs=-1, required=True)
@param_option
def command(paths: tuple[str, ...], params: tuple[str, ...]) -> int:
    """Check drills and scenarios (files or folders); never touches AWS.

    Every problem of a file is printed in one pass as file:line:col: message (a drill's
    broken scenario is listed with the scenario's own file); exit 2 if there is any.
    With --param, every drill is checked with those parameter values.
    """
    from drtool.api import validate
    from drtool.errors import EXIT_INVALID, UsageError

    results = validate(list(paths), split_params(params))
    if not results:
        raise UsageError(f"no YAML files found in {', '.join(paths)}", "give drill/scenario files or folders")
    bad = 0
    printed: set[str] = set()
    for checked in results:
        if checked.problems:
            bad += 1
            for problem in checked.problems:
                line = str(problem)
                if line not in printed:           # a scenario's problems, once for all its drills
                    printed.add(line)
                    click.echo(line, err=True)
        else:
            click.echo(f"ok  {checked.path} ({checked.kind} {checked.name})")
    if bad:
        click.echo(f"{bad} of {len(results)} file(s) have problems", err=True)
        return EXIT_INVALID
    return 0
