"""Shared by the compare-and-swap undo tests: replay a context's journal through the real
`rollback.undo_all`, as the runner and `drtool rollback` do."""

from __future__ import annotations

from typing import Any

from drtool.errors import LEFT_AS_FOUND
from drtool.journal import read_journal
from drtool.registry import UNDOS
from drtool.rollback import undo_all


def rollback(ctx: Any) -> list[str]:
    """Run every pending undo of `ctx.journal` (newest first); return what remains changed."""
    return undo_all(read_journal(ctx.journal.path), lambda _region: ctx, ctx.journal)


def left_as_found(remaining: list[str]) -> list[str]:
    """The remaining items an undo left as found."""
    return [r for r in remaining if LEFT_AS_FOUND in r]


def replay(ctx: Any) -> list[str]:
    """Call every journaled undo directly, newest first (idempotence checks: no skipping)."""
    out = []
    for event in reversed(read_journal(ctx.journal.path)):
        if event["event"] == "change.intent" and event.get("undo"):
            entry = UNDOS.get(event["undo"]["name"])
            out.append(entry.func(ctx, entry.params.model_validate(event["undo"]["params"])))
    return out
