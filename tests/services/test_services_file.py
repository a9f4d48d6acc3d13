"""The services file: loader, semantic checks, schema, validate --services [--strict]."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from drtool.cli import invoke
from drtool.errors import DocumentError
from drtool.services.estate import load_services
from drtool.services.model import infer_disruption
from tests.services.conftest import ROOT, SERVICES


def test_bundled_estate_has_three_services_of_different_tiers():
    estate = load_services(SERVICES)
    tiers = {name: svc.tier for name, svc in estate.services.items()}
    assert tiers == {"checkout": "critical", "shop-web": "important", "shop-data": "standard"}
    assert estate.objective("checkout", "region").rto == 1800          # the service's own, stricter
    assert estate.objective("shop-web", "region").rto == 8 * 3600      # from its tier
    assert estate.objective("shop-data", "region") is None             # the tier leaves it out
    assert estate.impaired_by("shop-web") == ["checkout", "shop-web"]


def test_every_bundled_drill_names_a_service_of_the_file():
    estate = load_services(SERVICES)
    for path in (ROOT / "drills").glob("*.yaml"):
        text = path.read_text()
        if "kind: drill" in text:
            name = text.split("service: {name: ", 1)[1].split(",", 1)[0]
            assert name in estate.services, path


def test_unknown_tier_unknown_dependency_and_cycle_are_reported_by_line(tmp_path):
    path = tmp_path / "services.yaml"
    path.write_text("kind: services\nservices:\n  a: {tier: critcal, owner: o, capability: c, depends_on: [b]}\n"
                    "  b: {tier: critical, owner: o, capability: c, depends_on: [a, nope]}\n")
    with pytest.raises(DocumentError) as err:
        load_services(path)
    text = "\n".join(str(p) for p in err.value.problems)
    assert f"{path}:3:" in text and "unknown tier 'critcal'" in text and "critical" in text
    assert "unknown service 'nope'" in text and f"{path}:4:" in text
    assert "dependency cycle: a -> b -> a" in text


def test_schema_errors_use_the_drill_loader(tmp_path, capsys):
    path = tmp_path / "services.yaml"
    path.write_text("kind: services\nservices:\n  a: {tier: critical, owner: o, capability: c, colour: red}\n")
    assert invoke(["validate", str(path)]) == 2
    assert f"{path}:3:" in capsys.readouterr().err


def test_schema_command_includes_services(capsys):
    assert invoke(["schema", "--kind", "services"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "services" in schema["properties"] and "tiers" in schema["properties"]


def test_validate_with_services_passes_the_bundled_drills_strictly(capsys):
    assert invoke(["validate", "--services", str(SERVICES), "--strict", str(ROOT / "drills")]) == 0
    assert "warning" not in capsys.readouterr().err


def test_weaker_drill_warns_and_fails_only_with_strict(tmp_path, capsys):
    drill = tmp_path / "drills" / "region.yaml"
    drill.parent.mkdir()
    text = (ROOT / "drills" / "checkout-region-loss.yaml").read_text()
    drill.write_text(text.replace("  rto: 15m ", "  rto: 2h ").replace("  rpo: 5m ", "  rpo: 30m "))
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    assert invoke(["validate", "--services", str(SERVICES), str(drill)]) == 0
    err = capsys.readouterr().err
    line = next(i for i, t in enumerate(drill.read_text().splitlines(), 1) if t.startswith("  rto:"))
    assert f"warning: {drill}:{line}:" in err and "rto 2h00m is weaker than 30m00s" in err
    assert "rpo 30m00s is weaker than 5m00s" in err
    assert invoke(["validate", "--services", str(SERVICES), "--strict", str(drill)]) == 2
    assert "weaker than the tier policy (--strict)" in capsys.readouterr().err


def test_drill_naming_an_unknown_service_is_flagged(tmp_path, capsys):
    drill = tmp_path / "x.yaml"
    drill.write_text((ROOT / "drills" / "az-loss.yaml").read_text().replace("name: shop-web", "name: shop-webb"))
    assert invoke(["validate", "--services", str(SERVICES), "--strict", str(drill)]) == 2
    assert "service 'shop-webb' is not in" in capsys.readouterr().err


def test_strict_needs_services(capsys):
    assert invoke(["validate", "--strict", str(ROOT / "drills")]) == 2


@pytest.mark.parametrize(("name", "kind"), [("region-loss", "region"), ("az-loss", "az"), ("lose-zone", "az"),
                                            ("backup-restore", "data-corruption"), ("rds-failover", "instance"),
                                            ("hazard", "instance")])
def test_disruption_inferred_from_scenario_name(name, kind):
    assert infer_disruption(name) == kind


def test_bundled_scenarios_declare_their_disruption():
    for path in Path(ROOT / "scenarios").glob("*.yaml"):
        assert "\ndisruption: " in path.read_text(), path
