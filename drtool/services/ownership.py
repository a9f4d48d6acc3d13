"""Root cause to service (issue 15), as a pure function over plain data.

`Ownership` is the part of a services file that attribution needs: each service's tier
rank, `depends_on` and `resources:` selectors. A run journals it at `run.started` (with
the file's path and SHA-256 in `sources.services`), so the scorecard folds attribution
from the journal alone, without pydantic and without re-reading a file that may have
changed since.

A resource belongs to a service when one of the service's selectors matches it:
- `names`: shell-style patterns (fnmatch) on the target's id or ARN, or on a resource
  name quoted in a failed check's detail (e.g. a target group name);
- `tags`: every key=value of the selector appears in how the drill selected the target
  (the scorecard's `targets[].selected_by`, e.g. "tags app=shop").
A service is impaired when a resource it owns is, and so is every service that depends on
it (transitively). A failed check with no owned resource in it impairs the drill's own
service: it is one of that service's steady-state checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9:/._*@-]*")
_PAIR = re.compile(r"([A-Za-z0-9_.:/+=@-]+)=([A-Za-z0-9_.:/+@-]+)")
OK_STATUSES = ("ok", "skipped", "running")


@dataclass(frozen=True)
class Selector:
    tags: tuple[tuple[str, str], ...]
    names: tuple[str, ...]


@dataclass(frozen=True)
class Owner:
    name: str
    rank: int                            # 0 = the most severe tier
    depends_on: tuple[str, ...]
    resources: tuple[Selector, ...]


@dataclass(frozen=True)
class Ownership:
    file: str
    services: tuple[Owner, ...]

    def rank(self, name: str) -> int:
        return next((s.rank for s in self.services if s.name == name), len(self.services) + 1)

    def known(self, name: str | None) -> bool:
        return any(s.name == name for s in self.services)

    def impaired_by(self, name: str) -> list[str]:
        """`name` and every service that depends on it, directly or not (most severe first)."""
        found, todo = {name}, [name]
        while todo:
            current = todo.pop()
            for svc in self.services:
                if current in svc.depends_on and svc.name not in found:
                    found.add(svc.name)
                    todo.append(svc.name)
        return self.ordered(found)

    def ordered(self, names: set[str] | list[str]) -> list[str]:
        return sorted(set(names), key=lambda n: (self.rank(n), n))

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "services": [
            {"name": s.name, "rank": s.rank, "depends_on": list(s.depends_on),
             "resources": [{"tags": dict(r.tags), "names": list(r.names)} for r in s.resources]}
            for s in self.services]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ownership:
        return cls(str(data.get("file") or ""), tuple(
            Owner(str(s["name"]), int(s.get("rank", 0)), tuple(map(str, s.get("depends_on") or ())),
                  tuple(Selector(tuple(sorted((str(k), str(v)) for k, v in (r.get("tags") or {}).items())),
                                 tuple(map(str, r.get("names") or ())))
                        for r in s.get("resources") or ()))
            for s in data.get("services") or ()))


@dataclass(frozen=True)
class Attributed:
    kind: str                   # "check" | "target"
    what: str                   # what failed ("<check>: <its detail>") or was targeted
    owners: tuple[str, ...]     # services owning the resource(s) named
    impaired: tuple[str, ...]   # owners and their dependents, most severe tier first
    step: str | None = None
    timeline_index: int | None = None   # the failed timeline entry (None: the impact, a target)

    @property
    def reads(self) -> str:
        """"checkout, shop-web impaired (targets healthy: 1 of 3 healthy in shop-use1-tg)"."""
        return reads(self.impaired, self.what)


def reads(impaired: tuple[str, ...] | list[str], what: str) -> str:
    who = ", ".join(impaired) if impaired else "no known service"
    return f"{who} impaired ({what})"


def _tokens(text: str) -> list[str]:
    return [t.rstrip(".,:;'\")") for t in _TOKEN.findall(text or "")]


def owners(ownership: Ownership, names: list[str], selected_by: str = "") -> list[str]:
    """Services whose resource selectors match any of `names` or the tags in `selected_by`."""
    pairs = dict(_PAIR.findall(selected_by or ""))
    found = []
    for svc in ownership.services:
        for selector in svc.resources:
            by_name = any(fnmatchcase(n, pattern) for n in names if n for pattern in selector.names)
            by_tags = bool(selector.tags) and all(pairs.get(k) == v for k, v in selector.tags)
            if by_name or by_tags:
                found.append(svc.name)
                break
    return found


def _impaired(ownership: Ownership, direct: list[str]) -> tuple[str, ...]:
    return tuple(ownership.ordered({n for owner in direct for n in ownership.impaired_by(owner)}))


def _check(ownership: Ownership, own: str | None, what: str, detail: str, step: str | None,
           index: int | None) -> Attributed:
    direct = owners(ownership, _tokens(detail))
    if not direct and ownership.known(own):
        direct = [str(own)]
    return Attributed("check", what, tuple(direct), _impaired(ownership, direct), step, index)


@dataclass(frozen=True)
class Failed:
    """A failed timeline entry (`index`), or the steady state at impact (no step, no index)."""

    step: str | None
    status: str
    detail: str
    index: int | None

    @property
    def label(self) -> str:
        return self.step or "steady state"


@dataclass(frozen=True)
class Targeted:
    id: str | None
    arn: str | None
    type: str | None
    selected_by: str
    step: str | None


def attribute(ownership: Ownership, own: str | None, failed: list[Failed], targets: list[Targeted]) -> list[Attributed]:
    """Every failed check, then every targeted resource, with the services it impairs."""
    found = []
    for item in failed:
        what = f"{item.label}: {item.detail}" if item.detail else f"{item.label} {item.status}"
        found.append(_check(ownership, own, what, item.detail, item.step, item.index))
    for target in targets:
        direct = owners(ownership, [target.id or "", target.arn or ""], target.selected_by)
        what = f"{target.type or 'resource'} {target.id or target.arn} targeted by {target.step or 'the drill'!r}"
        found.append(Attributed("target", what, tuple(direct), _impaired(ownership, direct), target.step))
    return found


def impaired_services(ownership: Ownership, own: str | None, found: list[Attributed]) -> list[str]:
    """Every service a run impaired (its own service first when it is one of them)."""
    names = {n for a in found for n in a.impaired}
    return ([own] if own in names else []) + [n for n in ownership.ordered(names) if n != own]


def failed_entries(timeline: list[dict[str, Any]]) -> list[Failed]:
    """Timeline entries that did not end ok (failed, timed out, interrupted, errors)."""
    return [Failed(str(t.get("step") or "?"), str(t.get("status") or ""), str(t.get("detail") or ""), i)
            for i, t in enumerate(timeline) if isinstance(t, dict) and str(t.get("status") or "") not in OK_STATUSES]
