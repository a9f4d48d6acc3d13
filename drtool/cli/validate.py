"""`drtool validate PATH...`"""

from __future__ import annotations

import click

from drtool.cli.params import param_option, split_params


@click.command("validate")
@click.argument("paths", nargs=-1, required=True)
@param_option
@click.option("--services", "services_file", default=None, metavar="FILE",
              help="A services file (kind: services): warn where a drill is weaker than its service's tier.")
@click.option("--strict", is_flag=True, help="With --services: a drill weaker than its tier is a problem (exit 2).")
def command(paths: tuple[str, ...], params: tuple[str, ...], services_file: str | None, strict: bool) -> int:
    """Check drills, scenarios and services files (files or folders); never touches AWS.

    Every problem of a file is printed in one pass as file:line:col: message (a drill's
    broken scenario is listed with the scenario's own file); exit 2 if there is any.
    With --services, a drill whose objectives are weaker than its service's tier policy
    (or that names an unknown service) is a `warning:` line; with --strict too, exit 2.
    With --param, every drill is checked with those parameter values.
    """
    from drtool.api import validate, yaml_files
    from drtool.errors import EXIT_INVALID, UsageError

    if strict and not services_file:
        raise UsageError("--strict needs --services FILE")
    estate = None
    if services_file:
        from drtool.services.estate import load_services

        estate = load_services(services_file)         # DocumentError: exit 2 with every problem
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
            click.echo(f"ok  {checked.path} ({' '.join(str(p) for p in (checked.kind, checked.name) if p)})")
    weaker = []
    if estate is not None:
        from drtool.services.check import warnings_for

        weaker = warnings_for(estate, yaml_files(list(paths)))
        for problem in weaker:
            click.echo(f"{problem}" if strict else f"warning: {problem}", err=True)
    if bad:
        click.echo(f"{bad} of {len(results)} file(s) have problems", err=True)
        return EXIT_INVALID
    if weaker and strict:
        click.echo(f"{len(weaker)} drill objective(s) weaker than the tier policy (--strict)", err=True)
        return EXIT_INVALID
    return 0
