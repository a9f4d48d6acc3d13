"""The journal's hash chain: every line names the digest of the line before it."""

from __future__ import annotations

import json
from pathlib import Path

from drtool.journal import Journal, genesis_digest, journal_head, line_digest, read_journal, verify_journal
from drtool.timing import FakeClock


def _journal(path: Path, run_id: str = "run-1", n: int = 4) -> Path:
    journal = Journal(path, FakeClock())
    journal.write("run.started", run_id=run_id, drill="d")
    for i in range(n):
        journal.write("note", message=f"event {i}")
    journal.close()
    return path


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_each_line_chains_to_the_previous(tmp_path):
    path = _journal(tmp_path / "journal.jsonl")
    lines = _lines(path)
    assert json.loads(lines[0])["prev"] == genesis_digest("run-1")
    for before, line in zip(lines, lines[1:], strict=False):
        assert json.loads(line)["prev"] == line_digest(before)
    assert verify_journal(path) == []
    assert journal_head(path) == line_digest(lines[-1])


def test_edited_line_breaks_the_chain(tmp_path):
    path = _journal(tmp_path / "journal.jsonl")
    lines = _lines(path)
    lines[2] = lines[2].replace("event 1", "event X")
    path.write_text("\n".join(lines) + "\n")
    assert verify_journal(path) == ["line 3 (note): its content does not match its sha256 (edited)",
                                    "line 4 (note): chain broken: prev does not match the digest of the line "
                                    "before (a line was edited, inserted or removed)"]


def test_edited_last_line_is_found(tmp_path):
    path = _journal(tmp_path / "journal.jsonl")
    path.write_text(path.read_text().replace("event 3", "event X"))
    assert verify_journal(path) == ["line 5 (note): its content does not match its sha256 (edited)"]


def test_removed_and_reordered_lines_are_found(tmp_path):
    path = _journal(tmp_path / "journal.jsonl")
    lines = _lines(path)
    path.write_text("\n".join(lines[:2] + lines[3:]) + "\n")
    assert any("chain broken" in p for p in verify_journal(path))
    assert any("seq" in p for p in verify_journal(path))
    path.write_text("\n".join([lines[0], lines[2], lines[1], *lines[3:]]) + "\n")
    assert any("chain broken" in p for p in verify_journal(path))


def test_truncating_the_end_is_not_visible_in_the_journal_alone(tmp_path):
    """A chain cannot show its own tail cut off: the scorecard's journal_sha256 does (verify)."""
    path = _journal(tmp_path / "journal.jsonl")
    head = journal_head(path)
    path.write_text("\n".join(_lines(path)[:-1]) + "\n")
    assert verify_journal(path) == [] and journal_head(path) != head


def test_lines_of_another_run_are_refused(tmp_path):
    path = _journal(tmp_path / "journal.jsonl")
    other = _journal(tmp_path / "other.jsonl", run_id="run-2")
    path.write_text(path.read_text() + other.read_text())
    problems = verify_journal(path)
    assert any("second run.started" in p for p in problems)
    assert any("belongs to run 'run-2'" in p for p in problems)


def test_unchained_or_headless_journal(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_text(json.dumps({"seq": 1, "event": "run.started", "run_id": "r"}) + "\n")
    assert any("no chain digests" in p for p in verify_journal(path))
    path.write_text(json.dumps({"seq": 1, "event": "note", "prev": "0" * 64}) + "\n")
    assert "does not start with run.started" in verify_journal(path)[0]


def test_appending_after_a_torn_line_continues_the_chain(tmp_path):
    path = _journal(tmp_path / "journal.jsonl")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"seq": 6, "event": "chan')          # SIGKILL mid-write
    journal = Journal(path, FakeClock())                     # drtool rollback appends
    journal.write("undo.done", intent=3)
    journal.close()
    events = read_journal(path)
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert verify_journal(path) == []
