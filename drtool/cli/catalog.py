"""`drtool catalog`"""

from __future__ import annotations

import click


@click.command("catalog")
def command() -> int:
    """Print every action and probe with its parameters, undo and IAM actions (Markdown)."""
    from drtool.catalog import catalog_markdown

    click.echo(catalog_markdown(), nl=False)
    return 0
