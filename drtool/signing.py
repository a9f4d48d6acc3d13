"""Signatures for scorecards and attestations with an AWS KMS ECC_NIST_P256 key.

What is signed is a small canonical *statement* naming the document, its digest, the
previous digest of the drill's hash chain (which `integrity.sha256` does not cover), for
integrity v2 the chain digest and the journal's head digest (so the signature pins the
whole journal as it was when the scorecard was sealed) and the signing time (KMS
signatures carry no time). The signature sits next to the document
in `<name>.sig.json`, never inside it, because the digest covers the document.

KMS signs the statement with ECDSA_SHA_256, MessageType=RAW (the statement is far below
the 4096-byte limit). On AWS that is the same signature as MessageType=DIGEST over
sha256(statement), and verification checks exactly that: ECDSA P-256 over the prehashed
sha256 of the canonical statement, offline from the public key recorded at signing time
or through KMS Verify. (moto 5.2.1 ignores MessageType=DIGEST and hashes the digest
again, so DIGEST-mode signatures made against moto never verify offline.)
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from drtool.errors import UsageError
from drtool.integrity import (
    canonical_json,
    integrity_field,
    is_v2,
    recorded_digest,
    recorded_previous,
    scorecard_digest,
)
from drtool.timing import rfc3339

SIGNATURE_SCHEMA = "drtool.signature/v1"
ALGORITHM = "ECDSA_SHA_256"
MAX_RAW_MESSAGE = 4096


def signature_path(document: Path) -> Path:
    """`scorecard.json` -> `scorecard.sig.json` (same folder)."""
    return document.with_name(signature_name(document.name))


def signature_name(document_name: str) -> str:
    stem = document_name[:-5] if document_name.endswith(".json") else document_name
    return f"{stem}.sig.json"


def scorecard_statement(scorecard: dict[str, Any], signed_at: str, subject: str = "scorecard.json") -> dict[str, Any]:
    run_value = scorecard.get("run")
    run: dict[str, Any] = run_value if isinstance(run_value, dict) else {}
    chain = ({"chain_sha256": integrity_field(scorecard, "chain_sha256"),
              "journal_sha256": integrity_field(scorecard, "journal_sha256")} if is_v2(scorecard) else {})
    return {
        **chain,
        "type": scorecard.get("schema"),
        "subject": subject,
        "sha256": scorecard_digest(scorecard),
        "previous_sha256": recorded_previous(scorecard),
        "drill": run.get("drill"),
        "run_id": run.get("id"),
        "status": run.get("status"),
        "signed_at": signed_at,
    }


def statement_digest(statement: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(statement)).hexdigest()


def _kms_region(key_id: str) -> str | None:
    parts = key_id.split(":")
    return parts[3] if key_id.startswith("arn:") and len(parts) > 4 and parts[3] else None


def _kms(session: Any, key_id: str) -> Any:
    return session.client("kms", _kms_region(key_id))


def public_key_fingerprint(pem: str) -> str:
    """sha256 of the DER SubjectPublicKeyInfo, hex: publish it so verifiers can pin the key."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(pem.encode("ascii"))
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def sign_statement(session: Any, key_id: str, statement: dict[str, Any]) -> dict[str, Any]:
    """Sign `statement` with KMS; return the signature document (written as `<name>.sig.json`)."""
    from cryptography.hazmat.primitives import serialization

    from drtool.aws.errors import call_aws

    kms = _kms(session, key_id)
    public = call_aws(kms.get_public_key, "kms:GetPublicKey", KeyId=key_id)
    if ALGORITHM not in (public.get("SigningAlgorithms") or []):
        raise UsageError(f"KMS key {key_id} cannot sign with {ALGORITHM}",
                         "use an asymmetric key with KeyUsage SIGN_VERIFY and KeySpec ECC_NIST_P256")
    message = canonical_json(statement)
    if len(message) <= MAX_RAW_MESSAGE:
        message_type, payload = "RAW", message
    else:
        message_type, payload = "DIGEST", hashlib.sha256(message).digest()
    signed = call_aws(kms.sign, "kms:Sign", KeyId=key_id, Message=payload, MessageType=message_type,
                      SigningAlgorithm=ALGORITHM)
    pem = serialization.load_der_public_key(public["PublicKey"]).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    return {
        "schema": SIGNATURE_SCHEMA,
        "key_id": signed.get("KeyId") or public.get("KeyId") or key_id,
        "algorithm": ALGORITHM,
        "message_type": message_type,
        "statement": statement,
        "statement_sha256": hashlib.sha256(message).hexdigest(),
        "signature_b64": base64.b64encode(signed["Signature"]).decode("ascii"),
        "public_key_pem": pem,
        "public_key_sha256": public_key_fingerprint(pem),
    }


