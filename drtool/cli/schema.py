"""`drtool schema`"""

from __future__ import annotations

import click


@click.command("schema")
@click.option("--kind", type=click.Choice(["all", "drill", "scenario"]), default="all")
def command(kind: str) -> int:
    """Print the JSON Schema of drill and scenario documents (for yaml-language-server)."""
    import json

    from drtool.documents import json_schema

    schema = json_schema()
    if kind != "all":
        schema = {"$schema": schema["$schema"], **schema["$defs"][kind], "$defs": schema["$defs"]}
    click.echo(json.dumps(schema, indent=2, sort_keys=True))
    return 0
