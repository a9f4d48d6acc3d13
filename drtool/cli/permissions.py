"""`drtool permissions DRILL`"""

from __future__ import annotations

import click


@click.command("permissions")
@click.argument("drill", type=click.Path())
@click.option("--region", "regions", multiple=True, help="Scope to these regions (default: the drill's).")
def command(drill: str, regions: tuple[str, ...]) -> int:
    """Print the least-privilege IAM policy (JSON) for exactly what DRILL does. Never touches AWS."""
    import json

    from drtool.documents import load_drill
    from drtool.permissions import policy_for

    loaded = load_drill(drill)
    scope = sorted(regions) if regions else loaded.regions(loaded.home_region)
    click.echo(json.dumps(policy_for(loaded, scope), indent=2))
    return 0
