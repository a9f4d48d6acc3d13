"""The live view of a real sandbox drill: in a tmux pane (a terminal: rich redraws in place)
and through a pipe (plain lines for CI logs). The drill's verify check asks the sandbox
for a path it does not serve, so it fails with a reason while the RTO budget runs out."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = (ROOT / "scenarios" / "az-loss.yaml").read_text().replace(
    "verify:\n", "verify:\n  - check: http.ok\n    name: order page answers\n"
                 "    with: {url: \"${broken_url}\"}\n    timeout: 6s\n", 1).replace(
    "  min_healthy:", "  broken_url:   {type: string}\n  min_healthy:", 1).replace("name: az-loss", "name: az-loss-x", 1)

DRILL = """\
kind: drill
name: live-view
scenario: ./az-loss-x.yaml
service: {name: shop-web, tier: critical, owner: web-sre}
parameters:
  region: us-east-1
  az: us-east-1a
  app: shop
  group: shop-use1
  target_group: shop-use1-tg
  health_url: "https://shop.example.com/health"
  broken_url: "https://shop.example.com/orders"
  min_healthy: 3
objectives: {rto: 4s}
impact: {expect: true, within: 3m}
recovery: {stable_for: 30s}
poll: 0.5s
guardrails:
  accounts: ["123456789012"]
  max_targets: 3
  require_tags: {drill: allowed}
  time_limit: 5m
sandbox:
  estate: webshop
  parameters:
    health_url: "${sandbox.endpoint}/region/us-east-1/health"
    broken_url: "${sandbox.endpoint}/no-such-page"
"""


def write_drill(folder: Path) -> Path:
    (folder / "az-loss-x.yaml").write_text(SCENARIO)
    drill = folder / "live-view.yaml"
    drill.write_text(DRILL)
    return drill


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out.update({"PYTHONPATH": str(ROOT), "TERM": "xterm-256color"})
    return out


def budget(text: str) -> float | None:
    """The elapsed seconds in `RTO 3.21s since the fault` (None when not shown)."""
    found = re.findall(r"RTO (\d+(?:\.\d+)?)s since the fault", text)
    return float(found[-1]) if found else None


@pytest.mark.e2e
def test_tmux_pane_shows_a_moving_budget_and_the_failing_checks_reason(tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install -y tmux): live view in a terminal not checked")
    drill = write_drill(tmp_path)
    socket = f"drtool-live-{os.getpid()}"
    command = f"{sys.executable} -m drtool run {drill} --sandbox --yes; echo EXIT=$?; sleep 120"
    tmux = ["tmux", "-L", socket]
    subprocess.run([*tmux, "new-session", "-d", "-s", "drill", "-x", "220", "-y", "50", "-c", str(tmp_path),
                    command], env=env(), check=True)
    try:
        def capture() -> str:
            return subprocess.run([*tmux, "capture-pane", "-p", "-t", "drill"], capture_output=True, text=True,
                                  check=True).stdout

        deadline, first = time.monotonic() + 90, ""
        while time.monotonic() < deadline:
            first = capture()
            if budget(first) is not None and "no-such-page answered 404" in first:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"the live view never showed the budget and the check's reason:\n{first}")
        time.sleep(1.5)
        second = capture()
        assert budget(second) is not None and budget(second) > budget(first) + 0.5, (first, second)
        assert "FAIL order page answers: GET http://127.0.0.1:" in second
        assert "no-such-page answered 404" in second
        while time.monotonic() < deadline and "EXIT=" not in (final := capture()):
            time.sleep(0.5)
        assert "RTO BUDGET EXCEEDED" in final and "EXIT=1" in final, final
        assert final.count("╭─ drtool  live-view  [sandbox]") == 1          # redrawn in place, not repeated
        (tmp_path / "pane-first.txt").write_text(first)
        (tmp_path / "pane-final.txt").write_text(final)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


@pytest.mark.e2e
def test_plain_lines_when_stderr_is_not_a_terminal(tmp_path):
    drill = write_drill(tmp_path)
    result = subprocess.run([sys.executable, "-m", "drtool", "run", str(drill), "--sandbox", "--yes"],
                            cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=180,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 1, result.stderr
    err = result.stderr
    assert "\x1b[" not in err and "╭" not in err                # no escape codes or panels in a CI log
    live = [line for line in err.splitlines() if line.startswith("live  ")]
    assert any("waiting on order page answers: GET http://127.0.0.1:" in line and "answered 404" in line
               for line in live), err
    elapsed = [b for b in map(budget, live) if b is not None]
    assert len(elapsed) >= 2 and elapsed[-1] > elapsed[0]
    assert any("!! RTO BUDGET EXCEEDED" in line for line in live)
    assert len(live) < 60                                          # on change only, not every poll
    assert "FAILED  live-view" in result.stdout
