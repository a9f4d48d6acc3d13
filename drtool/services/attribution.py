"""Root cause to service: which services a scorecard's failed checks and targets impair.

A pure function over (scorecard, estate); nothing is read from AWS. A resource belongs to
a service when one of the service's `resources:` selectors matches it:
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
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from drtool.services.estate import Estate

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9:/._*@-]*")
_PAIR = re.compile(r"([A-Za-z0-9_.:/+=@-]+)=([A-Za-z0-9_.:/+@-]+)")
OK_STATUSES = ("ok", "skipped", "running")


@dataclass(frozen=True)
class Attributed:
    kind: str                   # "check" | "target"
    what: str                   # what failed or was targeted, as the scorecard says
    owners: tuple[str, ...]     # services owning the resource(s) named
    impaired: tuple[str, ...]   # owners and their dependents, most severe tier first

    @property
    def reads(self) -> str:
        """"checkout, shop-web impaired (target group shop-use1-tg unhealthy)"."""
        who = ", ".join(self.impaired) if self.impaired else "no known service"
        return f"{who} impaired ({self.what})"


def _tokens(text: str) -> list[str]:
    return [t.rstrip(".,:;'\")") for t in _TOKEN.findall(text or "")]


def owners(estate: Estate, names: list[str], selected_by: str = "") -> list[str]:
    """Services whose resource selectors match any of `names` or the tags in `selected_by`."""
    pairs = dict(_PAIR.findall(selected_by or ""))
    found = []
    for service, doc in estate.services.items():
        for selector in doc.resources:
            by_name = any(fnmatchcase(n, pattern) for n in names if n for pattern in selector.names)
            by_tags = bool(selector.tags) and all(pairs.get(k) == v for k, v in selector.tags.items())
            if by_name or by_tags:
                found.append(service)
                break
    return found


def _impaired(estate: Estate, direct: list[str]) -> tuple[str, ...]:
    every = {name for owner in direct for name in estate.impaired_by(owner)}
    return tuple(sorted(every, key=lambda n: (estate.rank(n), n)))


def failed_checks(scorecard: dict[str, Any]) -> list[dict[str, Any]]:
    """Timeline entries that did not end ok (failed, timed out, interrupted, errors)."""
    return [t for t in scorecard.get("timeline") or [] if isinstance(t, dict)
            and str(t.get("status") or "") not in OK_STATUSES]


def attribute(scorecard: dict[str, Any], estate: Estate) -> list[Attributed]:
    """Every failed check, then every targeted resource, with the services it impairs."""
    own = ((scorecard.get("service") or {}).get("name")) if isinstance(scorecard.get("service"), dict) else None
    found: list[Attributed] = []
    for item in failed_checks(scorecard):
        detail = str(item.get("detail") or "")
        direct = owners(estate, _tokens(detail))
        if not direct and own in estate.services:
            direct = [own]
        what = f"{item.get('phase')} {item.get('step')} {item.get('status')}" + (f": {detail}" if detail else "")
        found.append(Attributed("check", what, tuple(direct), _impaired(estate, direct)))
    for target in scorecard.get("targets") or []:
        if not isinstance(target, dict):
            continue
        names = [str(target.get(k) or "") for k in ("id", "arn")]
        direct = owners(estate, names, str(target.get("selected_by") or ""))
        what = f"{target.get('type') or 'resource'} {target.get('id') or target.get('arn')} targeted by " \
               f"{target.get('step') or 'the drill'!r}"
        found.append(Attributed("target", what, tuple(direct), _impaired(estate, direct)))
    return found


def impaired_services(scorecard: dict[str, Any], estate: Estate) -> list[str]:
    """Every service a run impaired (its own service first when it is in the estate)."""
    own = (scorecard.get("service") or {}).get("name") if isinstance(scorecard.get("service"), dict) else None
    names = {n for a in attribute(scorecard, estate) for n in a.impaired}
    ordered = sorted(names, key=lambda n: (estate.rank(n), n))
    return ([own] if own in names else []) + [n for n in ordered if n != own]
