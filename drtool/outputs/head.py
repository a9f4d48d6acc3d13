"""The head pointer: `<results>/<drill>/HEAD.json` names the newest run and its digests.

A hash chain shows a run removed from its middle (the next run names a digest no run
has), but not the newest run removed or re-sealed: nothing points at it yet. The head
pointer does: it is rewritten after every scorecard write, and `drtool verify` over a
results folder checks that the newest stored run is the one it names, with the same
`sha256` and `chain_sha256`. Like the chain it is unsigned: it catches edits made without
also updating HEAD.json, and S3 versioning keeps every earlier version of it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drtool.outputs.store import HEAD, LocalStore, S3Store

HEAD_SCHEMA = "drtool.head/v1"


def head_record(scorecard: dict[str, Any]) -> dict[str, Any]:
    """The head pointer for a drill whose newest run is `scorecard`."""
    run: dict[str, Any] = scorecard["run"] if isinstance(scorecard.get("run"), dict) else {}
    integrity: dict[str, Any] = scorecard["integrity"] if isinstance(scorecard.get("integrity"), dict) else {}
    return {"schema": HEAD_SCHEMA, "drill": run.get("drill"), "run_id": run.get("id"),
            "started_at": run.get("started_at"), "sha256": integrity.get("sha256"),
            "chain_sha256": integrity.get("chain_sha256")}


def write_head(drill_dir: Path, scorecard: dict[str, Any]) -> Path | None:
    """Point `<drill_dir>/HEAD.json` at `scorecard` unless a newer run is already the head
    (a crashed older run scored later by `drtool rollback` does not move it back)."""
    path = Path(drill_dir) / HEAD
    record = head_record(scorecard)
    try:
        current = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        current = None
    if (isinstance(current, dict) and current.get("run_id") != record["run_id"]
            and str(current.get("started_at") or "") > str(record["started_at"] or "")):
        return None
    tmp = path.with_name(f".{HEAD}.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_head(store: LocalStore | S3Store, drill: str) -> tuple[dict[str, Any] | None, str | None]:
    """(HEAD.json of `drill`, None), or (None, why there is none)."""
    try:
        data = store.head_bytes(drill)
    except OSError:
        return None, f"no {HEAD}"
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{HEAD} is not readable JSON ({exc})"
    if not isinstance(doc, dict) or doc.get("schema") != HEAD_SCHEMA:
        return None, f"{HEAD} is not a {HEAD_SCHEMA} document"
    return doc, None


def head_problems(head: dict[str, Any], runs: list[dict[str, Any]]) -> list[str]:
    """Compare the head pointer with the scorecards stored for its drill."""
    if not runs:
        return [f"{HEAD} names run {head.get('run_id')}, but no run of this drill is stored (deleted)"]
    newest = max(runs, key=lambda sc: (str((sc.get("run") or {}).get("started_at") or ""),
                                       str((sc.get("run") or {}).get("id") or "")))
    named = [sc for sc in runs if (sc.get("run") or {}).get("id") == head.get("run_id")]
    if not named:
        return [f"{HEAD} names run {head.get('run_id')} as the newest, but it is not stored "
                "(the newest run was deleted)"]
    problems = []
    newest_id = (newest.get("run") or {}).get("id")
    if newest_id != head.get("run_id") and str((newest.get("run") or {}).get("started_at") or "") > str(
            head.get("started_at") or ""):
        problems.append(f"run {newest_id} is newer than the head {head.get('run_id')} named in {HEAD} "
                        "(added without updating the head pointer)")
    integrity: dict[str, Any] = named[0]["integrity"] if isinstance(named[0].get("integrity"), dict) else {}
    for key in ("sha256", "chain_sha256"):
        if head.get(key) and integrity.get(key) != head.get(key):
            problems.append(f"run {head.get('run_id')}: {key} {str(integrity.get(key))[:16]}... is not the "
                            f"{str(head.get(key))[:16]}... recorded in {HEAD} (re-sealed or replaced)")
    return problems
