"""Review attestations: the human part auditors need, kept apart from measured data.

`attestation-<UTC timestamp>.json` sits next to the scorecard it reviews and names that
scorecard's digest; it carries its own `integrity.sha256` (same canonical JSON) and, with a
KMS key, a signature in `attestation-<timestamp>.sig.json`. The scorecard is never edited.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from drtool.integrity import digest_problem, recorded_digest, scorecard_digest
from drtool.timing import rfc3339

SCHEMA = "drtool.attestation/v1"
_NAME = re.compile(r"^attestation-[0-9TZ.-]+\.json$")


def is_attestation(name: str) -> bool:
    return bool(_NAME.match(name)) and not name.endswith(".sig.json")


def filename(now: float) -> str:
    return "attestation-" + datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%dT%H%M%S") + \
        f".{int(round(now * 1000)) % 1000:03d}Z.json"


def parse_action(spec: str) -> dict[str, str]:
    """"TEXT;owner=X;due=YYYY-MM-DD" -> {"text", "owner", "due", "status": "open"}."""
    text, *pairs = [p.strip() for p in spec.split(";")]
    fields: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key.strip() not in ("owner", "due") or not value.strip():
            raise ValueError(f"cannot read {pair!r} in action {spec!r}: expected owner=NAME or due=YYYY-MM-DD")
        fields[key.strip()] = value.strip()
    if not text:
        raise ValueError(f"action {spec!r} has no text")
    missing = [k for k in ("owner", "due") if k not in fields]
    if missing:
        raise ValueError(f"action {text!r} needs {' and '.join(missing)}: write \"TEXT;owner=NAME;due=YYYY-MM-DD\"")
    try:
        date.fromisoformat(fields["due"])
    except ValueError:
        raise ValueError(f"action {text!r}: due {fields['due']!r} is not a date like 2026-03-31") from None
    return {"text": text, "owner": fields["owner"], "due": fields["due"], "status": "open"}


def build(scorecard: dict[str, Any], *, subject: str, reviewer: str, findings: list[str],
          actions: list[dict[str, str]], risk_acceptance: str | None, sign_off: bool, now: float,
          tool_version: str) -> dict[str, Any]:
    """A sealed attestation for a scorecard whose digest matches its content."""
    problem = digest_problem(scorecard)
    if problem:
        raise ValueError(f"the scorecard fails its own digest check ({problem}); refusing to attest it")
    run = scorecard.get("run") or {}
    body = {
        "schema": SCHEMA,
        "subject": {"file": subject, "sha256": scorecard_digest(scorecard), "drill": run.get("drill"),
                    "run_id": run.get("id"), "status": run.get("status")},
        "reviewer": reviewer,
        "reviewed_at": rfc3339(now),
        "findings": list(findings),
        "corrective_actions": list(actions),
        "risk_acceptance": risk_acceptance,
        "sign_off": sign_off,
        "tool_version": tool_version,
    }
    body["integrity"] = {"sha256": scorecard_digest(body)}
    return body


def statement(attestation: dict[str, Any], name: str, signed_at: str) -> dict[str, Any]:
    """What a signature over an attestation covers (see drtool.signing)."""
    return {"type": SCHEMA, "subject": name, "sha256": scorecard_digest(attestation),
            "scorecard_sha256": (attestation.get("subject") or {}).get("sha256"),
            "reviewer": attestation.get("reviewer"), "sign_off": attestation.get("sign_off"),
            "signed_at": signed_at}


def problems(attestation: Any, scorecard: dict[str, Any]) -> list[str]:
    """What is wrong with an attestation found next to `scorecard` (empty when intact)."""
    if not isinstance(attestation, dict) or attestation.get("schema") != SCHEMA:
        return [f"not a {SCHEMA} document"]
    found = []
    own = digest_problem(attestation)
    if own:
        found.append(f"attestation {own}")
    subject = attestation.get("subject") or {}
    referenced = subject.get("sha256") if isinstance(subject, dict) else None
    if referenced != scorecard_digest(scorecard):
        found.append(f"references scorecard digest {str(referenced)[:16]}..., but the scorecard's content hashes to "
                     f"{scorecard_digest(scorecard)[:16]}...")
    elif recorded_digest(scorecard) not in (None, referenced):
        found.append("the scorecard's recorded digest differs from the one this attestation reviewed")
    return found
