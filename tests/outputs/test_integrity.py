"""Canonical JSON (RFC 8785 number and key-order rules), digests, chain analysis."""

from __future__ import annotations

import hashlib
import json

import pytest

from drtool.integrity import (
    ChainEntry,
    canonical_json,
    chain_problems,
    digest_problem,
    scorecard_digest,
    seal,
)


@pytest.mark.parametrize(("value", "expected"), [
    # RFC 8785 appendix B / ECMAScript Number::toString
    (0.0, "0"), (-0.0, "0"), (1.0, "1"), (900.0, "900"), (4.5, "4.5"), (0.002, "0.002"),
    (1e-7, "1e-7"), (0.000001, "0.000001"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
    (1.5e16, "15000000000000000"), (333333333.33333329, "333333333.3333333"), (1e30, "1e+30"),
    (-1e-27, "-1e-27"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
    (9007199254740992.0, "9007199254740992"), (295147905179352830000.0, "295147905179352830000"),
    (123.456, "123.456"), (0.1, "0.1"),
])
def test_numbers_use_the_ecmascript_form(value, expected):
    assert canonical_json(value) == expected.encode()


def test_keys_sort_by_utf16_code_units_and_strings_escape_minimally():
    doc = {"\U0001f600": 1, "\ufb33": 2, "b": "é\n\u2028\"\\", "a": [True, None, 1]}
    # U+1F600 is a surrogate pair (D83D ...) and sorts before U+FB33 in UTF-16 order.
    assert canonical_json(doc).decode() == '{"a":[true,null,1],"b":"é\\n\u2028\\"\\\\","\U0001f600":1,"\ufb33":2}'


def test_non_finite_numbers_are_refused():
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_digest_ignores_layout_and_integer_float_spelling(make_scorecard):
    sc = make_scorecard()
    reread = json.loads(json.dumps(sc, indent=4).replace("900.0", "900"))
    assert scorecard_digest(reread) == sc["integrity"]["sha256"]
    assert digest_problem(reread) is None
    body = {k: v for k, v in sc.items() if k != "integrity"}
    assert sc["integrity"]["sha256"] == hashlib.sha256(canonical_json(body)).hexdigest()


def test_seal_chains_and_any_edit_breaks_the_digest(make_scorecard):
    first = make_scorecard()
    second = seal({k: v for k, v in first.items() if k != "integrity"}, first["integrity"]["sha256"])
    assert second["integrity"]["previous_sha256"] == first["integrity"]["sha256"]
    second["objectives"]["rto"]["measured_s"] = 250.0
    assert "digest mismatch" in (digest_problem(second) or "")


def _entry(run_id, started, sha, previous, complete=True):
    return ChainEntry(f"/r/{run_id}", "d", run_id, started, sha, previous, complete)


def test_chain_gap_fork_and_order():
    ok = [_entry("1", "a", "h1", None), _entry("2", "b", "h2", "h1"), _entry("3", "c", "h3", "h2")]
    assert chain_problems(ok) == ([], [])
    problems, _ = chain_problems([ok[0], ok[2]])
    assert [p.kind for p in problems] == ["gap"]
    problems, _ = chain_problems([*ok, _entry("4", "d", "h4", "h2")])
    assert [p.kind for p in problems] == ["fork"] and "3, 4" in problems[0].message
    problems, _ = chain_problems([_entry("1", "z", "h1", None), _entry("2", "b", "h2", "h1")])
    assert [p.kind for p in problems] == ["order"]
    problems, _ = chain_problems([_entry("1", "a", "h1", None), _entry("2", "b", "h2", None)])
    assert [p.kind for p in problems] == ["fork"]


def test_gap_outside_a_complete_population_is_only_a_note():
    problems, notes = chain_problems([_entry("3", "c", "h3", "h2", complete=False)])
    assert problems == [] and "not all runs" in notes[0]
