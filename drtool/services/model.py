"""The services file (`kind: services`): tier policies, services and their objectives.

A *tier policy* gives RTO/RPO objectives per disruption type, modelled on AWS Resilience
Hub's resiliency policies, which set RTO/RPO per disruption type (Software, Hardware, AZ,
Region; Region optional) for a tier from MissionCritical to NonCritical
(https://docs.aws.amazon.com/resilience-hub/latest/userguide/resiliency-policies.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-resiliencehub-resiliencypolicy-policymap.html).
drtool's disruption types map onto them: `instance` ~ Hardware, `az` ~ AZ, `region` ~
Region, `data-corruption` ~ Software (the application destroys or corrupts its own data).
A disruption type a tier leaves out is not required of it (like Resilience Hub's optional
Region). Tiers are listed most severe first; that order sorts dashboards worst-first.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from drtool.documents.models import Duration, Name, PositiveDuration, Strict

Disruption = Literal["instance", "az", "region", "data-corruption"]
DISRUPTIONS: tuple[str, ...] = ("instance", "az", "region", "data-corruption")


class Objective(Strict):
    rto: PositiveDuration
    rpo: Duration | None = None


class PerDisruption(Strict):
    instance: Objective | None = None
    az: Objective | None = None
    region: Objective | None = None
    data_corruption: Objective | None = Field(default=None, alias="data-corruption")

    def get(self, disruption: str) -> Objective | None:
        return getattr(self, disruption.replace("-", "_"), None)


class TierPolicy(Strict):
    gate: bool = Field(default=False, description=(
        "`drtool coverage` exits 1 when a required cell of a service of this tier is untested or overdue"))
    every: PositiveDuration | None = Field(default=None, description=(
        "each required disruption type must be drilled live at least this often (overdue after)"))
    objectives: PerDisruption = Field(default_factory=PerDisruption, description=(
        "RTO/RPO per disruption type; a type left out is not required at this tier"))


class ResourceSelector(Strict):
    """AWS resources a service depends on: all `tags` (as the drill selected by them) and/or
    `names` (shell-style patterns on the resource id, name or ARN)."""

    tags: dict[str, str] = Field(default_factory=dict)
    names: list[str] = Field(default_factory=list)


class ServiceDoc(Strict):
    tier: str = Field(min_length=1, max_length=64)
    owner: str = Field(min_length=1, max_length=128)
    capability: str = Field(min_length=1, max_length=256, description="the business capability the service serves")
    description: str = ""
    depends_on: list[Name] = Field(default_factory=list, description="other services in this file")
    resources: list[ResourceSelector] = Field(default_factory=list)
    objectives: PerDisruption = Field(default_factory=PerDisruption, description=(
        "overrides of the tier's objectives for this service (per disruption type)"))


class ServicesDoc(Strict):
    kind: Literal["services"]
    description: str = ""
    tiers: dict[Name, TierPolicy] = Field(default_factory=dict, description=(
        "tier policies, most severe first; without this key the built-in ones (drtool.services.model.DEFAULT_TIERS)"))
    services: dict[Name, ServiceDoc]


DEFAULT_TIERS: dict[str, TierPolicy] = {
    "critical": TierPolicy.model_validate({"gate": True, "every": "90d", "objectives": {
        "instance": {"rto": "5m"}, "az": {"rto": "15m", "rpo": "1m"},
        "region": {"rto": "1h", "rpo": "15m"}, "data-corruption": {"rto": "4h", "rpo": "1h"}}}),
    "important": TierPolicy.model_validate({"every": "180d", "objectives": {
        "instance": {"rto": "15m"}, "az": {"rto": "1h", "rpo": "15m"},
        "region": {"rto": "8h", "rpo": "1h"}, "data-corruption": {"rto": "12h", "rpo": "24h"}}}),
    "standard": TierPolicy.model_validate({"every": "365d", "objectives": {
        "instance": {"rto": "1h"}, "az": {"rto": "4h", "rpo": "1h"}, "data-corruption": {"rto": "24h", "rpo": "24h"}}}),
}

_INFER = ((re.compile(r"region"), "region"), (re.compile(r"(^|[-_.])az([-_.]|$)|zone"), "az"),
          (re.compile(r"backup|restore|corrupt|delete|ransom"), "data-corruption"))


def infer_disruption(scenario_name: str | None) -> str:
    """The disruption type a scenario without `disruption:` stands for, from its name:
    region, az/zone, backup/restore/corrupt -> data-corruption, anything else -> instance."""
    name = (scenario_name or "").lower()
    return next((kind for pattern, kind in _INFER if pattern.search(name)), "instance")
