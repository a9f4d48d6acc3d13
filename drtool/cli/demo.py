"""`drtool demo`"""

from __future__ import annotations

import click

DEMO_DRILL = "checkout-region-loss.yaml"


@click.command("demo")
@click.option("--results", default="drill-results", show_default=True, help="Where to write the run folder.")
@click.option("--drill", "drill_name", default=DEMO_DRILL, show_default=True,
              help="Bundled drill to run (file name under the bundled drills/).")
def command(results: str, drill_name: str) -> int:
    """Run the bundled region-loss drill end to end in the offline sandbox.

    No AWS account, credentials or network needed: moto and drtool's simulator run on
    loopback. Writes the scorecard (measured RTO and RPO) and its reports under RESULTS.
    """
    from drtool.cli.execute import execute_run
    from drtool.documents import bundled_dir
    from drtool.errors import UsageError
    from drtool.sandbox import require_moto

    require_moto()  # exit 2 before anything else when the extra is missing

    drill = bundled_dir("drills") / drill_name
    if not drill.is_file():
        known = sorted(p.name for p in bundled_dir("drills").glob("*.yaml"))
        raise UsageError(f"no bundled drill {drill_name!r}", f"choose one of: {', '.join(known)}")
    click.echo(f"drtool demo: running {drill.name} in the offline sandbox (no AWS account needed)", err=True)
    return execute_run(str(drill), yes=True, results=results, formats=("md", "html", "junit"), sandbox=True,
                       assume_manual=True, seed=None, sign_key=None, retain=None, profile=None, region=None,
                       interactive=False)
