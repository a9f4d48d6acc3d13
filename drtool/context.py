"""The context every action, probe and undo receives.

Actions never call a mutating AWS API directly: they wrap each one in `ctx.change(...)`,
which journals the intent and its undo *before* the call and the result after. Probes
get a read-only context (`change` raises).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from drtool.journal import Journal
from drtool.resources import UndoSpec
from drtool.timing import Clock

T = TypeVar("T")

RUN_TAG = "drtool:run-id"


class ReadOnlyViolation(RuntimeError):
    pass


@dataclass
class StepContext:
    aws: Any  # drtool.aws.session.AwsSession
    clock: Clock
    region: str
    run_id: str
    step: str = ""
    journal: Journal | None = None
    read_only: bool = False
    drill: str = ""
    undoable: bool = True  # False for the scenario's own rollback steps: journaled, never undone
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    expires_at: float | None = None  # set on a run's contexts: changed resources get the expiry tags
    account: str | None = None  # a name under the drill's aws.accounts; None: the drill's own account

    def __post_init__(self) -> None:
        """Act in `account`: `aws` becomes the session assuming that account's role."""
        if self.account and hasattr(self.aws, "for_account"):
            self.aws = self.aws.for_account(self.account)

    def client(self, service: str, region: str | None = None) -> Any:
        return self.aws.client(service, region or self.region)

    @property
    def run_tags(self) -> dict[str, str]:
        """Tags put on everything drtool creates, so rollback can find it after a crash."""
        return {RUN_TAG: self.run_id, "drtool:drill": self.drill or "unknown"}

    def tag_specifications(self, resource_type: str) -> list[dict[str, Any]]:
        """EC2-style TagSpecifications carrying `run_tags`."""
        return [{"ResourceType": resource_type,
                 "Tags": [{"Key": k, "Value": v} for k, v in self.run_tags.items()]}]

    def change(self, summary: str, call: Callable[[], T], *, undo: UndoSpec | None = None,
               resources: list[str] | tuple[str, ...] = ()) -> T:
        """Journal the intent (with its undo), make the call, journal the outcome.

        `undo` must be idempotent and must work whether or not the call took effect (a
        crash can land between the two journal lines). Use `run_tags` on anything created
        so the undo can find it by tag rather than by an id the journal never saw.
        """
        if self.read_only:
            raise ReadOnlyViolation(f"{self.step}: a probe tried to change something ({summary})")
        if not self.undoable:
            undo = None
        if undo is not None and (undo.region is None or undo.account is None):
            undo = UndoSpec(undo.name, undo.params, undo.region or self.region, undo.account or self.account)
        intent = None
        if self.journal is not None:
            where = {"account": self.account, "account_role_arn": getattr(self.aws, "role_arn", None)} \
                if self.account else {}
            intent = self.journal.write("change.intent", step=self.step, summary=summary,
                                        region=self.region, resources=list(resources),
                                        undo=undo.to_json() if undo else None, **where)
        try:
            result = call()
        except BaseException as exc:
            if self.journal is not None and intent is not None:
                self.journal.write("change.failed", intent=intent["seq"], step=self.step,
                                   error=f"{type(exc).__name__}: {exc}")
            raise
        if self.journal is not None and intent is not None:
            self.journal.write("change.done", intent=intent["seq"], step=self.step)
        if self.expires_at is not None and undo is not None and resources:
            from drtool.expiry import tag_changed

            tag_changed(self, resources, self.expires_at, undo.name)   # the dead man's switch; never raises
        return result

    def follow_up(self, resource: str, summary: str, how: str) -> None:
        """Record a change that cannot be undone automatically (lands in `follow_up[]`)."""
        item = {"resource": resource, "summary": summary, "how": how, "step": self.step}
        self.follow_ups.append(item)
        if self.journal is not None:
            self.journal.write("follow_up", **item)

    def note(self, message: str, **data: Any) -> None:
        """Journal an observation (shown in the timeline's detail)."""
        if self.journal is not None:
            self.journal.write("note", step=self.step, message=message, **data)
