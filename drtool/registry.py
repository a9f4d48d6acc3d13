"""One registry per kind: actions, probes, undos and target types.

Each entry carries its parameter model, the IAM actions it needs, the target type it
takes and (for actions) the undo it journals, so validation, `drtool scenarios`,
`drtool schema` and `drtool permissions` all read the same place. Built-ins register by
importing the modules listed in `BUILTIN_MODULES`; nothing walks the file tree and no
Python path is ever read from YAML. `drtool.registry_index.INDEX` says which module
registers which name (as cloud-custodian's resource map does), so a run imports only the
modules its drill names; a test keeps the index equal to what the modules register.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

BUILTIN_MODULES = (
    "drtool.aws.ec2",
    "drtool.aws.autoscaling",
    "drtool.aws.az_capacity",
    "drtool.aws.elbv2",
    "drtool.aws.cloudwatch",
    "drtool.aws.http",
    "drtool.aws.rds",
    "drtool.aws.route53",
    "drtool.aws.arc",
    "drtool.aws.arc_region_switch",
    "drtool.aws.s3",
    "drtool.aws.dynamodb",
    "drtool.aws.backup",
    "drtool.aws.fis",
    "drtool.backups.restore",
)


class Params(BaseModel):
    """Base of every action/probe/undo parameter model: strict keys, optional region.

    Every step names its region through `with.region` or `targets.region`; the drill's
    default region (`--region`, AWS_REGION) applies otherwise.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    region: str | None = None


@dataclass(frozen=True)
class Entry:
    """A registered action, probe, undo or target type."""

    name: str
    kind: str
    summary: str
    params: type[BaseModel]
    func: Callable[..., Any]
    iam: tuple[str, ...] = ()
    target_type: str | None = None
    undo: str | None = None
    follow_up: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mutating(self) -> bool:
        return self.kind in ("action", "undo")


class UnknownEntry(KeyError):
    def __init__(self, kind: str, name: str, suggestion: str | None) -> None:
        super().__init__(name)
        self.kind = kind
        self.name = name
        self.suggestion = suggestion

    def __str__(self) -> str:
        tail = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        return f"unknown {self.kind} {self.name!r}{tail}"


class Registry:
    """Name -> Entry for one kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self.modules: dict[str, str] = {}      # name -> the module that registered it

    def register(self, name: str, *, summary: str, params: type[BaseModel] = Params,
                 iam: tuple[str, ...] | list[str] = (), target_type: str | None = None,
                 undo: str | None = None, follow_up: str | None = None,
                 **extra: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: register `func` under `name`.

        actions: func(ctx: StepContext, params, targets: list[Resource]) -> Outcome
        probes:  func(ctx: StepContext, params) -> ProbeResult
        undos:   func(ctx: StepContext, params) -> str  (idempotent; safe to repeat)
        targets: func(ctx: StepContext, selector: TargetSelector) -> list[Resource]
        `undo` names the undo entry an action journals; `follow_up` explains what to do
        by hand when an action cannot be undone (it lands in the scorecard's follow_up).
        """
        module = str(sys._getframe(1).f_globals.get("__name__", ""))

        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._entries[name] = Entry(name=name, kind=self.kind, summary=summary, params=params,
                                        func=func, iam=tuple(iam), target_type=target_type,
                                        undo=undo, follow_up=follow_up, extra=extra)
            self.modules[name] = module
            return func

        return decorate

    def get(self, name: str) -> Entry:
        if not self._load(name):
            raise UnknownEntry(self.kind, name, self.suggest(name))
        return self._entries[name]

    def __contains__(self, name: str) -> bool:
        return self._load(name)

    def _load(self, name: str) -> bool:
        """Whether `name` is registered, importing the module the index names for it (all
        built-ins when the index does not know it)."""
        if name in self._entries:
            return True
        from drtool.registry_index import INDEX

        module = INDEX.get(self.kind, {}).get(name)
        if module is not None:
            importlib.import_module(module)
        if name not in self._entries:
            load_builtins()
        return name in self._entries

    def suggest(self, name: str) -> str | None:
        load_builtins()
        matches = difflib.get_close_matches(name, list(self._entries), n=1, cutoff=0.5)
        return matches[0] if matches else None

    def entries(self) -> list[Entry]:
        load_builtins()
        return [self._entries[k] for k in sorted(self._entries)]


ACTIONS = Registry("action")
PROBES = Registry("probe")
UNDOS = Registry("undo")
TARGETS = Registry("target type")

action = ACTIONS.register
probe = PROBES.register
undo = UNDOS.register
target_type = TARGETS.register

_loaded = False


def load_builtins() -> None:
    """Import the built-in service modules once (each registers its entries)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


def render_index() -> str:
    """The source of drtool/registry_index.py, from what the built-in modules register."""
    load_builtins()
    lines = ['"""Which built-in module registers each action, probe, undo and target type, so a run',
             "imports only the modules its drill names (drtool.registry). Generated; tests/unit/",
             "test_registry_index.py keeps it equal to what the modules register:",
             "",
             "    PYTHONPATH=. python -m drtool.registry_index > drtool/registry_index.py",
             '"""', "", "from __future__ import annotations", "", "INDEX: dict[str, dict[str, str]] = {"]
    for registry in (ACTIONS, PROBES, UNDOS, TARGETS):
        lines.append(f'    "{registry.kind}": {{')
        lines += [f'        "{name}": "{registry.modules[name]}",' for name in sorted(registry.modules)
                  if registry.modules[name].startswith("drtool.")]
        lines.append("    },")
    lines += ["}", "", "", 'if __name__ == "__main__":',
              "    from drtool.registry import render_index", "", '    print(render_index(), end="")', ""]
    return "\n".join(lines)
