"""Journal events: one name and one payload type each (SPEC section 5).

Every record the runner, rollback and step context write through `Journal.write` is one of
`EVENTS`; each record also carries `RecordBase` (sequence, time, hash chain). `check_event`
says what is wrong with a record (unknown name, missing or unexpected field), and a test
runs it over the journals of the bundled sandbox drills. Only typing here: no pydantic.
"""

from typing import Any, NotRequired, TypedDict


class RecordBase(TypedDict):
    seq: int
    event: str
    t: float
    at: str
    prev: str
    sha256: str


class UndoJson(TypedDict):
    name: str
    params: dict[str, Any]
    region: str | None
    account: NotRequired[str | None]


class RunStarted(TypedDict):
    run_id: str
    drill: str
    scenario: str
    mode: str
    service: dict[str, Any]
    tool_version: str
    objectives: dict[str, float | None]
    account_ids: list[str]
    regions: list[str]
    seed: int | None
    schedule_every_s: float | None
    drill_path: str
    parameters: dict[str, Any]
    sources: dict[str, Any]
    poll_s: float
    operator: str | None
    time_scale: float
    expires_at: float | str | None
    time_limit_s: float | None
    steady_state_checks: int
    aws: dict[str, Any]
    endpoint: NotRequired[str | None]       # the custom endpoint(s), None when AWS's own
    rpo_sources: NotRequired[list[str]]     # configured RPO sources (a crash fold still names them)
    disruption: NotRequired[str]             # instance | az | region | data-corruption
    ownership: NotRequired[dict[str, Any]]   # the drill's services file, as attribution reads it (services.ownership)


class TargetsResolved(TypedDict):
    step: str
    targets: list[dict[str, Any]]


class StepStarted(TypedDict):
    phase: str
    step: str
    kind: str
    index: int
    ref: NotRequired[str | None]


class StepFinished(TypedDict):
    phase: str
    step: str
    kind: str
    index: int
    status: str
    detail: str
    data: NotRequired[dict[str, Any]]


class ChangeIntent(TypedDict):
    step: str | None
    summary: str
    region: str | None
    resources: list[str]
    undo: UndoJson | None


class ChangeDone(TypedDict):
    intent: int
    step: str | None


class ChangeFailed(TypedDict):
    intent: int
    step: str | None
    error: str


class UndoStarted(TypedDict):
    intent: int
    undo: UndoJson
    summary: str


class UndoDone(TypedDict):
    intent: int
    detail: str
    summary: str


class UndoFailed(TypedDict):
    intent: int
    error: str
    summary: str
    reason: NotRequired[str]


class UndoHeld(TypedDict):
    """A pending undo deliberately not attempted: the ordered failback stopped before it."""

    intent: int
    summary: str
    reason: str


class Instant(TypedDict):
    """`fault` and `recovered`: only the instant (`t`) of RecordBase."""


class Impact(TypedDict):
    detail: str


class Recovered(TypedDict):
    """The instant (`t`, the first passing poll) and the gap to the poll before it."""

    resolution_s: NotRequired[float | None]


class RpoMeasured(TypedDict):
    measurements: list[dict[str, Any]]


class Posture(TypedDict):
    posture: dict[str, Any]


class Note(TypedDict):
    step: str | None
    message: str          # plus the observation's own fields (open)


class FollowUp(TypedDict):
    resource: str
    summary: str
    how: str
    step: str | None


class ManualAcknowledged(TypedDict):
    step: str
    text: str
    acknowledged_by: NotRequired[str | None]
    assumed: NotRequired[bool]


class RunError(TypedDict):
    step: str
    error: str
    type: str
    traceback: list[str]


class Workaround(TypedDict):
    steps: int


class FailbackPlan(TypedDict):
    """The scenario's failback order, recorded at run start so `drtool rollback` can keep it."""

    steps: list[dict[str, Any]]          # FailbackEntry.to_json(), in order
    then_reverse: list[str]              # labels of the steps left to the reverse-order undo


class FailbackStep(TypedDict):
    index: int
    kind: str                            # undo | wait | check
    name: str
    undoes: str | None                   # undo: the label of the step whose changes it undid
    status: str                          # ok | failed | skipped (drtool rollback: older journal, or nothing left)
    detail: str


class FailbackFinished(TypedDict):
    status: str                          # complete | stopped (an entry failed: the rest held back) |
                                         # replayed (by drtool rollback, no waits) | abandoned (older runs)
    reason: str | None


class RunFinished(TypedDict):
    status: str
    reason: str | None


EVENTS: dict[str, type] = {
    "run.started": RunStarted, "targets.resolved": TargetsResolved,
    "step.started": StepStarted, "step.finished": StepFinished,
    "change.intent": ChangeIntent, "change.done": ChangeDone, "change.failed": ChangeFailed,
    "undo.started": UndoStarted, "undo.done": UndoDone, "undo.failed": UndoFailed,
    "undo.held": UndoHeld,
    "fault": Instant, "impact": Impact, "recovered": Recovered, "rpo.measured": RpoMeasured,
    "posture": Posture, "note": Note, "follow_up": FollowUp, "manual.acknowledged": ManualAcknowledged,
    "run.error": RunError, "run.finished": RunFinished, "workaround": Workaround,
    "failback.plan": FailbackPlan, "failback.step": FailbackStep, "failback.finished": FailbackFinished,
}
OPEN_EVENTS = frozenset({"note"})     # may carry fields beyond their type


def _keys(kind: type) -> tuple[frozenset[str], frozenset[str]]:
    required: frozenset[str] = getattr(kind, "__required_keys__", frozenset())
    optional: frozenset[str] = getattr(kind, "__optional_keys__", frozenset())
    return frozenset(required), frozenset(optional)


def check_event(record: dict[str, Any]) -> list[str]:
    """Problems with one journal record (empty: it matches its event's type)."""
    name = record.get("event")
    kind = EVENTS.get(str(name))
    if kind is None:
        return [f"unknown event {name!r}"]
    base, _ = _keys(RecordBase)
    required, optional = _keys(kind)
    fields = set(record)
    problems = [f"{name}: missing {k}" for k in sorted((base | required) - fields)]
    if name not in OPEN_EVENTS:
        problems += [f"{name}: unexpected {k}" for k in sorted(fields - base - required - optional)]
    return problems
