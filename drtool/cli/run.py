"""`drtool run DRILL`"""

from __future__ import annotations

import click

from drtool.cli.common import aws_options
from drtool.cli.execute import events_option, progress_option
from drtool.cli.params import param_option, split_params


@click.command("run")
@click.argument("drill", type=click.Path())
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (required when stdin is not a terminal).")
@click.option("--dry-run", is_flag=True, help="Same as `drtool plan`: resolve and print, change nothing.")
@click.option("--results", default="drill-results", show_default=True, envvar="DRTOOL_RESULTS",
              help="Results folder or s3://bucket/prefix (env DRTOOL_RESULTS).")
@click.option("--format", "formats", multiple=True, type=click.Choice(["json", "md", "html", "junit"]),
              help="Extra scorecard formats (json is always written). Repeatable.")
@click.option("--sandbox", is_flag=True, help="Run against the drill's offline sandbox estate.")
@click.option("--assume-manual", is_flag=True, help="Treat manual steps as done in non-interactive runs.")
@click.option("--seed", type=int, default=None, help="Seed for random target selection (recorded).")
@click.option("--sign-key", default=None, help="AWS KMS key (ECC_NIST_P256) to sign the scorecard digest.")
@click.option("--retain", default=None, help="Object Lock retention for s3:// results, e.g. 400d.")
@param_option
@events_option()
@progress_option
@aws_options
def command(drill: str, yes: bool, dry_run: bool, results: str, formats: tuple[str, ...], sandbox: bool,
            assume_manual: bool, seed: int | None, sign_key: str | None, retain: str | None,
            params: tuple[str, ...], events: str | None, progress: str,
            profile: str | None, region: str | None) -> int:
    """Run DRILL: inject the fault, drive recovery, verify, measure RTO/RPO, roll back, score.

    Exit 0 when every objective is met, 1 when one is missed, 3 when aborted (rolled
    back), 4 when a guardrail refuses, 5 when rollback is incomplete. While it runs, a live
    view on stderr shows the phase, the RTO budget and why each pending check fails.
    """
    from drtool.cli.execute import execute_run, print_plan

    if dry_run:
        return print_plan(drill, sandbox=sandbox, profile=profile, region=region, seed=seed,
                          params=split_params(params), events=events)
    return execute_run(drill, yes=yes, results=results, formats=formats, sandbox=sandbox,
                       assume_manual=assume_manual, seed=seed, sign_key=sign_key, retain=retain,
                       profile=profile, region=region, params=split_params(params), events=events,
                       progress=progress)
