"""`drtool verify SCORECARD...`: exit 0 intact, 1 tampering found, 2 bad input."""

from __future__ import annotations

import click

from drtool.cli.common import aws_options


@click.command("verify", short_help="Check scorecard integrity: digest, hash chain, signature.")
@click.argument("scorecards", nargs=-1, required=True, metavar="SCORECARD...")
@click.option("--kms", is_flag=True,
              help="Also check signatures with AWS KMS Verify (kms:Verify, kms:GetPublicKey).")
@click.option("--public-key", "public_keys", multiple=True, type=click.Path(dir_okay=False),
              help="Trusted signing public key (PEM file); signatures by any other key fail. Repeatable.")
@click.option("--require-signature", is_flag=True, help="Count an unsigned scorecard or attestation as tampering.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@aws_options
@click.pass_context
def command(ctx: click.Context, scorecards: tuple[str, ...], kms: bool, public_keys: tuple[str, ...],
            require_signature: bool, as_json: bool, profile: str | None, region: str | None) -> None:
    """Check scorecards (files, run folders, results folders or s3:// URLs): each digest,
    each drill's hash chain across the given and stored runs (gaps, forks), signatures
    (scorecard.sig.json, offline from the recorded public key; with --kms also via KMS)
    and review attestations next to each scorecard.

    Also each run's journal (hash chain, same run, folds into the scorecard), its reports
    (rendered from this scorecard, unedited) and the drill's head pointer (HEAD.json: the
    newest run was neither deleted nor re-sealed).

    Without signatures this proves consistency, not authorship: whoever can rewrite the
    whole store can rewrite it consistently. Sign with `run --sign-key` and pin the key
    with --public-key for that.

    Exit 0 when everything is intact, 1 when tampering is found, 2 for bad input.
    """
    import json
    from pathlib import Path

    from drtool.errors import UsageError
    from drtool.outputs.locate import locate
    from drtool.outputs.store import session_factory_for
    from drtool.outputs.verification import LIMITS, Options, collect_heads, render, verify_runs
    from drtool.signing import public_key_fingerprint

    trusted = set()
    for path in public_keys:
        try:
            trusted.add(public_key_fingerprint(Path(path).read_text(encoding="ascii")))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: not a readable PEM public key ({exc})") from None
    factory = session_factory_for(profile, region)
    located = locate(list(scorecards), factory)
    report = verify_runs(located.population(), Options(kms_session=factory() if kms else None,
                                                       trusted_keys=frozenset(trusted),
                                                       require_signature=require_signature),
                         heads=collect_heads(located))
    if as_json:
        click.echo(json.dumps({"intact": report.intact,
                               "checked": [{"location": w, "result": r} for w, r in report.checked],
                               "problems": [{"location": w, "problem": p} for w, p in report.issues],
                               "notes": report.notes, "limits": LIMITS}, indent=2))
    else:
        click.echo(render(report), nl=False)
    ctx.exit(0 if report.intact else 1)
