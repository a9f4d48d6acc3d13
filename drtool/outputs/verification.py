"""`drtool verify`: digests, the per-drill hash chain, signatures and attestations.

Every problem found is tampering evidence named with the file it concerns: a digest
mismatch, a chain gap or fork, a bad or mismatched signature, an attestation that no
longer matches, an S3 object overwritten or deleted under versioning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from drtool.integrity import (
    ChainEntry,
    chain_problem,
    chain_problems,
    digest_problem,
    integrity_field,
    is_v2,
    recorded_digest,
    recorded_previous,
)
from drtool.integrity import scorecard_digest as digest_of
from drtool.outputs import attest
from drtool.outputs.evidence import journal_findings, report_findings
from drtool.outputs.store import SCORECARD, RunRecord
from drtool.signing import public_key_fingerprint, signature_name, verify_offline, verify_with_kms


@dataclass
class Report:
    checked: list[tuple[str, str]] = field(default_factory=list)    # (location, what was checked)
    issues: list[tuple[str, str]] = field(default_factory=list)     # (location, what is wrong)
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.issues


@dataclass
class Options:
    kms_session: Any = None                  # check signatures with KMS Verify too
    trusted_keys: frozenset[str] = frozenset()  # pinned public-key fingerprints (sha256 of DER)
    require_signature: bool = False


def _json(record: RunRecord, name: str) -> tuple[Any, str | None]:
    try:
        return json.loads(record.read_file(name).decode("utf-8")), None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{name} is not readable JSON ({exc})"


def _signature(record: RunRecord, doc_name: str, expected: dict[str, Any], opts: Options) -> tuple[list[str], str]:
    """Problems with `<doc>.sig.json` and a short description of the signer."""
    sig_name = signature_name(doc_name)
    if sig_name not in record.files:
        return (["not signed (no " + sig_name + ")"] if opts.require_signature else []), "unsigned"
    sig, error = _json(record, sig_name)
    if error or not isinstance(sig, dict):
        return [error or f"{sig_name} is not a signature document"], "bad signature file"
    found = []
    statement = sig.get("statement")
    signed: dict[str, Any] = statement if isinstance(statement, dict) else {}
    for key, value in expected.items():
        if signed.get(key) != value:
            found.append(f"{sig_name}: signed {key} {str(signed.get(key))[:24]!r} does not match {str(value)[:24]!r}")
    problem = verify_offline(sig)
    if problem:
        found.append(f"{sig_name}: {problem}")
    try:
        fingerprint = public_key_fingerprint(str(sig.get("public_key_pem", "")))
    except ValueError:
        fingerprint = "?"
    if opts.trusted_keys and fingerprint not in opts.trusted_keys:
        found.append(f"{sig_name}: signed by key {fingerprint[:16]}..., which is not a trusted key")
    if opts.kms_session is not None and not problem:
        problem = verify_with_kms(opts.kms_session, sig)
        if problem:
            found.append(f"{sig_name}: {problem}")
    how = "KMS and offline" if opts.kms_session is not None else "offline"
    return found, f"signed by {sig.get('key_id')} (key sha256 {fingerprint[:16]}..., checked {how})"


def _attestations(record: RunRecord, scorecard: dict[str, Any], opts: Options) -> tuple[list[str], int]:
    found, count = [], 0
    for name in record.files:
        if not attest.is_attestation(name):
            continue
        count += 1
        doc, error = _json(record, name)
        if error:
            found.append(error)
            continue
        found += [f"{name}: {p}" for p in attest.problems(doc, scorecard)]
        if isinstance(doc, dict):
            expected = {"subject": name, "sha256": digest_of(doc),
                        "scorecard_sha256": (doc.get("subject") or {}).get("sha256")}
            found += _signature(record, name, expected, opts)[0]
    return found, count


def _check_run(record: RunRecord, opts: Options, report: Report) -> None:
    where = record.location
    for finding in record.findings:
        report.issues.append((where, finding))
    if record.scorecard is None:
        report.issues.append((where, record.error or "scorecard missing"))
        return
    scorecard = record.scorecard
    problem = digest_problem(scorecard)
    if problem:
        report.issues.append((where, problem))
    if record.in_store and record.store_key not in (None, (record.drill, record.run_id)):
        report.issues.append((where, f"stored under {'/'.join(record.store_key or ())} but records drill "
                                     f"{record.drill!r}, run {record.run_id!r} (moved or replaced)"))
    link = chain_problem(scorecard)
    if link:
        report.issues.append((where, link))
    expected = {"subject": SCORECARD, "sha256": digest_of(scorecard), "previous_sha256": recorded_previous(scorecard),
                "run_id": (scorecard.get("run") or {}).get("id")}
    if is_v2(scorecard):
        expected.update(chain_sha256=integrity_field(scorecard, "chain_sha256"),
                        journal_sha256=integrity_field(scorecard, "journal_sha256"))
    sig_problems, signer = _signature(record, SCORECARD, expected, opts)
    report.issues += [(where, p) for p in sig_problems]
    att_problems, count = _attestations(record, scorecard, opts)
    report.issues += [(where, p) for p in att_problems]
    journal_problems, notes = journal_findings(record, scorecard)
    report.issues += [(where, p) for p in journal_problems]
    reviews_docs = [doc for doc in (_json(record, n)[0] for n in record.files if attest.is_attestation(n))
                    if isinstance(doc, dict)]
    report_problems, report_notes, rendered = report_findings(record, scorecard, reviews_docs)
    report.issues += [(where, p) for p in report_problems]
    report.notes += notes + report_notes
    reviews = f", {count} attestation{'s' if count != 1 else ''}" if count else ""
    version = "v2 chain" if is_v2(scorecard) else "v1 (content only; previous_sha256 unprotected)"
    journal = "journal checked" if "journal.jsonl" in record.files else "no journal"
    report.checked.append((where, f"digest {'ok' if not problem else 'MISMATCH'}, {version}, {journal}, "
                                  f"{rendered} report(s), {signer}{reviews}"))


def verify_runs(records: list[RunRecord], opts: Options | None = None,
                heads: dict[str, tuple[dict[str, Any] | None, str | None]] | None = None) -> Report:
    """Check every run (given and stored siblings), each drill's chain and, for drills read
    from a results store, its head pointer (`heads`: drill -> (HEAD.json, why none))."""
    opts = opts or Options()
    report = Report()
    for record in records:
        _check_run(record, opts, report)
    entries = [ChainEntry(label=r.location, drill=str(r.drill), run_id=str(r.run_id),
                          started_at=str((r.scorecard.get("run") or {}).get("started_at") or ""),
                          sha256=recorded_digest(r.scorecard), previous_sha256=recorded_previous(r.scorecard),
                          complete=r.in_store, chain_sha256=integrity_field(r.scorecard, "chain_sha256"),
                          previous_chain_sha256=integrity_field(r.scorecard, "previous_chain_sha256"))
               for r in records if r.scorecard is not None]
    _check_heads(records, heads or {}, report)
    problems, notes = chain_problems(entries)
    for p in problems:
        report.issues.append((f"chain {p.drill}", f"{p.kind}: {p.message}" +
                              (f" [{', '.join(p.labels)}]" if p.labels else "")))
    report.notes += notes
    return report


def _check_heads(records: list[RunRecord], heads: dict[str, tuple[dict[str, Any] | None, str | None]],
                 report: Report) -> None:
    from drtool.outputs.head import head_problems

    for drill, (head, why) in sorted(heads.items()):
        stored = [r.scorecard for r in records if r.in_store and r.drill == drill and r.scorecard is not None]
        if head is None:
            if any(is_v2(sc) for sc in stored):
                report.issues.append((f"head {drill}", f"{why}: the head pointer was removed"))
            else:
                report.notes.append(f"head {drill}: {why} (runs predate head pointers; the newest run's "
                                    "removal cannot be detected)")
            continue
        report.issues += [(f"head {drill}", p) for p in head_problems(head, stored)]


def collect_heads(located: Any) -> dict[str, tuple[dict[str, Any] | None, str | None]]:
    """The head pointer of every drill whose stored runs were read (from `locate`)."""
    from drtool.outputs.head import read_head

    heads: dict[str, tuple[dict[str, Any] | None, str | None]] = {}
    for record in located.given:
        store = located.stores.get(record.store_url or "")
        if store is not None and record.drill and record.drill not in heads:
            heads[record.drill] = read_head(store, record.drill)
    return heads


LIMITS = ("what this proves without signatures: every run read is consistent with its journal, its reports, "
          "the runs next to it in the chain and the drill's head pointer, so a run deleted, edited, re-sealed "
          "or re-ordered shows unless every later link and the head pointer were rewritten too. It cannot "
          "prove who wrote the evidence: someone with write access to the whole results store can rewrite it "
          "consistently. Sign scorecards (--sign-key) and pin the key (--public-key) to prove that; keep "
          "results in S3 with versioning or Object Lock to keep overwritten versions.")


def render(report: Report) -> str:
    bad = {where for where, _ in report.issues}
    lines = [f"{'TAMPERED' if where in bad else 'ok':<9}{where}: {what}" for where, what in report.checked]
    lines += [f"TAMPERED {where}: {what}" for where, what in report.issues]
    lines += [f"note: {n}" for n in report.notes]
    if not any("signed by" in what for _, what in report.checked):
        lines.append(f"note: {LIMITS}")
    runs = len(report.checked)
    lines.append(f"intact: {runs} scorecard{'s' if runs != 1 else ''} checked" if report.intact else
                 f"tampering found: {len(report.issues)} problem{'s' if len(report.issues) != 1 else ''} "
                 f"in {runs} scorecard{'s' if runs != 1 else ''}")
    return "\n".join(lines) + "\n"
