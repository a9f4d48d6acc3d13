"""drtool.redact and the journal boundary: secrets and URL credentials never reach evidence."""

from __future__ import annotations

import json

import pytest

from drtool.journal import Journal, read_journal
from drtool.redact import redact, redact_text, redact_url, secret_values
from drtool.timing import FakeClock


@pytest.mark.parametrize("url, expected", [
    ("https://shop.example.com/health", "https://shop.example.com/health"),
    ("https://shop.example.com/health?token=s3cr3t", "https://shop.example.com/health?token=***"),
    ("https://h/p?a=1&b=two&c=#frag", "https://h/p?a=***&b=***&c=***#frag"),
    ("https://user:pa55@h.example.com:8443/x", "https://***@h.example.com:8443/x"),
    ("https://tok@h/x?k=v", "https://***@h/x?k=***"),
    ("https://h/x?bare-token-value", "https://h/x?***"),
])
def test_redact_url(url, expected):
    assert redact_url(url) == expected


def test_redact_text_masks_urls_inside_messages_and_known_values():
    line = "GET https://u:pw@h/health?token=abc123 failed; key hunter2-key used"
    out = redact_text(line, {"hunter2-key"})
    assert out == "GET https://***@h/health?token=*** failed; key *** used"


def test_redact_walks_nested_values_and_keys():
    value = {"url": "https://h/?t=SECRETVAL", "list": ["x SECRETVAL y", 3, None], "SECRETVAL": True}
    out = redact(value, {"SECRETVAL"})
    assert "SECRETVAL" not in json.dumps(out)
    assert out["list"][1:] == [3, None]


def test_short_values_are_not_treated_as_secrets():
    assert redact_text("a b c", {"b"}) == "a b c"


def test_journal_writes_no_secret(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl", FakeClock(), secrets={"tok-PLANTED-1"})
    journal.write("run.started", run_id="r1", parameters={"api_token": "tok-PLANTED-1",
                                                         "health_url": "https://a:PLANTEDPW@h/x?key=PLANTEDQ"})
    journal.add_secrets(["later-PLANTED-2"])
    journal.write("note", message="used later-PLANTED-2 and tok-PLANTED-1")
    journal.close()
    raw = (tmp_path / "journal.jsonl").read_text()
    for planted in ("tok-PLANTED-1", "PLANTEDPW", "PLANTEDQ", "later-PLANTED-2"):
        assert planted not in raw
    events = read_journal(tmp_path / "journal.jsonl")
    assert events[0]["parameters"] == {"api_token": "***", "health_url": "https://***@h/x?key=***"}
    assert events[1]["message"] == "used *** and ***"


def test_secret_values_of_a_drill(tmp_path):
    from drtool.documents import load_drill

    (tmp_path / "s.yaml").write_text(
        "kind: scenario\nname: s\nparameters:\n  token: {type: secret}\n  url: {type: string}\n"
        "verify:\n  - check: http.ok\n    with: {url: '${url}'}\n")
    (tmp_path / "d.yaml").write_text(
        "kind: drill\nname: d\nscenario: ./s.yaml\nservice: {name: x, tier: low, owner: me}\n"
        "parameters: {token: tok-123456, url: 'https://h/'}\nobjectives: {rto: 1m}\n"
        "aws: {role_arn: 'arn:aws:iam::123456789012:role/r', external_id: ext-987654}\n")
    drill = load_drill(tmp_path / "d.yaml")
    assert drill.parameters["token"] == "tok-123456"   # a secret binds as a string
    assert secret_values(drill) == {"tok-123456", "ext-987654"}
