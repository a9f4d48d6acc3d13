"""The HTML reports as a browser shows them: headless Chromium renders each to PNG and a
measuring script reports the verdict, the SANDBOX banner, overflowing boxes, cut labels
and the page height. Skipped, with the reason printed, where Chromium is not installed
(`.ci/run` installs Debian's `chromium` package).

The PNGs stay in DRTOOL_BROWSER_OUT (default: the test's tmp folder) for people to look at.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import pytest

from drtool.outputs import render
from tests.browser.chromium import find, measure, screenshot
from tests.bundled_runs import DRILLS

ROOT = Path(__file__).resolve().parents[2]
BINARY = find()
if BINARY is None:
    warnings.warn("chromium not found: the browser checks of the HTML reports are SKIPPED "
                  "(apt-get install -y chromium)", stacklevel=1)
    print("\nNOTICE: chromium not found; tests/browser SKIPPED", file=sys.stderr)
pytestmark = pytest.mark.skipif(BINARY is None, reason="chromium not installed (apt-get install -y chromium): "
                                                       "browser checks of the HTML reports skipped")
# Fixed content (header, run facts, controls, integrity) plus a bounded height per row of
# content: the page grows with the drill, not with a fixed floor of thousands of pixels.
BASE_PX, PER_ROW_PX = 2600, 70


def _out(tmp_path: Path) -> Path:
    out = Path(os.environ.get("DRTOOL_BROWSER_OUT") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _rows(scorecard: dict) -> int:
    """Rows of drill-specific content (steps count twice: chart and table; long details wrap)."""
    steps = scorecard.get("timeline") or []
    rpo = ((scorecard.get("objectives") or {}).get("rpo") or {}).get("measurements") or []
    wrapped = sum(len(str(s.get("detail") or "")) for s in steps) // 100
    return (len(steps) * 2 + len(scorecard.get("targets") or []) + len(scorecard.get("follow_up") or [])
            + len(rpo) + len((scorecard.get("run") or {}).get("parameters") or {}) + wrapped)


def _check(page: Path, scorecard: dict, png: Path) -> dict:
    m = measure(BINARY, page)   # type: ignore[arg-type]
    screenshot(BINARY, page, png, m["height"])   # type: ignore[arg-type]
    assert png.stat().st_size > 10_000
    status = str(scorecard["run"]["status"]).upper()
    assert m["verdict"] == status and m["title"].endswith(f": {status}")
    sandbox = scorecard["run"].get("mode") == "sandbox"
    assert (m["banner"] or "").startswith("SANDBOX REHEARSAL") if sandbox else m["banner"] is None
    assert m["title"].startswith("SANDBOX: ") == sandbox
    assert m["first_section"] == "Business impact"
    assert m["sections"][:3] == ["impact", "owner", "timeline"]
    assert m["overflow"] == [], m["overflow"]
    assert m["height"] <= BASE_PX + PER_ROW_PX * _rows(scorecard), m["height"]
    return m


@pytest.mark.parametrize("status", ["passed", "failed", "aborted"])
@pytest.mark.parametrize("mode", ["live", "sandbox"])
def test_fixture_reports_render_cleanly(make_scorecard, tmp_path, status, mode):
    sc = make_scorecard(status, mode=mode)
    sc["timeline"][1]["step"] = "ec2.blackhole-subnets-of-the-primary-region-with-a-long-name"
    page = tmp_path / f"{status}-{mode}.html"
    page.write_text(render(sc, "html"), encoding="utf-8")
    _check(page, sc, _out(tmp_path) / f"fixture-{status}-{mode}.png")


@pytest.mark.e2e
@pytest.mark.parametrize("drill", DRILLS, ids=[d.name for d in DRILLS])
def test_bundled_drill_reports_in_chromium(drill, bundled_runs, tmp_path):
    run = bundled_runs(drill)
    assert run.done.returncode == 0, run.done.stderr[-3000:]
    card = run.run_dir / "scorecard.json"
    scorecard = json.loads(card.read_text(encoding="utf-8"))
    assert scorecard["run"]["mode"] == "sandbox" and scorecard["run"]["endpoint"].startswith("http://127.0.0.1:")
    _check(card.parent / "scorecard.html", scorecard, _out(tmp_path) / f"{drill.stem}.png")
    html = (card.parent / "scorecard.html").read_text(encoding="utf-8")
    assert f'<p class="headline">{scorecard["service"]["name"]}' in html


def test_failed_checks_by_service_render_cleanly(make_scorecard, tmp_path):
    """Issue 15: a scorecard with an attribution section (failed checks and targets by
    service) keeps the page free of overflow; the impaired services are on the page."""
    sc = make_scorecard("failed")
    sc["timeline"][4].update(status="timeout", detail="1 of 3 registered target(s) healthy in shop-use1-tg (need 3).")
    impaired = ["checkout", "shop-web"]
    sc["attribution"] = {"services_file": "/srv/estate/a-rather-long-path-to-the/services.yaml",
                         "impaired": impaired, "items": [
                             {"kind": "check", "what": "http.ok: " + sc["timeline"][4]["detail"], "step": "http.ok",
                              "timeline_index": 4, "owners": ["shop-web"], "impaired": impaired},
                             {"kind": "target", "what": "ec2:subnet subnet-0abc targeted by 'inject'", "step": "inject",
                              "timeline_index": None, "owners": ["shop-web"], "impaired": impaired}]}
    page = tmp_path / "attribution.html"
    html = render(sc, "html")
    page.write_text(html, encoding="utf-8")
    _check(page, sc, _out(tmp_path) / "fixture-attribution.png")
    assert "<li>checkout, shop-web impaired (http.ok: 1 of 3 registered target(s) healthy" in html
