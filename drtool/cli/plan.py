"""`drtool plan DRILL`"""

from __future__ import annotations

import click

from drtool.cli.common import aws_options
from drtool.cli.execute import events_option
from drtool.cli.matrix import matrix_options
from drtool.cli.params import param_option, split_params


@click.command("plan")
@click.argument("drill", type=click.Path())
@click.option("--sandbox", is_flag=True, help="Plan against the drill's offline sandbox estate.")
@click.option("--seed", type=int, default=None, help="Seed for random target selection.")
@matrix_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as one JSON document on stdout.")
@param_option
@events_option()
@aws_options
def command(drill: str, sandbox: bool, seed: int | None, as_json: bool, params: tuple[str, ...],
            events: str | None, profile: str | None, region: str | None) -> int:
    """Resolve targets read-only, apply guardrails, print what `run` would do and the IAM
    actions it needs. Changes nothing; exit 4 if a guardrail would refuse."""
    from drtool.cli.execute import print_plan
    from drtool.errors import UsageError

    if as_json and events:
        raise UsageError("--json and --events json both write stdout; give one")
    return print_plan(drill, sandbox=sandbox, profile=profile, region=region, seed=seed,
                      params=split_params(params), as_json=as_json, events=events)
