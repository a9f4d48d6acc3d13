"""Keep secrets out of evidence: the journal, the scorecard, the reports and the terminal.

What is redacted, always written as `***`:
- the values of drill parameters declared `type: secret` (and `aws.external_id`), wherever
  they appear in a string;
- URL userinfo (`https://user:pass@host` -> `https://***@host`) and every URL query value
  (`?token=abc&x=1` -> `?token=***&x=***`), in any string that holds a URL.

Redaction is applied where evidence is written (`Journal.write`), so a caller cannot
forget it; everything downstream (scorecard, reports) is folded from the journal.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

MASK = "***"
_MIN_SECRET = 4   # shorter values would mask ordinary words; a secret that short is not one
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>`]+")
_QUERY_VALUE = re.compile(r"([?&;][^=&;#]*=)([^&;#]*)")

_known: set[str] = set()
_known_lock = threading.Lock()


def redact_url(url: str) -> str:
    """Mask userinfo and query values of one URL; the scheme, host, path and keys stay."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _QUERY_VALUE.sub(lambda m: m.group(1) + MASK, url)
    out = url
    if "@" in parts.netloc:
        host = parts.netloc.rpartition("@")[2]
        start = url.find(parts.netloc)
        out = url[:start] + MASK + "@" + host + url[start + len(parts.netloc):]
    head, sep, tail = out.partition("?")
    if sep:
        query, hash_sep, fragment = tail.partition("#")
        masked = _QUERY_VALUE.sub(lambda m: m.group(1) + MASK, "?" + query)[1:]
        masked = "&".join(p if "=" in p or not p else MASK for p in masked.split("&"))
        out = head + "?" + masked + hash_sep + fragment
    return out


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask the given secret values (and every remembered one) and every URL's
    userinfo and query values inside free text."""
    values = sorted({s for s in (*secrets, *known_secrets()) if len(s) >= _MIN_SECRET}, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    if "://" in text:
        text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    return text


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """`value` with every string in it (keys included) passed through `redact_text`."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {redact(k, secrets) if isinstance(k, str) else k: redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, secrets) for v in value]
    return value


def remember(values: Iterable[Any]) -> None:
    """Add secret values for this process: the terminal and every journal mask them."""
    with _known_lock:
        _known.update(str(v) for v in values if v is not None and len(str(v)) >= _MIN_SECRET)


def known_secrets() -> frozenset[str]:
    with _known_lock:
        return frozenset(_known)


def secret_values(drill: Any) -> set[str]:
    """The secret values of a loaded drill: `type: secret` parameters and `aws.external_id`."""
    found: set[str] = set()
    specs = getattr(getattr(drill, "scenario", None), "parameters", None) or {}
    values = getattr(drill, "parameters", None) or {}
    for name, spec in specs.items():
        if getattr(spec, "type", None) == "secret" and values.get(name) is not None:
            found.add(str(values[name]))
    aws = getattr(getattr(drill, "doc", None), "aws", None)
    external_id = getattr(aws, "external_id", None)
    if external_id:
        found.add(str(external_id))
    return found
