"""`drtool attest SCORECARD --reviewer NAME ...`: a signed human review, next to the scorecard."""

from __future__ import annotations

import click

from drtool.cli.common import aws_options


@click.command("attest", short_help="Record a human review of a scorecard (signed, separate document).")
@click.argument("scorecard")
@click.option("--reviewer", required=True, help="Who reviewed the results.")
@click.option("--finding", "findings", multiple=True, help="A finding (repeatable).")
@click.option("--action", "actions", multiple=True, metavar='"TEXT;owner=X;due=YYYY-MM-DD"',
              help="A corrective action with owner and due date (repeatable).")
@click.option("--risk-acceptance", help="A risk accepted instead of remediated, and by whom.")
@click.option("--sign-off", is_flag=True, help="The reviewer signs off the results.")
@click.option("--sign-key", metavar="KMS_KEY", help="Sign with this AWS KMS key (ECC_NIST_P256).")
@click.option("--now", hidden=True, help="Review time as RFC 3339 (tests).")
@aws_options
def command(scorecard: str, reviewer: str, findings: tuple[str, ...], actions: tuple[str, ...],
            risk_acceptance: str | None, sign_off: bool, sign_key: str | None, now: str | None,
            profile: str | None, region: str | None) -> None:
    """Write attestation-<time>.json next to SCORECARD (file, run folder or s3:// URL),
    referencing the scorecard's digest. The scorecard itself is never edited; `drtool
    verify` checks attestations along with the scorecard."""
    import json
    import time

    from drtool import __version__
    from drtool.errors import UsageError
    from drtool.outputs import attest
    from drtool.outputs.locate import locate
    from drtool.outputs.store import session_factory_for
    from drtool.signing import sign_statement, signature_name
    from drtool.timing import parse_rfc3339, rfc3339

    if not reviewer.strip():
        raise UsageError("--reviewer cannot be empty")
    try:
        instant = parse_rfc3339(now) if now else time.time()
        parsed = [attest.parse_action(a) for a in actions]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    factory = session_factory_for(profile, region)
    located = locate([scorecard], factory)
    if len(located.given) != 1:
        raise UsageError(f"{scorecard}: holds {len(located.given)} scorecards; name one run folder or file")
    record = located.given[0]
    instant = float(instant or 0.0)
    name = attest.filename(instant)
    while name in record.files:
        instant += 0.001
        name = attest.filename(instant)
    try:
        doc = attest.build(record.scorecard or {}, subject="scorecard.json", reviewer=reviewer.strip(),
                           findings=list(findings), actions=parsed, risk_acceptance=risk_acceptance,
                           sign_off=sign_off, now=instant, tool_version=__version__)
    except ValueError as exc:
        raise UsageError(f"{record.location}: {exc}", "run `drtool verify` on it") from None
    signature = None
    if sign_key:
        signature = sign_statement(factory(), sign_key, attest.statement(doc, name, rfc3339(instant) or ""))
    click.echo(record.write_file(name, (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()))
    if signature is not None:
        click.echo(record.write_file(signature_name(name),
                                     (json.dumps(signature, indent=2, sort_keys=True) + "\n").encode()))
