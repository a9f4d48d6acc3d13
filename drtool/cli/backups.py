"""`drtool backups check`: is every tagged resource's newest recovery point within the RPO?"""

from __future__ import annotations

from typing import Any

import click

from drtool.cli.common import aws_options, echo_err


def parse_tags(values: tuple[str, ...]) -> dict[str, list[str]]:
    """`K=V` options as key -> values (different keys must all match; a repeated key is OR)."""
    from drtool.errors import UsageError

    tags: dict[str, list[str]] = {}
    for value in values:
        key, sep, tag_value = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--tag expects KEY=VALUE, got {value!r}", "for example --tag app=checkout")
        tags.setdefault(key.strip(), [])
        if tag_value not in tags[key.strip()]:
            tags[key.strip()].append(tag_value)
    return tags


def parse_rpo(value: str) -> float:
    from drtool.durations import parse_duration
    from drtool.errors import UsageError

    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"--rpo: {exc}") from None
    if seconds <= 0:
        raise UsageError(f"--rpo must be more than zero, got {value!r}")
    return seconds


@click.group("backups")
def command() -> None:
    """Backup posture: newest recovery point age vs RPO, cross-region copies."""


@command.command("check", short_help="Newest recovery point age vs RPO, and copies; exit 1 on any violation.")
@click.option("--rpo", required=True, metavar="DURATION",
              help="Oldest acceptable newest recovery point, e.g. 24h, 15m, 7d.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE",
              help="Select resources with this tag; repeat to require several (default: every tagged resource).")
@click.option("--copy-region", "copy_regions", multiple=True, metavar="REGION",
              help="Require a copy no older than the RPO in this region; repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines instead of a table.")
@click.option("--org", is_flag=True, help="Check every ACTIVE account of the AWS Organization (management "
              "account or delegated administrator credentials).")
@click.option("--ou", "ous", multiple=True, metavar="OU",
              help="With --org: only accounts in this OU and its child OUs; repeatable.")
@click.option("--role", metavar="NAME", help="With --org: the role to assume in each account.")
@click.option("--workers", type=click.IntRange(1, 64), default=16, show_default=True,
              help="With --org: account x region checks run at once.")
@aws_options(multiple_regions=True)
def check(rpo: str, tags: tuple[str, ...], copy_regions: tuple[str, ...], as_json: bool, org: bool,
          ous: tuple[str, ...], role: str | None, workers: int, profile: str | None, region: tuple[str, ...]) -> int:
    """Check EBS volumes, RDS instances/clusters, DynamoDB tables and EFS file systems
    (snapshots, on-demand backups, point-in-time recovery and AWS Backup recovery points).

    With --org, every account (or every account under --ou) is checked in every region
    through the role --role, and one report is merged; accounts or regions that could
    not be read are listed and make the check fail.

    Exit 0 when every selected resource complies, 1 when any violates (or, with --org,
    an account could not be read), 2 for bad options, 3 when an AWS call fails. Read-only.
    """
    import json

    from drtool.aws.errors import translate
    from drtool.aws.session import AwsSession
    from drtool.backups import check_backups
    from drtool.errors import EXIT_OBJECTIVE_MISSED, EXIT_OK, UsageError

    rpo_s = parse_rpo(rpo)
    tag_query = parse_tags(tags)
    if (ous or role) and not org:
        raise UsageError("--ou and --role need --org", "add --org to check the organization's accounts")
    if org and not role:
        raise UsageError("--org needs --role NAME", "the role drtool assumes in each account, e.g. --role DrtoolReadOnly")
    try:
        aws = AwsSession(profile=profile, region=region[0] if region else None)
    except Exception as exc:  # noqa: BLE001 - a missing profile and the like become one line
        raise translate(exc, "session") from exc
    regions = list(region) or [aws.default_region]
    if org:
        assert role is not None
        return _check_org(aws, role, list(ous), regions, tag_query, rpo_s, list(copy_regions), workers, as_json)
    report = check_backups(aws, regions=regions, tags=tag_query, rpo_s=rpo_s, copy_regions=list(copy_regions))
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(render_table(report))
    if not report.verdicts:
        echo_err("warning: no tagged resources matched; nothing was judged")
    return EXIT_OK if report.compliant else EXIT_OBJECTIVE_MISSED


def _check_org(aws: Any, role: str, ous: list[str], regions: list[str], tags: dict[str, list[str]], rpo_s: float,
               copy_regions: list[str], workers: int, as_json: bool) -> int:
    import json

    from drtool.backups.org import check_org, list_accounts
    from drtool.errors import EXIT_OBJECTIVE_MISSED, EXIT_OK

    accounts = list_accounts(aws, ous)
    report = check_org(aws, accounts, role=role, regions=regions, tags=tags, rpo_s=rpo_s,
                       copy_regions=copy_regions, workers=workers)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(render_table(report))
        for failure in report.failures:
            where = f" in {failure.region}" if failure.region else ""
            name = f" ({failure.name})" if failure.name else ""
            click.echo(f"NOT READ: account {failure.account}{name}{where}: {failure.error}")
    if not accounts:
        echo_err("warning: the organization (or OU) has no active account; nothing was checked")
    elif not report.verdicts:
        echo_err("warning: no tagged resources matched; nothing was judged")
    return EXIT_OK if report.compliant else EXIT_OBJECTIVE_MISSED


def render_table(report: Any) -> str:
    """A fixed-width table for people, then a one-line summary."""
    from drtool.durations import format_duration
    from drtool.timing import rfc3339

    org = hasattr(report, "accounts")
    header: tuple[str, ...] = ("TYPE", "ID", "REGION", "NEWEST RECOVERY POINT", "AGE", "COPIES", "OK", "REASON")
    rows: list[tuple[str, ...]] = [
        (v.type, v.id, v.region, rfc3339(v.newest_recovery_point_at) or "-", format_duration(v.age_s),
         ",".join(v.copy_regions) or "-", "yes" if v.compliant else "NO", v.reason) for v in report.verdicts]
    if org:
        header = ("ACCOUNT", *header)
        rows = [(v.account or "-", *row) for v, row in zip(report.verdicts, rows, strict=True)]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1]
             for row in [header, *rows]]
    bad = len(report.violations)
    copies = f", copies required in {', '.join(report.required_copy_regions)}" if report.required_copy_regions else ""
    lines.append("")
    scope = ""
    if org:
        unread = len({f.account for f in report.failures})
        scope = f" in {len(report.accounts)} account(s), {unread} not (fully) read"
    lines.append(f"{len(report.verdicts)} resource(s){scope}, {len(report.verdicts) - bad} compliant, {bad} violating "
                 f"(RPO {format_duration(report.rpo_s)}{copies}).")
    return "\n".join(lines)
