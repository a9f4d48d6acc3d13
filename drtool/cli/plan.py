"""`drtool plan DRILL`"""

from __future__ import annotations

import click

from drtool.cli.common import aws_options
from drtool.cli.matrix import matrix_options


@click.command("plan")
@click.argument("drill", type=click.Path())
@click.option("--sandbox", is_flag=True, help="Plan against the drill's offline sandbox estate.")
@click.option("--seed", type=int, default=None, help="Seed for random target selection.")
@matrix_options
@aws_options
def command(drill: str, sandbox: bool, seed: int | None, profile: str | None, region: str | None) -> int:
    """Resolve targets read-only, apply guardrails, print what `run` would do and the IAM
    actions it needs. Changes nothing; exit 4 if a guardrail would refuse."""
    from drtool.cli.execute import print_plan

    return print_plan(drill, sandbox=sandbox, profile=profile, region=region, seed=seed)
