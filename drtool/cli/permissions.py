"""`drtool permissions DRILL`"""

from __future__ import annotations

import click


@click.command("permissions")
@click.argument("drill", type=click.Path())
@click.option("--region", "regions", multiple=True, help="Scope to these regions (default: the drill's).")
def command(drill: str, regions: tuple[str, ...]) -> int:
    """Print the least-privilege IAM policy (JSON) for exactly what DRILL does. Never touches AWS.

    A drill whose steps act in other accounts (`aws.accounts`) gets one policy per account:
    `{"accounts": [{"account": null | NAME, "role_arn", "policy"}]}`, its own account first."""
    import json

    from drtool.documents import load_drill
    from drtool.permissions import policies_by_account, policy_for

    loaded = load_drill(drill)
    scope = sorted(regions) if regions else loaded.regions(loaded.home_region)
    if len(loaded.account_names()) > 1:
        click.echo(json.dumps({"accounts": policies_by_account(loaded, scope)}, indent=2))
    else:
        click.echo(json.dumps(policy_for(loaded, scope), indent=2))
    return 0
