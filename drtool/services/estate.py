"""Loading a services file and judging drills against it.

`load_services(path)` reads the file through the same bounded loader and models as drills
(`drtool.documents.read`) and adds what the schema alone cannot see: unknown tiers,
unknown or cyclic dependencies. `drill_warnings(estate, document)` lists, as
`file:line:col` problems, where a drill is weaker than its service's tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drtool.errors import DocumentError, Problem
from drtool.services.model import DEFAULT_TIERS, DISRUPTIONS, Objective, ServiceDoc, ServicesDoc, TierPolicy


@dataclass
class Estate:
    """A checked services file: services, tier policies (most severe first) and lookups."""

    doc: ServicesDoc
    file: str
    sha256: str = ""            # of the file's bytes as read (a run records it in sources.services)

    @property
    def tiers(self) -> dict[str, TierPolicy]:
        return dict(self.doc.tiers) if self.doc.tiers else dict(DEFAULT_TIERS)

    @property
    def services(self) -> dict[str, ServiceDoc]:
        return dict(self.doc.services)

    def rank(self, service: str) -> int:
        """0 for the most severe tier; unknown services sort last."""
        svc = self.doc.services.get(service)
        names = list(self.tiers)
        return names.index(svc.tier) if svc is not None and svc.tier in names else len(names)

    def policy(self, service: str) -> TierPolicy | None:
        svc = self.doc.services.get(service)
        return self.tiers.get(svc.tier) if svc is not None else None

    def objective(self, service: str, disruption: str) -> Objective | None:
        """The service's own objective for `disruption`, else its tier's; None = not required."""
        svc = self.doc.services.get(service)
        if svc is None:
            return None
        own = svc.objectives.get(disruption)
        policy = self.tiers.get(svc.tier)
        return own or (policy.objectives.get(disruption) if policy else None)

    def required(self, service: str) -> list[str]:
        return [d for d in DISRUPTIONS if self.objective(service, d) is not None]

    def impaired_by(self, service: str) -> list[str]:
        """`service` and every service that depends on it, directly or not (sorted by tier)."""
        found, todo = {service}, [service]
        while todo:
            current = todo.pop()
            for name, svc in self.doc.services.items():
                if current in svc.depends_on and name not in found:
                    found.add(name)
                    todo.append(name)
        return sorted(found, key=lambda n: (self.rank(n), n))


def _cycle(services: dict[str, ServiceDoc]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> list[str] | None:
        if state.get(name) == 1:
            return [*path[path.index(name):], name]
        if state.get(name) == 2 or name not in services:
            return None
        state[name] = 1
        for dep in services[name].depends_on:
            found = visit(dep, [*path, name])
            if found:
                return found
        state[name] = 2
        return None

    for name in services:
        found = visit(name, [])
        if found:
            return found
    return None


def services_problems(document: Any) -> list[Problem]:
    """What a schema-valid services file gets wrong: tiers and dependencies."""
    from drtool.documents.problems import did_you_mean

    loaded, doc = document.loaded, document.doc
    assert loaded is not None and isinstance(doc, ServicesDoc)
    tiers = doc.tiers or DEFAULT_TIERS
    problems: list[Problem] = []
    for name, svc in doc.services.items():
        if svc.tier not in tiers:
            where = "under `tiers:`" if doc.tiers else f"(built-in tiers: {', '.join(DEFAULT_TIERS)})"
            problems.append(loaded.problem(("services", name, "tier"), f"service {name!r}: unknown tier "
                                           f"{svc.tier!r}{did_you_mean(svc.tier, tiers)}; define it {where}"))
        for i, dep in enumerate(svc.depends_on):
            if dep == name:
                problems.append(loaded.problem(("services", name, "depends_on", i), f"service {name!r} depends on itself"))
            elif dep not in doc.services:
                problems.append(loaded.problem(("services", name, "depends_on", i), f"service {name!r} depends on "
                                               f"unknown service {dep!r}{did_you_mean(dep, doc.services)}"))
    cycle = _cycle(doc.services)
    if cycle and len(cycle) > 2:
        problems.append(loaded.problem(("services", cycle[0], "depends_on"),
                                       f"dependency cycle: {' -> '.join(cycle)}"))
    return problems


def load_services(path: str | Path) -> Estate:
    """Read and check a services file; DocumentError lists every problem."""
    from drtool.documents import read

    document = read(path)
    if not document.problems and document.kind != "services" and document.loaded is not None:
        raise DocumentError([document.loaded.problem(("kind",), "expected `kind: services`")], "give a services file")
    document.raise_problems()
    problems = services_problems(document)
    if problems:
        raise DocumentError(problems)
    assert isinstance(document.doc, ServicesDoc)
    return Estate(document.doc, str(document.path), document.loaded.sha256 if document.loaded else "")


def _fmt(seconds: float) -> str:
    from drtool.durations import format_duration

    return format_duration(seconds)


def drill_disruption(drill: Any) -> str:
    """The disruption type of a bound drill: its scenario's `disruption:`, else inferred."""
    from drtool.services.model import infer_disruption

    return drill.scenario.disruption or infer_disruption(drill.scenario.name)


def drill_warnings(estate: Estate, document: Any, drill: Any) -> list[Problem]:
    """Where the bound `drill` (read as `document`) is weaker than its service's tier, or
    names a service or tier the services file does not know."""
    loaded, doc = document.loaded, drill.doc
    name = doc.service.name
    svc = estate.services.get(name)
    if svc is None:
        from drtool.documents.problems import did_you_mean

        return [loaded.problem(("service", "name"), f"service {name!r} is not in {estate.file}"
                                                     f"{did_you_mean(name, estate.services)}")]
    found: list[Problem] = []
    if doc.service.tier not in ("unspecified", svc.tier):
        found.append(loaded.problem(("service", "tier"), f"service {name!r} is tier {svc.tier!r} in {estate.file}, "
                                                          f"the drill says {doc.service.tier!r}"))
    disruption = drill_disruption(drill)
    wanted = estate.objective(name, disruption)
    if wanted is None:
        return found
    why = f"tier {svc.tier!r} of {name!r} for {disruption} disruption"
    if drill.objectives.rto > wanted.rto:
        found.append(loaded.problem(("objectives", "rto"), f"rto {_fmt(drill.objectives.rto)} is weaker than "
                                                            f"{_fmt(wanted.rto)} ({why})"))
    if wanted.rpo is not None:
        if drill.objectives.rpo is None:
            found.append(loaded.problem(("objectives",), f"no rpo objective; {why} requires rpo {_fmt(wanted.rpo)}"))
        elif drill.objectives.rpo > wanted.rpo:
            found.append(loaded.problem(("objectives", "rpo"), f"rpo {_fmt(drill.objectives.rpo)} is weaker than "
                                                                f"{_fmt(wanted.rpo)} ({why})"))
    return found
