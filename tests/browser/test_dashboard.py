"""The dashboard from real sandbox runs, rendered in headless Chromium: three bundled
drills (the demo's region loss, a backup restore, and an instance termination copied with
a 1 s RTO so it misses), then `drtool dashboard`; the management page names the service
that missed first. Skipped, with the reason, when chromium is not installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def drtool(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "drtool", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def chromium(page: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("dash")
    slow = work / "slow-instance-termination.yaml"
    text = (ROOT / "drills" / "instance-termination.yaml").read_text()
    slow.write_text(text.replace("name: shop-instance-termination", "name: shop-instance-termination-tight")
                    .replace("  rto: 2m ", "  rto: 1s ").replace("impact: {expect: true, within: 2m}",
                                                                 "impact: {expect: true, within: 2m}"))
    runs = [(ROOT / "drills" / "checkout-region-loss.yaml", 0), (ROOT / "drills" / "backup-restore.yaml", 0),
            (slow, 1)]
    for drill, expected in runs:
        result = drtool(["run", str(drill), "--sandbox", "--yes", "--results", "R", "--format", "html"], work)
        assert result.returncode == expected, (drill, result.stdout[-2000:], result.stderr[-2000:])
    out = drtool(["dashboard", "--results", "R", "--services", str(ROOT / "drills" / "services.yaml"), "-o", "site"],
                 work)
    assert out.returncode == 0, out.stderr
    assert "worst first: Customers can browse the catalogue (missed)" in out.stdout
    return work / "site"


def test_site_is_self_contained(site):
    for page in ("index.html", "owners.html", "engineers.html"):
        html = (site / page).read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), page     # no external asset
        assert "<script" not in html and "<style>" in html


def test_management_page_names_the_worst_service_first(site, tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    dom = chromium(site / "index.html", tmp_path, "--dump-dom").stdout
    rows = re.findall(r'<tr class="(missed|gap|unproven|ok)"><td><b>([^<]+)</b>', dom)
    assert rows[0] == ("missed", "Customers can browse the catalogue"), rows
    assert rows[1] == ("gap", "Customers can place and pay for orders")            # critical, not drilled live
    assert len(rows) == 3
    first = dom.split('<tr class="missed">', 1)[1].split("</tr>", 1)[0]
    assert "Missed its objective" in first and "OVER objective" in first and "sandbox rehearsal" in first
    assert 'id="lead-schedule"' in dom and "0 of 3" in dom                          # sandbox never counts
    assert dom.count('class="chart"') == 3
    shot = tmp_path / "index.png"
    chromium(site / "index.html", tmp_path, f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.stat().st_size > 10_000
    if os.environ.get("DRTOOL_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["DRTOOL_KEEP_SCREENSHOT"])


def test_owners_and_engineers_pages(site, tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    owners = chromium(site / "owners.html", tmp_path, "--dump-dom").stdout
    for owner in ("payments-sre", "web-sre", "data-platform"):
        assert f'id="owner-{owner}"' in owners
    assert owners.count('class="chart"') == 6 and 'data-service="checkout" data-kind="rpo"' in owners
    assert "sandbox-only: RTO" in owners and "follow-up" in owners
    engineers = chromium(site / "engineers.html", tmp_path, "--dump-dom").stdout
    links = re.findall(r'href="(runs/[^"]+)"', engineers)
    assert len(links) == 6
    for link in links:
        assert (site / link).is_file(), link
    assert "checkout, shop-web" in engineers          # region loss targets the web tier's subnets (app=shop)
