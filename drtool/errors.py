"""The error hierarchy. Each error carries the exit code of spec section 2 and a hint.

Library code raises these; `drtool.cli` turns them into one message and an exit code in
one place. Nothing here imports boto3.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_OBJECTIVE_MISSED = 1
EXIT_INVALID = 2
EXIT_ABORTED = 3
EXIT_REFUSED = 4
EXIT_ROLLBACK_INCOMPLETE = 5


class DrToolError(Exception):
    """Base class: a message for people, an optional hint, and an exit code."""

    exit_code = EXIT_ABORTED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


@dataclass(frozen=True)
class Problem:
    """One problem in one document, printed as `file:line:col: message`."""

    file: str
    line: int
    col: int
    message: str
    path: tuple = field(default=())

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class UsageError(DrToolError):
    """Bad options or arguments (exit 2); nothing was changed."""

    exit_code = EXIT_INVALID


class DocumentError(DrToolError):
    """One or more problems in scenario/drill documents (exit 2)."""

    exit_code = EXIT_INVALID

    def __init__(self, problems: list[Problem], hint: str | None = None) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.col))
        super().__init__("\n".join(str(p) for p in self.problems), hint)


class GuardrailRefusal(DrToolError):
    """A guardrail refused the drill before any change (exit 4)."""

    exit_code = EXIT_REFUSED

    def __init__(self, guardrail: str, message: str, hint: str | None = None) -> None:
        self.guardrail = guardrail
        super().__init__(f"refused by guardrail {guardrail}: {message}", hint)


class AwsError(DrToolError):
    """An AWS call failed (exit 3 during a run; the message names the step and code)."""

    exit_code = EXIT_ABORTED

    def __init__(self, operation: str, code: str, message: str, step: str | None = None,
                 hint: str | None = None) -> None:
        self.operation = operation
        self.code = code
        self.step = step
        where = f"step {step}: " if step else ""
        super().__init__(f"{where}{operation} failed: {code}: {message}", hint)


class DrillAborted(DrToolError):
    """The drill was aborted (stop condition, time limit, interrupt, failed step)."""

    exit_code = EXIT_ABORTED


class ChangedSince(Exception):
    """Raised by an undo that found the resource no longer holds what the drill set.

    Someone (an operator, an autoscaler, another tool) changed it after the drill did, so
    restoring the old value would overwrite their change: the undo leaves it as found and
    the rollback lists it under `rollback.remaining[]` (status incomplete, exit 5).
    `found` says in words what the resource holds now.
    """

    def __init__(self, found: str) -> None:
        super().__init__(found)
        self.found = found


LEFT_AS_FOUND = "changed since the drill changed it: left as found"


class RollbackIncomplete(DrToolError):
    """Undo failed for some changes; they remain changed (exit 5)."""

    exit_code = EXIT_ROLLBACK_INCOMPLETE

    def __init__(self, remaining: list[str], journal: str | None = None) -> None:
        self.remaining = remaining
        lines = "\n".join(f"  - {r}" for r in remaining)
        where = f" (journal: {journal})" if journal else ""
        super().__init__(
            f"rollback incomplete; still changed{where}:\n{lines}",
            f"fix the cause and run `drtool rollback {journal or 'RUN'} --yes` again",
        )