def sign_scorecard(session: Any, key_id: str, scorecard: dict[str, Any], *, now: float | None = None) -> dict[str, Any]:
    """Sign a sealed scorecard (any status: passed, failed, aborted). Returns the signature
    document; write it with `write_signature(run_dir / "scorecard.json", sig)`."""
    from drtool.integrity import chain_problem

    recorded = recorded_digest(scorecard)
    if recorded is not None and recorded != scorecard_digest(scorecard):
        raise UsageError("the scorecard's integrity.sha256 does not match its content; refusing to sign it")
    if chain_problem(scorecard):
        raise UsageError(f"the scorecard's {chain_problem(scorecard)}; refusing to sign it")
    signed_at = rfc3339(time.time() if now is None else now) or ""
    return sign_statement(session, key_id, scorecard_statement(scorecard, signed_at))


def write_signature(document: Path, signature: dict[str, Any]) -> Path:
    """Write `<document>.sig.json`; given a run folder, next to its scorecard.json."""
    document = Path(document)
    path = signature_path(document / "scorecard.json" if document.is_dir() else document)
    path.write_text(json.dumps(signature, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def verify_offline(signature: dict[str, Any]) -> str | None:
    """Check the signature over its statement with the recorded public key. None when valid."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    if signature.get("schema") != SIGNATURE_SCHEMA:
        return f"not a {SIGNATURE_SCHEMA} document"
    if signature.get("algorithm") != ALGORITHM:
        return f"unsupported signing algorithm {signature.get('algorithm')!r} (expected {ALGORITHM})"
    statement = signature.get("statement")
    if not isinstance(statement, dict):
        return "no signed statement"
    digest = hashlib.sha256(canonical_json(statement)).digest()
    if signature.get("statement_sha256") != digest.hex():
        return "the signed statement was changed (statement_sha256 does not match)"
    try:
        key = serialization.load_pem_public_key(str(signature.get("public_key_pem", "")).encode("ascii"))
        raw = base64.b64decode(str(signature.get("signature_b64", "")), validate=True)
    except (ValueError, TypeError) as exc:
        return f"unreadable public key or signature: {exc}"
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        return "the recorded public key is not an ECC NIST P-256 key"
    try:
        key.verify(raw, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    except InvalidSignature:
        return "bad signature: it does not verify with the recorded public key"
    return None


def verify_with_kms(session: Any, signature: dict[str, Any]) -> str | None:
    """Check the signature through KMS Verify and that the recorded public key is the key's.
    AWS raises KMSInvalidSignatureException for a bad signature; moto answers
    SignatureValid=False. Both count as invalid."""
    from cryptography.hazmat.primitives import serialization

    from drtool.aws.errors import call_aws, error_code

    key_id = str(signature.get("key_id", ""))
    kms = _kms(session, key_id)
    message = canonical_json(signature.get("statement") or {})
    message_type = signature.get("message_type", "RAW")
    payload = message if message_type == "RAW" else hashlib.sha256(message).digest()
    try:
        raw = base64.b64decode(str(signature.get("signature_b64", "")), validate=True)
        valid = kms.verify(KeyId=key_id, Message=payload, MessageType=message_type, Signature=raw,
                           SigningAlgorithm=str(signature.get("algorithm")))["SignatureValid"]
    except ValueError as exc:
        return f"unreadable signature: {exc}"
    except Exception as exc:  # noqa: BLE001 - classify below, re-raise the rest as AwsError
        if error_code(exc) == "KMSInvalidSignatureException":
            valid = False
        else:
            from drtool.aws.errors import translate

            raise translate(exc, "kms:Verify") from exc
    if not valid:
        return f"bad signature: KMS Verify with key {key_id} rejects it"
    public = call_aws(kms.get_public_key, "kms:GetPublicKey", KeyId=key_id)
    pem = serialization.load_der_public_key(public["PublicKey"]).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    if public_key_fingerprint(pem) != public_key_fingerprint(str(signature.get("public_key_pem", ""))):
        return f"the recorded public key is not the public key of KMS key {key_id}"
    return None
