"""Golden files per format, and the structure CI systems and browsers rely on.

Golden files change only deliberately: DRTOOL_REGEN_GOLDEN=1 pytest tests/outputs/test_formats.py
rewrites them; review the diff before committing.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from drtool.integrity import scorecard_digest
from drtool.outputs import FORMATS, render, write_formats

GOLDEN = Path(__file__).parent / "golden"
SUFFIX = {"md": "md", "html": "html", "junit": "xml", "json": "json"}


@pytest.mark.parametrize("status", ["passed", "failed", "aborted"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_golden(make_scorecard, status, fmt):
    out = render(make_scorecard(status), fmt)
    path = GOLDEN / f"{status}.{SUFFIX[fmt]}"
    if os.environ.get("DRTOOL_REGEN_GOLDEN"):
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8"), f"{path.name} differs; regenerate deliberately if intended"


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.data.append(data)


def _parse(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    parser.close()
    return parser


def test_html_is_self_contained_and_ordered_for_its_readers(make_scorecard):
    page = render(make_scorecard("failed"), "html")
    parsed = _parse(page)
    names = [t for t, _ in parsed.tags]
    assert "script" not in names and "link" not in names and "img" not in names and "iframe" not in names
    for tag, attrs in parsed.tags:
        assert "src" not in attrs and "href" not in attrs, tag
        assert not any(k.startswith("on") for k in attrs), tag
    assert "url(" not in page and "@import" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    sections = [a["id"] for t, a in parsed.tags if t == "section"]
    assert sections == ["impact", "owner", "timeline", "run", "evidence", "integrity"]
    assert names.count("svg") == 1
    steps = [a for t, a in parsed.tags if t == "rect" and "step" in (a.get("class") or "")]
    assert len(steps) == 6 and all("ok" in (a.get("class") or "") for a in steps)
    assert any(t == "rect" and a.get("class") == "budget" for t, a in parsed.tags)
    text = " ".join(parsed.data)
    for control in ("A1.2", "A1.3", "8.5", "A.5.30", "A.8.13", "CP-4", "CP-9(1)", "CP-10", "Art. 11(6)", "Art. 12(2)"):
        assert control in text
    assert "target 15m00s, measured 20m00s: MISSED" in text
    assert "checkout recovered 20m00s after the fault; no test write lost" not in text   # RPO measured 1.2s
    assert "checkout recovered 20m00s after the fault; up to 1.20s of data lost." in text
    assert "SANDBOX" not in text and not any("banner" in (a.get("class") or "") for _, a in parsed.tags)


def test_every_field_is_escaped(make_scorecard):
    sc = make_scorecard()
    hostile = '<script>alert(1)</script> | `x` [l](http://e) ]]> & "q" \x07'
    sc["timeline"][1]["detail"] = hostile
    sc["run"]["drill"] = "<img src=x onerror=alert(1)>"
    sc["follow_up"][0]["summary"] = hostile
    page = render(sc, "html")
    parsed = _parse(page)
    assert not any(t in ("script", "img") for t, _ in parsed.tags)
    assert "&lt;script&gt;" in page
    md = render(sc, "md")
    assert "<script>" not in md and "<img" not in md
    timeline_row = next(line for line in md.splitlines() if "blackhole" in line)
    assert timeline_row.count(" | ") == 6  # the hostile '|' did not add a cell
    root = ET.fromstring(render(sc, "junit").encode())
    assert root.find("testsuite").get("name") == "<img src=x onerror=alert(1)>"


def test_junit_cases_failures_and_errors(make_scorecard):
    passed = ET.fromstring(render(make_scorecard("passed"), "junit").encode())
    suite = passed.find("testsuite")
    names = [(c.get("classname"), c.get("name")) for c in suite.findall("testcase")]
    assert ("drtool.checkout-region-loss.objectives", "RTO") in names
    assert ("drtool.checkout-region-loss.verify", "http.ok") in names
    assert suite.get("failures") == "0" and suite.get("errors") == "0" and passed.get("tests") == suite.get("tests")

    failed = ET.fromstring(render(make_scorecard("failed"), "junit").encode()).find("testsuite")
    rto = next(c for c in failed.findall("testcase") if c.get("name") == "RTO")
    failure = rto.find("failure")
    assert failure is not None and "20m00s exceeds target 15m00s" in failure.get("message")
    assert "1200 s" in failure.text and "900 s" in failure.text
    assert failed.get("failures") == "1" and failed.get("errors") == "0"

    timed_out = make_scorecard("failed")
    timed_out["timeline"][4].update({"status": "timeout", "detail": "no 200 within 10m00s"})
    suite = ET.fromstring(render(timed_out, "junit").encode()).find("testsuite")
    check = next(c for c in suite.findall("testcase") if c.get("name") == "http.ok")
    assert "no 200 within 10m00s" in check.find("failure").get("message") and suite.get("failures") == "2"

    aborted = ET.fromstring(render(make_scorecard("aborted"), "junit").encode()).find("testsuite")
    run = next(c for c in aborted.findall("testcase") if c.get("name") == "run")
    assert "stop condition" in run.find("error").get("message")
    assert int(aborted.get("errors")) >= 1 and aborted.get("failures") == "0"


def test_json_round_trips_with_the_same_digest(make_scorecard):
    sc = make_scorecard()
    assert scorecard_digest(json.loads(render(sc, "json"))) == sc["integrity"]["sha256"]


def test_write_formats_next_to_the_scorecard(tmp_path, make_scorecard):
    sc = make_scorecard()
    (tmp_path / "scorecard.json").write_text(render(sc, "json"), encoding="utf-8")
    written = write_formats(tmp_path, sc, ["json", "md", "html", "junit"])
    assert [p.name for p in written] == ["scorecard.md", "scorecard.html", "junit.xml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml", "scorecard.html", "scorecard.json", "scorecard.md"]


def test_unknown_format_is_a_usage_error(make_scorecard):
    from drtool.errors import UsageError

    with pytest.raises(UsageError):
        render(make_scorecard(), "pdf")


def test_sparse_scorecard_renders(make_scorecard):
    sparse = {"schema": "drtool.scorecard/v1", "run": {"id": "x", "drill": "d", "status": "aborted",
                                                       "started_at": "garbage"}}
    for fmt in FORMATS:
        assert render(sparse, fmt)


def test_no_rpo_objective_is_not_a_test_case(make_scorecard):
    """The engine writes an all-null rpo block when a drill has no RPO objective."""
    sc = make_scorecard()
    sc["objectives"]["rpo"] = {"target_s": None, "measured_s": None, "met": None, "method": None,
                               "detail": "no RPO objective", "evidence": {}, "measurements": []}
    suite = ET.fromstring(render(sc, "junit").encode()).find("testsuite")
    assert "RPO" not in [c.get("name") for c in suite.findall("testcase")]
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    md = render(sc, "md")
    assert "| Data lost | not assessed (no RPO objective) |" in md and "| RPO | - | - | no objective |" in md
    sc["objectives"]["rpo"] = None
    assert "| Data lost | not assessed (no RPO objective) |" in render(sc, "md") and render(sc, "html")
    sc["objectives"]["rpo"] = {"target_s": None, "measured_s": 3.0, "met": None}
    suite = ET.fromstring(render(sc, "junit").encode()).find("testsuite")
    rpo = next(c for c in suite.findall("testcase") if c.get("name") == "RPO")
    assert rpo.find("failure") is None and "measured 3.00s (no target)" in render(sc, "md")


def test_sandbox_run_is_labelled_in_title_banner_and_controls(make_scorecard):
    sc = make_scorecard(mode="sandbox")
    sc["run"]["endpoint"] = "http://127.0.0.1:5000"
    page = render(sc, "html")
    parsed = _parse(page)
    assert "<title>SANDBOX: DR drill checkout-region-loss: PASSED</title>" in page
    banner = next(a for t, a in parsed.tags if t == "p" and a.get("class") == "banner")
    assert banner is not None and "SANDBOX REHEARSAL" in page and "http://127.0.0.1:5000, not AWS" in page
    assert "a sandbox rehearsal does not count as a test" in page
    md = render(sc, "md")
    assert md.startswith("# SANDBOX: DR drill checkout-region-loss: PASSED\n\n> **SANDBOX REHEARSAL")
    assert "recorded from the native AWS environment" not in page + md


def test_reports_show_sources_parameters_and_humanised_numbers(make_scorecard):
    sc = make_scorecard()
    sc["run"]["sources"] = {"drill": {"path": "/d/drills/x.yaml", "sha256": "ab" * 32},
                            "scenario": {"path": "/d/scenarios/y.yaml", "sha256": "cd" * 32}}
    sc["run"]["parameters"] = {"group": "web", "percent": 50}
    sc["objectives"]["rto"]["measured_s"] = 1.8740575313568115
    for fmt in ("html", "md"):
        out = render(sc, fmt)
        assert "/d/scenarios/y.yaml" in out and "cd" * 32 in out and "ab" * 32 in out
        assert "percent" in out and "50" in out
        assert "1.8740575313568115" not in out and "7776000" not in out and "1.87s" in out and "90 days" in out
