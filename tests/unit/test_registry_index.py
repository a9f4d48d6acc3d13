"""The registry index (which module registers which name) matches the modules, and a
lookup imports only the module it names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from drtool.registry import render_index

ROOT = Path(__file__).resolve().parents[2]


def test_index_is_current() -> None:
    current = (ROOT / "drtool" / "registry_index.py").read_text()
    assert current == render_index(), \
        "drtool/registry_index.py is stale: PYTHONPATH=. python -m drtool.registry_index > drtool/registry_index.py"


def test_lookup_imports_only_the_named_module() -> None:
    code = ("import json, sys\n"
            "from drtool.registry import ACTIONS, UNDOS\n"
            "ACTIONS.get('autoscaling.set-capacity'); UNDOS.get('autoscaling.restore-capacity')\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('drtool.aws.'))))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out)
    assert "drtool.aws.autoscaling" in loaded
    assert not {"drtool.aws.fis", "drtool.aws.rds", "drtool.aws.arc_region_switch", "drtool.aws.route53"} & set(loaded)


def test_unknown_name_still_suggests_from_every_module() -> None:
    from drtool.registry import ACTIONS, UnknownEntry

    with pytest.raises(UnknownEntry) as caught:
        ACTIONS.get("fis.experimnet")
    assert caught.value.suggestion == "fis.experiment"
