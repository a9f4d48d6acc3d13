"""`drtool verify` beyond the scorecard: its journal and its rendered reports.

- journal.jsonl: the hash chain is intact (`drtool.journal.journal_problems`), it is the
  journal of this run, its head is the `integrity.journal_sha256` the scorecard was sealed
  with, and folding it again (`drtool.scorecard.build_scorecard`) gives this scorecard. A
  re-sealed scorecard whose status or RTO was edited therefore fails against its journal.
- scorecard.md / scorecard.html / junit.xml: each names the scorecard digest it was
  rendered from; rendered by this drtool version, it must equal a fresh rendering.
"""

from __future__ import annotations

import json
import re
from typing import Any

from drtool import __version__
from drtool.integrity import canonical_json, integrity_field, is_v2
from drtool.journal import JOURNAL_NAME, chain_digests, is_chained, journal_problems
from drtool.outputs.store import RunRecord

REPORTS = {"scorecard.md": "md", "scorecard.html": "html", "junit.xml": "junit"}
_MARKERS = {   # (scorecard digest, renderer version) as each format records them
    "md": (re.compile(r"<!-- drtool scorecard-sha256=(\S+) renderer=\S+ -->"),
           re.compile(r"<!-- drtool scorecard-sha256=\S+ renderer=(\S+) -->")),
    "html": (re.compile(r'<meta name="drtool-scorecard-sha256" content="([^"]*)">'),
             re.compile(r'<meta name="drtool-renderer" content="([^"]*)">')),
    "junit": (re.compile(r'<property name="integrity.sha256" value="([^"]*)" />'),
              re.compile(r'<property name="drtool.renderer" value="([^"]*)" />')),
}
# Fields a fold of the journal must reproduce whatever drtool version wrote the scorecard.
_KEY_FIELDS = (("run", "id"), ("run", "status"), ("run", "started_at"), ("run", "ended_at"),
               ("objectives", "rto"), ("objectives", "rpo"), ("rollback", "status"))


def _pick(doc: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def journal_findings(record: RunRecord, scorecard: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(problems, notes) for the run's journal.jsonl."""
    sealed_head = integrity_field(scorecard, "journal_sha256")   # v2: the scorecard vouches for a journal
    if JOURNAL_NAME not in record.files:
        if sealed_head and record.in_store:
            return [f"{JOURNAL_NAME} missing (the scorecard was sealed with one)"], []
        return [], [f"{record.location}: no {JOURNAL_NAME} next to it; not checked against its journal"]
    data = record.read_file(JOURNAL_NAME)
    if not is_chained(data):
        if sealed_head:
            return [f"{JOURNAL_NAME} carries no chain digests (replaced by an unchained journal)"], []
        return [], [f"{record.location}: {JOURNAL_NAME} predates hash chaining; not checked"]
    problems = [f"{JOURNAL_NAME}: {p}" for p in journal_problems(data)]
    if problems:
        return problems, []
    events = [json.loads(line) for line in data.decode("utf-8").splitlines() if _is_json(line)]
    run_id = (scorecard.get("run") or {}).get("id")
    if events[0].get("run_id") != run_id:
        return [f"{JOURNAL_NAME} is the journal of run {events[0].get('run_id')!r}, not {run_id!r}"], []
    heads = chain_digests(data)
    if sealed_head is not None and sealed_head != heads[-1]:
        if sealed_head in heads:
            extra = len(heads) - 1 - heads.index(sealed_head)
            problems.append(f"{JOURNAL_NAME} has {extra} line(s) after the head the scorecard was sealed with "
                            "(appended later; run `drtool rollback` to re-seal, or the journal was extended)")
        else:
            problems.append(f"{JOURNAL_NAME} head is not integrity.journal_sha256 (the journal was rewritten)")
    problems += _fold_problems(events, scorecard)
    return problems, []


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return bool(line.strip())


def _fold_problems(events: list[dict[str, Any]], scorecard: dict[str, Any]) -> list[str]:
    from drtool.scorecard import build_scorecard

    try:
        folded = build_scorecard(events)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        return [f"{JOURNAL_NAME} does not fold into a scorecard ({type(exc).__name__}: {exc})"]
    body = {k: v for k, v in scorecard.items() if k != "integrity"}
    same_version = (scorecard.get("run") or {}).get("tool_version") == __version__
    if same_version and canonical_json(folded) == canonical_json(body):
        return []
    differing = [".".join(p) for p in _KEY_FIELDS if canonical_json(_pick(folded, p)) != canonical_json(_pick(body, p))]
    if differing:
        return [f"the scorecard does not match its journal: {', '.join(differing)} differ "
                "(the scorecard was edited and re-sealed, or the journal was edited)"]
    if same_version:
        return ["the scorecard does not match a fresh fold of its journal (edited and re-sealed)"]
    return []


def report_findings(record: RunRecord, scorecard: dict[str, Any],
                    attestations: list[dict[str, Any]]) -> tuple[list[str], list[str], int]:
    """(problems, notes, reports checked) for scorecard.md, scorecard.html and junit.xml."""
    from drtool.outputs import render

    problems: list[str] = []
    notes: list[str] = []
    checked = 0
    digest = integrity_field(scorecard, "sha256")
    for name, fmt in REPORTS.items():
        if name not in record.files:
            continue
        checked += 1
        try:
            content = record.read_file(name).decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"{name} is not UTF-8 text")
            continue
        digest_pattern, version_pattern = _MARKERS[fmt]
        found, renderer = digest_pattern.search(content), version_pattern.search(content)
        if found is None or renderer is None:
            if is_v2(scorecard):
                problems.append(f"{name} names no scorecard digest (replaced or edited)")
            else:
                notes.append(f"{record.location}: {name} predates report digests; not checked")
            continue
        if found.group(1) != digest:
            problems.append(f"{name} was rendered from scorecard {found.group(1)[:16]}..., "
                            f"not from this one ({str(digest)[:16]}...)")
            continue
        if renderer.group(1) != __version__:
            notes.append(f"{record.location}: {name} was rendered by drtool {renderer.group(1)}; "
                         "only its scorecard digest was checked")
            continue
        fresh = {render(scorecard, fmt)} | ({render(scorecard, fmt, attestations)} if attestations else set())
        if content not in fresh:
            problems.append(f"{name} differs from a fresh rendering of the scorecard it names (edited)")
    return problems, notes, checked
