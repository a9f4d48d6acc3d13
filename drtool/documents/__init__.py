"""Scenario and drill documents (spec sections 4, 5 and 7.4).

- `models`: the strict pydantic models (unknown keys rejected, bounded numbers);
- `regions`: region and AZ names checked against botocore's partition data;
- `library`: deterministic, confined scenario lookup (path, else library by name);
- `parameters`: parameter types and `${name}` substitution;
- `binding`: the resolved `Drill` / `Step` and binding steps against the registry;
- `load`: read a file once, check a scenario, load a drill, validate a file in one pass.

YAML itself is read by `drtool.loader` (bounded, aliases refused, marks kept).
"""

from drtool.documents.binding import CHECK_PHASES, PHASES, Drill, Step
from drtool.documents.library import (
    LookupProblem,
    bundled_dir,
    find_scenario,
    library_dirs,
    repository_root,
    resolve_scenario,
    scenario_index,
)
from drtool.documents.load import (
    Document,
    bind_drill,
    check_scenario,
    load_drill,
    read,
    read_document,
    validate_file,
)
from drtool.documents.models import (
    AccountId,
    AwsConfig,
    BackupPosture,
    DrillDoc,
    Duration,
    Guardrails,
    Impact,
    Objectives,
    ParameterSpec,
    ParamType,
    Placeholder,
    Posture,
    Recovery,
    RunConfig,
    SandboxConfig,
    ScenarioDoc,
    Schedule,
    Service,
    StepDoc,
    StopCondition,
    Strict,
)
from drtool.documents.parameters import coerce_parameter, substitute
from drtool.documents.problems import closest, did_you_mean
from drtool.documents.schema import json_schema

__all__ = ["CHECK_PHASES", "PHASES", "AccountId", "AwsConfig", "BackupPosture", "Document", "Drill", "DrillDoc", "Duration",
           "Guardrails", "Impact", "LookupProblem", "Objectives", "ParamType", "ParameterSpec", "Placeholder", "Posture",
           "Recovery", "RunConfig", "SandboxConfig", "ScenarioDoc", "Schedule", "Service", "Step", "StepDoc", "StopCondition",
           "Strict", "bind_drill", "bundled_dir", "check_scenario", "closest", "coerce_parameter", "did_you_mean",
           "find_scenario", "json_schema", "library_dirs", "load_drill", "read", "read_document",
           "repository_root", "resolve_scenario", "scenario_index", "substitute", "validate_file"]
