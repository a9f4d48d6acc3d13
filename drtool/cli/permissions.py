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
    found = set(regions)
    if not found:
        default = loaded.doc.aws.region or (loaded.doc.run.regions[0] if loaded.doc.run.regions else None)
        found = {s.region(default) for s in loaded.all_steps() if s.form != "manual"} | set(loaded.doc.run.regions)
        found |= {c.region for c in loaded.doc.guardrails.stop_conditions}
    click.echo(json.dumps(policy_for(loaded, sorted(r for r in found if r)), indent=2))
    return 0
