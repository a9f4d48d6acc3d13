"""`drtool schema`"""

from __future__ import annotations

import click


@click.command("schema")
@click.option("--kind", type=click.Choice(["all", "drill", "scenario", "services"]), default="all")
@click.option("--scorecard", is_flag=True, help="Print the JSON Schema of drtool.scorecard/v1 instead.")
def command(kind: str, scorecard: bool) -> int:
    """Print the JSON Schema of drill, scenario and services documents (for
    yaml-language-server), or with --scorecard of the scorecard (drtool.scorecard/v1)."""
    import json

    if scorecard:
        from drtool.scorecard_model import scorecard_json_schema

        click.echo(json.dumps(scorecard_json_schema(), indent=2, sort_keys=True))
        return 0
    from drtool.documents import json_schema

    schema = json_schema()
    if kind != "all":
        schema = {"$schema": schema["$schema"], **schema["$defs"][kind], "$defs": schema["$defs"]}
    click.echo(json.dumps(schema, indent=2, sort_keys=True))
    return 0
