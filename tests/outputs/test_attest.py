"""Review attestations: a separate (optionally signed) document referencing the scorecard's
digest; verify checks it; the scorecard is never edited. Also `drtool report`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from drtool.cli import invoke
from drtool.outputs.attest import parse_action

NOW = "2026-01-05T10:00:00.000Z"


def _attest(folder, *extra):
    return invoke(["attest", str(folder), "--reviewer", "Dana Auditor", "--now", NOW,
                   "--finding", "ASG warm-up dominates the RTO",
                   "--action", "Pre-warm the DR group;owner=payments-sre;due=2026-03-31",
                   "--risk-acceptance", "RPO canary only covers orders (accepted by CTO)", "--sign-off", *extra])


def test_attest_writes_a_document_that_references_the_digest(chain, capsys):
    before = (chain[1] / "scorecard.json").read_bytes()
    assert _attest(chain[1]) == 0
    path = chain[1] / "attestation-20260105T100000.000Z.json"
    assert capsys.readouterr().out.strip() == str(path)
    doc = json.loads(path.read_text())
    scorecard = json.loads(before)
    assert doc["subject"]["sha256"] == scorecard["integrity"]["sha256"]
    assert doc["reviewer"] == "Dana Auditor" and doc["sign_off"] is True
    assert doc["corrective_actions"] == [{"text": "Pre-warm the DR group", "owner": "payments-sre",
                                          "due": "2026-03-31", "status": "open"}]
    assert (chain[1] / "scorecard.json").read_bytes() == before  # measured data untouched
    assert invoke(["verify", str(chain[1])]) == 0
    assert "1 attestation" in capsys.readouterr().out


def test_edited_attestation_and_edited_scorecard_are_tampering(chain, capsys):
    _attest(chain[1])
    capsys.readouterr()
    path = chain[1] / "attestation-20260105T100000.000Z.json"
    doc = json.loads(path.read_text())
    doc["sign_off"] = False
    path.write_text(json.dumps(doc))
    assert invoke(["verify", str(chain[1])]) == 1
    assert "attestation digest mismatch" in capsys.readouterr().out

    doc["sign_off"] = True
    path.write_text(json.dumps(doc))
    card = json.loads((chain[1] / "scorecard.json").read_text())
    card["run"]["status"] = "passed"
    (chain[1] / "scorecard.json").write_text(json.dumps(card))
    assert invoke(["verify", str(chain[1])]) == 1
    out = capsys.readouterr().out
    assert "references scorecard digest" in out and "digest mismatch" in out


def test_attest_refuses_a_tampered_scorecard(chain, capsys):
    card = json.loads((chain[0] / "scorecard.json").read_text())
    card["objectives"]["rto"]["measured_s"] = 1.0
    (chain[0] / "scorecard.json").write_text(json.dumps(card))
    assert _attest(chain[0]) == 2
    assert "refusing to attest" in capsys.readouterr().err
    assert not list(chain[0].glob("attestation-*"))


@pytest.mark.parametrize("spec", ["Fix it", "Fix it;owner=x", "Fix it;owner=x;due=soon", ";owner=x;due=2026-01-01",
                                  "Fix it;who=x;due=2026-01-01"])
def test_bad_actions_are_usage_errors(chain, capsys, spec):
    with pytest.raises(ValueError):
        parse_action(spec)
    assert invoke(["attest", str(chain[0]), "--reviewer", "x", "--action", spec]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_signed_attestation(chain, session, capsys):
    key = session.client("kms").create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["Arn"]
    assert _attest(chain[2], "--sign-key", key) == 0
    sig = json.loads((chain[2] / "attestation-20260105T100000.000Z.sig.json").read_text())
    assert sig["statement"]["type"] == "drtool.attestation/v1" and sig["statement"]["reviewer"] == "Dana Auditor"
    assert invoke(["verify", "--kms", str(chain[2])]) == 0
    capsys.readouterr()
    path = chain[2] / "attestation-20260105T100000.000Z.json"
    doc = json.loads(path.read_text())
    doc["reviewer"] = "Someone Else"
    from drtool.integrity import scorecard_digest

    doc["integrity"]["sha256"] = scorecard_digest(doc)  # re-sealed: only the signature catches it
    path.write_text(json.dumps(doc))
    assert invoke(["verify", str(chain[2])]) == 1
    assert "attestation-20260105T100000.000Z.sig.json: signed sha256" in capsys.readouterr().out


def test_report_renders_with_reviews(chain, tmp_path, capsys):
    _attest(chain[1])
    capsys.readouterr()
    assert invoke(["report", str(chain[1]), "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("# DR drill checkout-region-loss: FAILED") and "## Reviews" in md and "Dana Auditor" in md
    assert invoke(["report", str(chain[1] / "scorecard.json"), "--format", "junit", "-o", str(tmp_path / "j.xml")]) == 0
    assert ET.parse(tmp_path / "j.xml").getroot().tag == "testsuites"
    capsys.readouterr()
    assert invoke(["report", str(chain[1]), "--format", "html", "--format", "junit", "--write"]) == 0
    assert (chain[1] / "scorecard.html").exists() and (chain[1] / "junit.xml").exists()
    assert invoke(["verify", str(chain[1])]) == 0  # rendered files do not disturb verification


def test_report_usage_errors(chain, tmp_path, capsys):
    assert invoke(["report", str(chain[0]), "--format", "md", "--format", "html"]) == 2
    assert invoke(["report", str(chain[0]), "--format", "pdf"]) == 2
    assert invoke(["report", str(tmp_path / "nope.json")]) == 2
    assert invoke(["report", str(chain[0].parent)]) == 2  # a drill folder holds 3 scorecards
    assert "Traceback" not in capsys.readouterr().err


def test_report_warns_on_a_tampered_scorecard(chain, capsys):
    card = json.loads((chain[0] / "scorecard.json").read_text())
    card["run"]["status"] = "failed"
    (chain[0] / "scorecard.json").write_text(json.dumps(card))
    assert invoke(["report", str(chain[0])]) == 0
    captured = capsys.readouterr()
    assert "digest mismatch" in captured.err and "FAILS: digest mismatch" in captured.out
