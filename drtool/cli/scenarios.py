"""`drtool scenarios`"""

from __future__ import annotations

from typing import Any

import click


@click.command("scenarios")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def command(as_json: bool) -> int:
    """List the scenario library with its parameters."""
    import json

    from drtool.documents import ScenarioDoc, library_dirs, read, scenario_index

    rows: list[dict[str, Any]] = []
    for name, path in sorted(scenario_index(library_dirs()).items()):
        document = read(path)
        doc = document.doc
        if document.problems or not isinstance(doc, ScenarioDoc):
            click.echo(f"skipped {path}: not a valid scenario (`drtool validate {path}` says why)", err=True)
            continue
        rows.append({"name": name, "file": str(path), "description": doc.description.strip(),
                     "parameters": {k: {"type": v.type, "default": v.default, "description": v.description}
                                    for k, v in doc.parameters.items()},
                     "steps": {phase: [s.ref if s.form != "manual" else "manual" for s in getattr(doc, phase)]
                               for phase in ("inject", "recover", "verify")}})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        click.echo(click.style(row["name"], bold=True) + f"  {row['description']}")
        for pname, spec in row["parameters"].items():
            default = "" if spec["default"] is None else f" = {spec['default']!r}"
            click.echo(f"    {pname}: {spec['type']}{default}")
        for phase, refs in row["steps"].items():
            if refs:
                click.echo(f"    {phase}: {', '.join(refs)}")
        click.echo()
    return 0
