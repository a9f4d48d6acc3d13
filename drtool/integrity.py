"""Tamper evidence: canonical JSON, digests of scorecards, and the per-drill hash chain.

Canonical JSON follows RFC 8785 (JCS) for every value drtool writes: object keys sorted by
UTF-16 code units, no whitespace, UTF-8, strings escaped as JSON requires and nothing more,
and numbers in the ECMAScript shortest round-trip form (`900.0` -> `900`, `1e-7`, `1e+21`),
so a scorecard re-serialised by another JCS implementation gives the same digest.
One deliberate difference: integers beyond +/-2**53 are written exactly (JCS would round
them through a double); keep such values out of scorecards or store them as strings.

The digest (`integrity.sha256`) covers the scorecard without its `integrity` block (spec
section 6), so `integrity.previous_sha256` is not covered by it. Integrity version 2 adds
`chain_sha256`, a digest over this run's link and the previous run's chain digest:

    chain_sha256 = sha256(canonical({"journal_sha256", "previous_chain_sha256",
                                     "previous_sha256", "sha256"}))

so it covers `previous_sha256`, the journal's head digest and, through
`previous_chain_sha256`, every earlier link. The results store keeps a head pointer
(`HEAD.json`) with the newest run's chain digest, so deleting or re-sealing the newest run
shows. Signed scorecards sign `chain_sha256` (see `drtool.signing`).

What an unsigned chain proves: the runs read are consistent with each other and with the
head pointer, so a deleted, edited, re-sealed or re-ordered run shows unless whoever did it
also recomputed every later link and the head pointer. It cannot prove who wrote it: someone
with write access to the whole store can rewrite it consistently. Signatures (KMS) prove
authorship; S3 versioning/Object Lock keep overwritten versions. Version 1 scorecards (no
`chain_sha256`) prove only their own content; their `previous_sha256` is unprotected.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_MAX_EXACT_INT = 2 ** 53


def _es_number(value: float) -> str:
    """ECMAScript Number::toString for a finite double (RFC 8785 section 3.2.2.3)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"canonical JSON cannot hold {value!r}")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exp = repr(abs(value)).partition("e")
    int_part, _, frac = mantissa.partition(".")
    digits = int_part + frac
    point = len(int_part) + (int(exp) if exp else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    k, n = len(digits), point
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        text = digits[0] + ("." + digits[1:] if k > 1 else "") + ("e+" if e > 0 else "e-") + str(abs(e))
    return sign + text


def _encode(obj: Any, out: list[str]) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, int):
        out.append(str(obj))
    elif isinstance(obj, float):
        out.append(_es_number(obj))
    elif isinstance(obj, str):
        out.append(json.dumps(obj, ensure_ascii=False))
    elif isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError("canonical JSON needs string keys")
        out.append("{")
        for i, key in enumerate(sorted(obj, key=lambda k: k.encode("utf-16-be"))):
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(obj[key], out)
        out.append("}")
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, item in enumerate(obj):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"canonical JSON cannot hold {type(obj).__name__}")


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 (JCS) canonical form: sorted keys, no whitespace, UTF-8, ES number form."""
    out: list[str] = []
    _encode(obj, out)
    return "".join(out).encode("utf-8")


def scorecard_digest(scorecard: dict[str, Any]) -> str:
    """sha256 over the canonical scorecard without its `integrity` block."""
    body = {k: v for k, v in scorecard.items() if k != "integrity"}
    return hashlib.sha256(canonical_json(body)).hexdigest()


INTEGRITY_VERSION = 2


def chain_digest(sha256: str | None, previous_sha256: str | None, previous_chain_sha256: str | None,
                 journal_sha256: str | None) -> str:
    """The v2 chain digest of one run (see the module docstring)."""
    link = {"journal_sha256": journal_sha256, "previous_chain_sha256": previous_chain_sha256,
            "previous_sha256": previous_sha256, "sha256": sha256}
    return hashlib.sha256(canonical_json(link)).hexdigest()


def seal(scorecard: dict[str, Any], previous: str | dict[str, Any] | None,
         journal_sha256: str | None = None) -> dict[str, Any]:
    """Return the scorecard with `integrity` filled in (version 2).

    `previous` is the previous run's `integrity` block (as `previous_integrity` of the
    store gives it), or only its sha256 (then the chain restarts from this run: older
    callers), or None for a drill's first run. A block that names this same run (a
    scorecard re-sealed after `drtool rollback`) keeps the run's place in the chain."""
    sealed = {k: v for k, v in scorecard.items() if k != "integrity"}
    run: dict[str, Any] = sealed["run"] if isinstance(sealed.get("run"), dict) else {}
    previous_sha: str | None
    previous_chain: str | None = None
    if isinstance(previous, dict):
        if previous.get("run_id") is not None and previous.get("run_id") == run.get("id"):
            previous_sha, previous_chain = previous.get("previous_sha256"), previous.get("previous_chain_sha256")
        else:
            previous_sha, previous_chain = previous.get("sha256"), previous.get("chain_sha256")
    else:
        previous_sha = previous
    digest = scorecard_digest(sealed)
    sealed["integrity"] = {
        "sha256": digest, "previous_sha256": previous_sha, "version": INTEGRITY_VERSION,
        "journal_sha256": journal_sha256, "previous_chain_sha256": previous_chain,
        "chain_sha256": chain_digest(digest, previous_sha, previous_chain, journal_sha256)}
    return sealed


