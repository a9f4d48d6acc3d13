"""Registry entries for engine tests: they change an in-memory dict, not AWS.

They let the runner's phases, clocks, journal and undo be tested exactly with a
FakeClock. Their IAM actions are real names so the registry contract test holds.
"""

from __future__ import annotations

from pydantic import Field

from drtool.registry import ACTIONS, PROBES, UNDOS, Params
from drtool.resources import Outcome, ProbeResult, UndoSpec

STATE: dict = {}


class FlipParams(Params):
    key: str = "flag"
    fail: bool = False


class AfterParams(Params):
    seconds: float = 0.0
    key: str = "flag"
    interrupt: bool = False


class UnflipParams(Params):
    key: str


def reset() -> None:
    STATE.clear()
    STATE.update(flags={}, flipped_at={}, fail_undo=False, undo_calls=0, alarm=False)


def register() -> None:
    if "test.flip" in ACTIONS._entries:
        return

    @ACTIONS.register("test.flip", summary="Set a flag (test only).", params=FlipParams,
                      iam=("ec2:DescribeInstances",), undo="test.unflip")
    def flip(ctx, params, targets):
        if params.fail:
            raise RuntimeError("flip failed on purpose")
        ctx.change(f"set {params.key}", lambda: STATE["flags"].__setitem__(params.key, True),
                   undo=UndoSpec("test.unflip", {"key": params.key}))
        STATE["flipped_at"][params.key] = ctx.clock.now()
        return Outcome(f"{params.key} set", {"recovery_point_at": STATE.get("recovery_point_at")}
                       if STATE.get("recovery_point_at") else {})

    @UNDOS.register("test.unflip", summary="Clear a flag (test only).", params=UnflipParams,
                    iam=("ec2:DescribeInstances",))
    def unflip(ctx, params):
        STATE["undo_calls"] += 1
        if STATE["fail_undo"] or params.key in STATE.get("fail_undo_keys", ()):
            raise RuntimeError("undo failed on purpose")
        if params.key in STATE.get("changed_keys", ()):
            from drtool.errors import ChangedSince

            raise ChangedSince(f"{params.key} was changed by someone else")
        STATE["flags"][params.key] = False
        return f"{params.key} cleared"

    @PROBES.register("test.recovered-after", summary="True N seconds after the flag was set (test only).",
                     params=AfterParams, iam=("ec2:DescribeInstances",))
    def recovered_after(ctx, params):
        if params.interrupt:
            raise KeyboardInterrupt
        at = STATE["flipped_at"].get(params.key)
        if at is None:
            return ProbeResult(False, "flag never set")
        elapsed = ctx.clock.now() - at
        return ProbeResult(elapsed >= params.seconds, f"{elapsed:.2f}s since the fault", {"elapsed": elapsed})


class ExplodeParams(Params):
    kind: str = "aws"          # aws (AccessDenied) | throttle | bug | interrupt
    after: int = 0             # polls that succeed first


def explode_error(kind: str) -> BaseException:
    from botocore.exceptions import ClientError

    if kind == "aws":
        return ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "DescribeAutoScalingGroups")
    if kind == "bug":
        return TypeError("unsupported operand")
    if kind == "interrupt":
        return KeyboardInterrupt()
    raise ValueError(kind)


def register_explode() -> None:
    if "test.explode" in PROBES._entries:
        return

    @PROBES.register("test.explode", summary="Raise after N polls (test only).", params=ExplodeParams,
                     iam=("ec2:DescribeInstances",))
    def explode(ctx, params):
        STATE["explode_calls"] = STATE.get("explode_calls", 0) + 1
        if STATE["explode_calls"] > params.after:
            raise explode_error(params.kind)
        return ProbeResult(False, "not yet")


class Seconds(Params):
    value: float = Field(default=0.0)
