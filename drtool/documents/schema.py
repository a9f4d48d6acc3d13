"""The JSON Schema of both document kinds, generated from the same models."""

from __future__ import annotations

from typing import Any

from drtool.documents.models import DrillDoc, ScenarioDoc


def json_schema() -> dict[str, Any]:
    """JSON Schema of every document kind (drill, scenario, services; for
    yaml-language-server), from the same models."""
    from drtool.services.model import ServicesDoc

    drill = DrillDoc.model_json_schema(by_alias=True)
    scenario = ScenarioDoc.model_json_schema(by_alias=True)
    services = ServicesDoc.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "drtool document (drill, scenario or services)",
        "oneOf": [{"$ref": "#/$defs/drill"}, {"$ref": "#/$defs/scenario"}, {"$ref": "#/$defs/services"}],
        "$defs": {**drill.pop("$defs", {}), **scenario.pop("$defs", {}), **services.pop("$defs", {}),
                  "drill": drill, "scenario": scenario, "services": services},
    }
