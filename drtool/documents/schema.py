"""The JSON Schema of both document kinds, generated from the same models."""

from __future__ import annotations

from typing import Any

from drtool.documents.models import DrillDoc, ScenarioDoc


def json_schema() -> dict[str, Any]:
    """JSON Schema of both document kinds (for yaml-language-server), from the same models."""
    drill = DrillDoc.model_json_schema(by_alias=True)
    scenario = ScenarioDoc.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "drtool document (drill or scenario)",
        "oneOf": [{"$ref": "#/$defs/drill"}, {"$ref": "#/$defs/scenario"}],
        "$defs": {**drill.pop("$defs", {}), **scenario.pop("$defs", {}), "drill": drill, "scenario": scenario},
    }
