"""Backup posture and restore drills.

- `collect` (inventory.py) gathers tagged resources and their recovery points per region;
- `judge` (check.py) decides, purely, whether each one meets an RPO (and has copies);
- `check_backups` does both, for `drtool backups check` and for a drill's posture evidence;
- restore.py registers the restore actions, probes and undos (see its docstring).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drtool.backups.check import CheckReport, Verdict, judge, judge_resource
from drtool.backups.inventory import Inventory, TagQuery, collect
from drtool.backups.model import ProtectedResource, RecoveryPoint

__all__ = ["CheckReport", "Inventory", "ProtectedResource", "RecoveryPoint", "TagQuery", "Verdict",
           "check_backups", "collect", "judge", "judge_resource"]


def check_backups(aws: Any, *, regions: Sequence[str], tags: TagQuery, rpo_s: float,
                  copy_regions: Sequence[str] = (), now: float | None = None, workers: int = 8) -> CheckReport:
    """Collect then judge. `aws` is an AwsSession; `now` defaults to the wall clock after collecting."""
    inventory = collect(aws, regions=list(regions), tags=tags, copy_regions=list(copy_regions), workers=workers)
    if now is None:
        from drtool.timing import SystemClock

        now = SystemClock().now()
    return judge(inventory, rpo_s=rpo_s, now=now, copy_regions=list(copy_regions))