def integrity_field(document: dict[str, Any], name: str) -> str | None:
    integrity = document.get("integrity")
    value = integrity.get(name) if isinstance(integrity, dict) else None
    return value if isinstance(value, str) else None


def is_v2(document: dict[str, Any]) -> bool:
    integrity = document.get("integrity")
    return isinstance(integrity, dict) and integrity.get("version") == INTEGRITY_VERSION


def chain_problem(document: dict[str, Any]) -> str | None:
    """None when a v2 `chain_sha256` matches the recorded link fields (v1: always None)."""
    if not is_v2(document):
        return None
    recorded = integrity_field(document, "chain_sha256")
    computed = chain_digest(integrity_field(document, "sha256"), integrity_field(document, "previous_sha256"),
                            integrity_field(document, "previous_chain_sha256"),
                            integrity_field(document, "journal_sha256"))
    if recorded != computed:
        return ("chain_sha256 does not match the recorded link (previous_sha256, previous_chain_sha256 "
                "or journal_sha256 was changed)")
    return None


def recorded_digest(document: dict[str, Any]) -> str | None:
    integrity = document.get("integrity")
    value = integrity.get("sha256") if isinstance(integrity, dict) else None
    return value if isinstance(value, str) else None


def recorded_previous(document: dict[str, Any]) -> str | None:
    integrity = document.get("integrity")
    value = integrity.get("previous_sha256") if isinstance(integrity, dict) else None
    return value if isinstance(value, str) else None


def digest_problem(document: dict[str, Any]) -> str | None:
    """None when `integrity.sha256` matches the content, else a sentence saying how not."""
    recorded = recorded_digest(document)
    if recorded is None:
        return "no integrity.sha256 recorded"
    try:
        computed = scorecard_digest(document)
    except (TypeError, ValueError) as exc:
        return f"content cannot be canonicalised: {exc}"
    if computed != recorded:
        return f"digest mismatch: recorded {recorded[:16]}..., content hashes to {computed[:16]}..."
    return None


@dataclass(frozen=True)
class ChainEntry:
    """One run as the chain check sees it."""

    label: str                  # where it was read from (path or URL)
    drill: str
    run_id: str
    started_at: str
    sha256: str | None          # as recorded (what later runs point to)
    previous_sha256: str | None
    complete: bool = True       # True when the drill's whole stored population was read
    chain_sha256: str | None = None            # v2 only
    previous_chain_sha256: str | None = None   # v2 only


@dataclass(frozen=True)
class ChainProblem:
    drill: str
    kind: str                   # "gap" | "fork" | "order" | "duplicate" | "link"
    message: str
    labels: tuple[str, ...] = ()


def chain_problems(entries: Iterable[ChainEntry]) -> tuple[list[ChainProblem], list[str]]:
    """Check each drill's hash chain. Returns (problems, notes).

    gap: a run names a previous digest that matches no run read (a run was deleted or its
    scorecard rewritten); only reported where the drill's stored population is complete,
    otherwise it is a note. fork: two runs name the same previous (or two runs start the
    chain). order: a run's previous started after it. link (v2): a run's
    `previous_chain_sha256` is not its previous run's `chain_sha256`.
    """
    by_drill: dict[str, list[ChainEntry]] = defaultdict(list)
    for entry in entries:
        by_drill[entry.drill].append(entry)
    problems: list[ChainProblem] = []
    notes: list[str] = []
    for drill in sorted(by_drill):
        runs = sorted(by_drill[drill], key=lambda e: (e.started_at, e.run_id))
        by_digest: dict[str, ChainEntry] = {}
        for run in runs:
            if run.sha256 and run.sha256 in by_digest:
                problems.append(ChainProblem(drill, "duplicate", f"runs {by_digest[run.sha256].run_id} and "
                                             f"{run.run_id} record the same digest {run.sha256[:16]}...",
                                             (by_digest[run.sha256].label, run.label)))
            elif run.sha256:
                by_digest[run.sha256] = run
        claims: dict[str | None, list[ChainEntry]] = defaultdict(list)
        for run in runs:
            claims[run.previous_sha256].append(run)
            if run.previous_sha256 is None:
                continue
            previous = by_digest.get(run.previous_sha256)
            if previous is None:
                text = (f"run {run.run_id} names previous {run.previous_sha256[:16]}..., "
                        "which matches no stored run (a run was deleted or rewritten)")
                if run.complete:
                    problems.append(ChainProblem(drill, "gap", text, (run.label,)))
                else:
                    notes.append(f"chain {drill}: {text}; not all runs of this drill were given, "
                                 "so this is not counted as tampering")
            elif previous.started_at > run.started_at:
                problems.append(ChainProblem(drill, "order", f"run {run.run_id} names run {previous.run_id} "
                                             "as previous, but that run started later", (run.label,)))
            elif run.previous_chain_sha256 and run.previous_chain_sha256 != previous.chain_sha256:
                problems.append(ChainProblem(drill, "link", f"run {run.run_id} names previous chain digest "
                                             f"{run.previous_chain_sha256[:16]}..., but run {previous.run_id} "
                                             f"records {str(previous.chain_sha256)[:16]}... (an earlier run "
                                             "was re-sealed or its link edited)", (run.label, previous.label)))
        for previous_sha, claimants in claims.items():
            if len(claimants) > 1:
                ids = ", ".join(c.run_id for c in claimants)
                what = (f"previous {previous_sha[:16]}..." if previous_sha
                        else "no previous (each starts the chain)")
                problems.append(ChainProblem(drill, "fork", f"runs {ids} all name {what}",
                                             tuple(c.label for c in claimants)))
    return problems, notes
