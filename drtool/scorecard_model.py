"""The typed `drtool.scorecard/v1` (SPEC sections 6 and 7.2): one pydantic model of what
`drtool.scorecard.build_scorecard` produces plus the `integrity` block `drtool.integrity.seal`
adds. `drtool schema --scorecard` prints its JSON Schema; a test validates every scorecard
the bundled sandbox drills produce against it.

Known fields are typed; blocks whose content comes from probes or AWS (`evidence`,
`parameters`, `posture`, `sources`) stay open mappings.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_ID = "drtool.scorecard/v1"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Run(_Closed):
    id: str
    drill: str
    scenario: str
    disruption: str | None = Field(default=None, description="instance | az | region | data-corruption")
    mode: Literal["live", "sandbox"]
    status: Literal["passed", "failed", "aborted", "rollback-incomplete"]
    exit_code: Literal[0, 1, 3, 5]
    reason: str | None
    started_at: str
    ended_at: str
    tool_version: str
    account_ids: list[str]
    regions: list[str]
    seed: int | None = None
    operator: str | None = None
    sources: dict[str, Any] | None = None
    parameters: dict[str, Any] | None = None
    time_scale: float | None = None
    endpoint: str | None = Field(default=None, description="custom endpoint(s) the run went to; null for AWS's own")


class Rto(_Closed):
    target_s: float
    measured_s: float | None
    met: bool
    fault_at: str | None
    recovered_at: str | None
    impact_at: str | None = Field(description="first poll after the fault at which a steady-state check failed")
    impact_observed: bool | None = Field(description="null when the scenario has no steady state")
    detection_s: float | None = Field(description="fault -> impact")
    downtime_s: float | None = Field(description="impact -> recovered")
    resolution_s: float | None = Field(default=None, description=(
        "gap between the last failing and the first passing poll: the true recovery lies this much "
        "before recovered_at at most (measured_s is an upper bound)"))
    estimate_s: float | None = Field(default=None, description=(
        "midpoint of the last failing and the first passing poll: the RTO estimate (met is judged on measured_s)"))
    estimate_half_width_s: float | None = Field(default=None, description=(
        "the true RTO lies within this of estimate_s (half of resolution_s)"))
    workaround_at: str | None = Field(default=None, description="workaround in place (issue 15); absent without one")
    workaround_s: float | None = Field(default=None, description="fault -> workaround")
    first: Literal["workaround", "recovery"] | None = Field(default=None, description="which came first")


class RpoMeasurement(BaseModel):
    model_config = ConfigDict(extra="allow")

    method: str
    measured_s: float | None
    detail: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)
    lower_bound_s: float | None = Field(default=None, description=(
        "the true RPO is at least this (canary: fault - the next acknowledged canary, which did not replicate)"))


class Rpo(_Closed):
    target_s: float | None
    measured_s: float | None
    met: bool | None
    lost_canaries: int | None = Field(description="canaries written before the fault that the recovered store lacks")
    estimate_s: float | None = Field(default=None, description=(
        "midpoint of the headline measurement's bounds (canary: within one interval); met is judged on measured_s"))
    estimate_half_width_s: float | None = Field(default=None, description=(
        "the true RPO lies within this of estimate_s"))
    method: str | None
    detail: str
    evidence: dict[str, Any]
    measurements: list[RpoMeasurement]
    sources: list[str] | None = Field(default=None, description="the configured RPO sources (run.started)")


class Objectives(_Closed):
    rto: Rto
    rpo: Rpo


class TimelineItem(_Closed):
    phase: str
    step: str
    kind: str
    started_at: str
    ended_at: str | None
    status: str
    detail: str


class Target(_Closed):
    id: str
    arn: str | None
    type: str
    region: str | None
    selected_by: str
    step: str | None


class Remaining(_Closed):
    summary: str
    undo: str
    region: str | None
    step: str | None
    reason: str = Field(description="why the undo did not run or failed")


class FailbackStep(_Closed):
    index: int
    kind: str = Field(description="undo | wait | check")
    name: str
    undoes: str | None = Field(default=None, description="undo: the step whose changes it undid")
    status: str = Field(description="ok | failed | skipped (a wait of an older journal, or nothing left to undo, when `drtool rollback` replayed the order)")
    detail: str = ""


class Failback(_Closed):
    """The scenario's ordered failback (`failback:`), as it ran."""

    status: Literal["complete", "stopped", "replayed", "interrupted", "not-run", "abandoned"] = Field(description=(
        "complete: every entry held; stopped: an entry failed (or `drtool rollback` found an undo failing) and "
        "the failback stopped there, everything after it left changed for `drtool rollback` (listed under "
        "`remaining`, reason 'held back: ...'); replayed: `drtool rollback` kept the order after a crash or a "
        "stop, its waits and checks asked again; interrupted: the runner died during the failback; not-run: no fault was "
        "injected, or the run ended before its rollback; abandoned: older runs (an entry failed and the rest "
        "was undone in reverse order)"))
    reason: str | None = None
    steps: list[FailbackStep]


class Rollback(_Closed):
    status: Literal["complete", "not-needed", "incomplete"]
    remaining: list[Remaining]
    failback: Failback | None = Field(default=None, description="present when the scenario declares `failback:`")


class FollowUp(_Closed):
    resource: str | None
    summary: str | None
    how: str | None
    step: str | None


class Manual(_Closed):
    step: str | None
    text: str | None
    acknowledged_by: str | None
    at: str | None
    assumed: bool | None


class Schedule(_Closed):
    every_s: float | None


class JournalRef(_Closed):
    events: int
    file: str


class Integrity(_Closed):
    sha256: str
    previous_sha256: str | None
    version: int
    journal_sha256: str | None
    previous_chain_sha256: str | None
    chain_sha256: str


class AttributedItem(_Closed):
    kind: Literal["check", "target"]
    what: str = Field(description='a failed check ("<check>: <its detail>") or a targeted resource')
    step: str | None
    timeline_index: int | None = Field(description="the failed timeline[] entry; null for the impact and targets")
    owners: list[str] = Field(description="services whose `resources:` selectors match what it names")
    impaired: list[str] = Field(description="the owners and every service depending on them, most severe tier first")


class Attribution(_Closed):
    """Root cause to service (issue 15), from the services file the drill names."""

    services_file: str
    impaired: list[str] = Field(description="every service the run impaired, the drill's own first")
    items: list[AttributedItem]


class Service(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    tier: str | None = None
    owner: str | None = None


class Scorecard(_Closed):
    """One drill run's scorecard (`scorecard.json`)."""

    model_config = ConfigDict(extra="allow", title="drtool.scorecard/v1")   # additive fields (SPEC 6) stay valid

    schema_: Literal["drtool.scorecard/v1"] = Field(alias="schema")
    run: Run
    service: Service
    objectives: Objectives
    timeline: list[TimelineItem]
    targets: list[Target]
    rollback: Rollback
    follow_up: list[FollowUp]
    manual: list[Manual]
    schedule: Schedule
    posture: dict[str, Any] | None
    journal: JournalRef
    integrity: Integrity | None = None
    attribution: Attribution | None = Field(default=None, description=(
        "failed checks and targets by service; absent when the drill names no services file"))


def scorecard_json_schema() -> dict[str, Any]:
    """The JSON Schema `drtool schema --scorecard` prints."""
    schema = Scorecard.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    return schema
