"""Headless Chromium for report checks: a PNG screenshot and a measured DOM.

The reports carry no scripts, so the measuring script is added to a copy of the page
(never to the report): it writes the page height, the verdict, the banner and every
element whose content overflows its box into `<pre id="drtool-measure">`, and
`--dump-dom` prints the DOM after the script ran. No DevTools protocol, no network:
`file://` pages, `--disable-background-networking`, a throwaway profile.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--disable-extensions", "--mute-audio"]
WIDTH = 1200

MEASURE = """<script>
(function () {
  function overflowing() {
    var out = [];
    document.querySelectorAll("body *").forEach(function (el) {
      if (el.closest("svg") && el.tagName.toLowerCase() !== "svg") return;
      var style = getComputedStyle(el);
      if (style.overflowX === "auto" || style.overflowX === "scroll") return;  // scrolls on purpose
      if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
        out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + ": " + el.textContent.slice(0, 60));
      }
    });
    document.querySelectorAll("svg text").forEach(function (t) {   // labels cut by the SVG's box
      var svg = t.ownerSVGElement, box = t.getBBox(), vb = svg.viewBox.baseVal;
      if (box.x < vb.x - 0.5 || box.x + box.width > vb.x + vb.width + 0.5) out.push("svg text: " + t.textContent);
      if (/(…|[.][.][.])$/.test(t.textContent)) out.push("svg label cut: " + t.textContent);
    });
    var page = document.documentElement;
    if (page.scrollWidth > page.clientWidth + 1) out.push("page wider than the window: " + page.scrollWidth);
    return out;
  }
  function text(sel) { var el = document.querySelector(sel); return el ? el.textContent.trim() : null; }
  var result = {height: document.documentElement.scrollHeight, title: document.title,
                verdict: text(".verdict"), banner: text(".banner"), first_section: text("section h2"),
                sections: Array.prototype.map.call(document.querySelectorAll("section"), function (s) { return s.id; }),
                overflow: overflowing()};
  var pre = document.createElement("pre"); pre.id = "drtool-measure";
  pre.textContent = JSON.stringify(result); document.body.appendChild(pre);
})();
</script>"""


def find() -> str | None:
    """The chromium binary (Debian's `chromium` package), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _run(binary: str, profile: str, args: list[str], timeout: float = 90) -> str:
    done = subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def measure(binary: str, page: Path) -> dict[str, Any]:
    """Load a copy of `page` with the measuring script; the measurements as a dict."""
    html = page.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="drtool-chromium-") as tmp:
        probe = Path(tmp) / "probe.html"
        probe.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
        dom = _run(binary, str(Path(tmp) / "profile"),
                   [f"--window-size={WIDTH},900", "--virtual-time-budget=2000", "--dump-dom", probe.as_uri()])
    start = dom.index('<pre id="drtool-measure">') + len('<pre id="drtool-measure">')
    raw = dom[start:dom.index("</pre>", start)]
    return json.loads(raw.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&"))


def screenshot(binary: str, page: Path, png: Path, height: int) -> Path:
    """A PNG of the whole page (`height`: the measured page height)."""
    with tempfile.TemporaryDirectory(prefix="drtool-chromium-") as tmp:
        _run(binary, str(Path(tmp) / "profile"),
             [f"--window-size={WIDTH},{max(height, 200)}", f"--screenshot={png}", page.as_uri()])
    return png
