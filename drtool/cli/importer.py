"""`drtool import fis TEMPLATE.json` / `drtool import chaostoolkit EXPERIMENT.json|yaml`"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


@click.group("import")
def command() -> None:
    """Turn an AWS FIS experiment template or a Chaos Toolkit experiment into a drtool
    scenario and drill skeleton (never touches AWS). What could not be mapped is printed
    and written as comments at the top of the scenario; the output passes `drtool validate`.
    """


def _options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--force", is_flag=True, help="Overwrite existing files.")(func)
    func = click.option("--region", default=None, metavar="REGION",
                        help="Region the drill binds (default: from the source's ARNs/configuration).")(func)
    func = click.option("--name", default=None, help="Scenario and drill name (default: from the file name).")(func)
    return click.option("--out", default=".", show_default=True, type=click.Path(file_okay=False),
                        help="Writes OUT/scenarios/NAME.yaml and OUT/drills/NAME.yaml.")(func)


def _run(kind: str, path: str, out: str, name: str | None, region: str | None, force: bool) -> int:
    from pathlib import Path

    from drtool.documents.regions import check_region
    from drtool.errors import EXIT_INVALID, UsageError
    from drtool.importers import read_source, write_result
    from drtool.importers.output import check_written, slug

    if region and check_region(region):
        raise UsageError(f"--region: {check_region(region)}")
    if name is not None and slug(name, "") != name:
        raise UsageError(f"--name {name!r}: use lowercase letters, digits, '.', '_' and '-'",
                         f"for example --name {slug(name)}")
    data = read_source(path)
    doc_name = name or slug(Path(path).stem)
    if kind == "fis":
        from drtool.importers.fis import from_fis

        result = from_fis(data, name=doc_name, source=f"AWS FIS template {Path(path).name}", region=region)
    else:
        from drtool.importers.chaostoolkit import from_chaostoolkit

        result = from_chaostoolkit(data, name=doc_name, source=f"Chaos Toolkit experiment {Path(path).name}",
                                   region=region)
    written = write_result(result, out, force=force)
    for item in result.unmapped:
        click.echo(f"not mapped: {item}", err=True)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    problems = check_written(written)
    for problem in problems:
        click.echo(str(problem), err=True)
    for file in written:
        click.echo(f"wrote {file}")
    if problems:
        click.echo("the imported documents do not validate (a bug in the importer: please report it)", err=True)
        return EXIT_INVALID
    steps = len(result.scenario["inject"])
    click.echo(f"{steps} inject step(s), {len(result.unmapped)} item(s) not mapped; "
               f"next: review, then `drtool validate {written[1]}`")
    return 0


@command.command("fis")
@click.argument("template", type=click.Path(dir_okay=False))
@_options
def fis(template: str, out: str, name: str | None, region: str | None, force: bool) -> int:
    """From an AWS FIS experiment template (JSON, as `aws fis get-experiment-template`
    prints its `experimentTemplate`, or as given to create-experiment-template)."""
    return _run("fis", template, out, name, region, force)


@command.command("chaostoolkit")
@click.argument("experiment", type=click.Path(dir_okay=False))
@_options
def chaostoolkit(experiment: str, out: str, name: str | None, region: str | None, force: bool) -> int:
    """From a Chaos Toolkit experiment (JSON or YAML)."""
    return _run("chaostoolkit", experiment, out, name, region, force)
