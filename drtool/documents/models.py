"""The document models (spec sections 4, 5 and 7.4): one strict base, bounded numbers.

Every model rejects unknown keys. Numbers are finite and in range: durations go through
`parse_duration` (finite, at most 366 days), `poll` is at least 0.1 s, `time_limit`,
`rto` and step timeouts are positive, and counts are strict integers (`true` is not 1).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, model_validator

from drtool.documents.regions import check_region
from drtool.durations import parse_duration
from drtool.rpo.config import RpoConfig

MIN_POLL = 0.1


def _duration(value: Any) -> float:
    return parse_duration(value)


def _positive(seconds: float) -> float:
    if seconds <= 0:
        raise ValueError("must be greater than 0")
    return seconds


def _poll(seconds: float) -> float:
    if seconds < MIN_POLL:
        raise ValueError(f"must be at least {MIN_POLL}s (got {seconds:g}s)")
    return seconds


def _account(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        value = f"{value:012d}"
    if not isinstance(value, str) or not re.fullmatch(r"\d{12}", value):
        raise ValueError(f"expected a 12-digit AWS account id (quote it in YAML), got {value!r}"[:120])
    return value


def _region(value: str) -> str:
    message = check_region(value)
    if message:
        raise ValueError(message)
    return value


_DURATION_SCHEMA = {"type": ["string", "number"], "pattern": r"^\d+(\.\d+)?(ms|s|m|h|d)?$"}
Duration = Annotated[float, BeforeValidator(_duration), Field(json_schema_extra=_DURATION_SCHEMA)]
PositiveDuration = Annotated[float, BeforeValidator(_duration), AfterValidator(_positive),
                             Field(json_schema_extra=_DURATION_SCHEMA)]
PollDuration = Annotated[float, BeforeValidator(_duration), AfterValidator(_poll),
                         Field(json_schema_extra=_DURATION_SCHEMA)]
AccountId = Annotated[str, BeforeValidator(_account)]
Region = Annotated[str, AfterValidator(_region)]
Placeholder = Annotated[str, Field(pattern=r"^\$\{[A-Za-z_][A-Za-z0-9_.-]*\}$")]
Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=128)]


class Strict(BaseModel):
    """Base of every document model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


# --- scenario -------------------------------------------------------------------------

ParamType = Literal["string", "integer", "number", "boolean", "duration", "list", "secret"]


class ParameterSpec(Strict):
    type: ParamType = "string"
    default: Any = None
    description: str | None = None


FORMS = ("action", "wait", "check", "manual")


class StepDoc(Strict):
    """One step. Exactly one of action / wait / check / manual."""

    action: str | None = None
    wait: str | None = None
    check: str | None = None
    manual: str | None = None
    name: str | None = None
    timeout: PositiveDuration | Placeholder | None = None
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    targets: dict[str, Any] | None = None
    account: Name | Placeholder | None = Field(default=None, description=(
        "act in this account: a name under the drill's `aws.accounts` (usually `${param}` the drill binds); "
        "default: the drill's own account"))

    @model_validator(mode="after")
    def _one_form(self) -> StepDoc:
        forms = [f for f in FORMS if getattr(self, f) is not None]
        if len(forms) != 1:
            raise ValueError("a step needs exactly one of action, wait, check or manual"
                             + (f" (found {', '.join(forms)})" if forms else ""))
        return self

    @property
    def form(self) -> str:
        return next(f for f in FORMS if getattr(self, f) is not None)

    @property
    def ref(self) -> str:
        return getattr(self, self.form)


FAILBACK_FORMS = ("undo", "wait", "check")


class FailbackStepDoc(Strict):
    """One failback entry: exactly one of `undo` (a step's journaled changes, undone now),
    `wait` or `check` (a probe, as in `recover`)."""

    undo: str | None = Field(default=None, description=(
        "an inject, recover or workaround step (its name, or its action when only one step uses it) "
        "whose journaled changes are undone now"))
    wait: str | None = None
    check: str | None = None
    name: str | None = None
    timeout: PositiveDuration | Placeholder | None = None
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    account: Name | Placeholder | None = None

    @model_validator(mode="after")
    def _one_form(self) -> FailbackStepDoc:
        forms = [f for f in FAILBACK_FORMS if getattr(self, f) is not None]
        if len(forms) != 1:
            raise ValueError("a failback entry needs exactly one of undo, wait or check"
                             + (f" (found {', '.join(forms)})" if forms else ""))
        if self.undo is not None and (self.with_ or self.timeout is not None or self.account is not None):
            raise ValueError("an `undo:` entry takes no with, timeout or account: it replays the journaled undos")
        return self

    @property
    def form(self) -> str:
        return next(f for f in FAILBACK_FORMS if getattr(self, f) is not None)

    @property
    def ref(self) -> str:
        return str(getattr(self, self.form))


class Impact(Strict):
    """SPEC 7.1: the fault must be seen by a steady-state check within `within` of the fault."""

    expect: bool = False
    within: PositiveDuration | None = None


class Recovery(Strict):
    """SPEC 7.1: recovered only once every check has kept passing this long."""

    stable_for: Duration = 0.0


class ScenarioDoc(Strict):
    kind: Literal["scenario"]
    name: Name
    description: str = ""
    disruption: Literal["instance", "az", "region", "data-corruption"] | None = Field(default=None, description="the disruption type this scenario stands for (default: inferred from its name)")
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    steady_state: list[StepDoc] = Field(default_factory=list, description=(
        "user-facing checks that hold before the fault, fail while the service is impaired, "
        "and hold again after recovery (SPEC 7.1)"))
    impact: Impact | None = None
    inject: list[StepDoc] = Field(default_factory=list)
    recover: list[StepDoc] = Field(default_factory=list)
    workaround: list[StepDoc] = Field(default_factory=list, description=(
        "steps that keep the business going while `recover` restores the service (actions, waits, "
        "manual acknowledgements); they run beside `recover` from the fault on, timed separately"))
    verify: list[StepDoc] = Field(default_factory=list)
    failback: list[FailbackStepDoc] = Field(default_factory=list, description=(
        "run in order, instead of plain reverse-order undo, once the fault was injected: undo named steps, "
        "wait for probes (e.g. the primary's health, a record's TTL); whatever they leave changed is then "
        "undone in reverse order"))
    rollback: list[StepDoc] = Field(default_factory=list)


# --- drill ----------------------------------------------------------------------------

class Service(Strict):
    name: str
    tier: str = "unspecified"
    owner: str = "unspecified"


class Objectives(Strict):
    rto: PositiveDuration
    rpo: Duration | None = None


class StopCondition(Strict):
    alarm: str
    region: Region | None = None
    account: Name | None = Field(default=None, description="a name under `aws.accounts` (default: the drill's own)")


class Guardrails(Strict):
    accounts: list[AccountId] | None = Field(default=None, description="the run refuses any other account (via STS)")
    max_targets: StrictInt | None = Field(default=None, ge=0, le=100_000)
    require_tags: dict[str, str] = Field(default_factory=dict)
    stop_conditions: list[StopCondition] = Field(default_factory=list)
    time_limit: PositiveDuration | None = None
    allow_irreversible: bool = Field(default=False, description=(
        "let steps without an undo (e.g. rds.promote-read-replica) run against a real account (spec 7.3)"))


class Schedule(Strict):
    every: PositiveDuration


ROLE_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$"


class AccountRoleDoc(Strict):
    """Another account a step may act in: the role drtool assumes there."""

    role_arn: str = Field(pattern=ROLE_ARN)
    external_id: str | None = None


class AwsConfig(Strict):
    profile: str | None = None
    region: Region | None = None
    role_arn: str | None = Field(default=None, pattern=ROLE_ARN)
    external_id: str | None = None
    accounts: dict[Name, AccountRoleDoc] = Field(default_factory=dict, description=(
        "named accounts steps, probes and stop conditions may act in (`account: NAME`), each through its role, "
        "assumed with the drill's own credentials"))


class RunConfig(Strict):
    regions: list[Region] = Field(default_factory=list)
    account_ids: list[AccountId] = Field(default_factory=list)


class BackupPosture(Strict):
    """A `drtool backups check` of the service's resources, run before the drill starts;
    its verdicts land in the scorecard under `posture` as evidence."""

    rpo: PositiveDuration
    tags: dict[str, str] = Field(default_factory=dict)
    regions: list[Region] = Field(default_factory=list, description="default: the drill's regions")
    copy_regions: list[Region] = Field(default_factory=list)


class Posture(Strict):
    backups: BackupPosture | None = None


class SandboxConfig(Strict):
    estate: str
    parameters: dict[str, Any] = Field(default_factory=dict)


class DrillDoc(Strict):
    kind: Literal["drill"]
    name: Name
    description: str = ""
    scenario: str = Field(min_length=1, max_length=1024)
    service: Service
    parameters: dict[str, Any] = Field(default_factory=dict)
    objectives: Objectives | None = Field(default=None, description=(
        "RTO/RPO targets; when left out, taken from the `services:` file's tier policy for the "
        "service and the scenario's disruption type"))
    services: str | None = Field(default=None, max_length=1024, description=(
        "a services file (kind: services), relative to this drill, whose tier policy gives the "
        "objectives when `objectives:` is left out"))
    rpo: RpoConfig | None = None
    poll: PollDuration = 5.0
    schedule: Schedule | None = None
    guardrails: Guardrails = Field(default_factory=Guardrails)
    aws: AwsConfig = Field(default_factory=AwsConfig)
    run: RunConfig = Field(default_factory=RunConfig)
    sandbox: SandboxConfig | None = None
    posture: Posture | None = None
    impact: Impact | None = Field(default=None, description="overrides the scenario's `impact:`")
    recovery: Recovery = Field(default_factory=Recovery)

    @model_validator(mode="after")
    def _known_accounts(self) -> DrillDoc:
        for condition in self.guardrails.stop_conditions:
            if condition.account and condition.account not in self.aws.accounts:
                known = ", ".join(sorted(self.aws.accounts)) or "none"
                raise ValueError(f"stop condition {condition.alarm}: account {condition.account!r} is not under "
                                 f"aws.accounts (known: {known})")
        for account in sorted(self.rpo.accounts() if self.rpo else ()):
            if account not in self.aws.accounts:
                known = ", ".join(sorted(self.aws.accounts)) or "none"
                raise ValueError(f"rpo: account {account!r} is not under aws.accounts (known: {known})")
        return self


MODELS: dict[str, type[ScenarioDoc] | type[DrillDoc]] = {"scenario": ScenarioDoc, "drill": DrillDoc}
