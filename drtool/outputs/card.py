"""Reading a stored scorecard into the typed model (`drtool.scorecard_model.Scorecard`), once.

A scorecard this version wrote validates as it is. History, dashboards and `drtool report`
also read files that older versions wrote, or partial ones (a test's, a crashed tool's),
so a scorecard that does not validate is read leniently instead of refused: every block
that validates is kept as it is, and a field that is missing or malformed reads as its
default, else as an empty block or list, else None (a list of records keeps its valid
records). The renderers show None as "not recorded", as they always did for missing keys.

The model is for reading only: digests and the integrity chain hash the JSON as written,
so nothing here is ever serialised back into `scorecard.json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from types import NoneType, UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from drtool.scorecard_model import Remaining, Scorecard

M = TypeVar("M", bound=BaseModel)


def read_scorecard(doc: Scorecard | Mapping[str, Any] | Any) -> Scorecard:
    """The typed scorecard of `doc` (validated, else read leniently; never raises)."""
    if isinstance(doc, Scorecard):
        return doc
    data = _upgraded(dict(doc)) if isinstance(doc, Mapping) else {}
    return _lenient(Scorecard, data)


def _upgraded(data: dict[str, Any]) -> dict[str, Any]:
    """Known shapes of older versions: `rollback.remaining[]` as plain strings."""
    rollback = data.get("rollback")
    if isinstance(rollback, dict) and any(isinstance(r, str) for r in rollback.get("remaining") or []):
        remaining = [{"summary": r, "undo": "", "region": None, "step": None, "reason": ""} if isinstance(r, str)
                     else r for r in rollback["remaining"]]
        data = {**data, "rollback": {**rollback, "remaining": remaining}}
    return data


def _lenient(model: type[M], data: Any) -> M:
    if not isinstance(data, Mapping):
        data = {}
    try:
        return model.model_validate(data)
    except ValidationError:
        pass
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in data and not info.is_required():
            continue            # model_construct fills the default and leaves it out of model_fields_set
        default = _empty(info.annotation) if info.is_required() else info.get_default(call_default_factory=True)
        values[key] = _field(info.annotation, data[key], default) if key in data else default
    known = {info.alias or name for name, info in model.model_fields.items()}
    if model.model_config.get("extra") == "allow":
        values.update({k: v for k, v in data.items() if k not in known and isinstance(k, str)})
    present = {name for name, info in model.model_fields.items() if (info.alias or name) in data}
    return model.model_construct(_fields_set=present, **values)   # model_fields_set: what the file had


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class of `Model` or `Model | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, UnionType):
        found = [a for a in get_args(annotation) if a is not NoneType]
        return _model_in(found[0]) if len(found) == 1 else None
    return None


def _empty(annotation: Any) -> Any:
    """What a missing required field reads as: an empty block or list, else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _lenient(annotation, {})
    return [] if get_origin(annotation) is list else None


@lru_cache(maxsize=256)
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def _field(annotation: Any, raw: Any, default: Any) -> Any:
    model = _model_in(annotation)
    if model is not None:
        return _lenient(model, raw) if isinstance(raw, Mapping) else default
    if get_origin(annotation) is list and (item := _model_in(get_args(annotation)[0])) is not None:
        return [_lenient(item, x) for x in raw if isinstance(x, Mapping)] if isinstance(raw, list) else default
    try:
        return _adapter(annotation).validate_python(raw)
    except ValidationError:
        return default


def field_at(card: Scorecard, path: str) -> Any:
    """The value at a dotted path named by data (controls.yaml): models and open mappings
    are walked alike; a model found at the end is given as the mapping it was written as."""
    value: Any = card
    for part in path.split("."):
        if isinstance(value, BaseModel):
            fields = type(value).model_fields
            name = next((n for n, f in fields.items() if (f.alias or n) == part), None)
            value = getattr(value, name) if name is not None else (value.model_extra or {}).get(part)
        elif isinstance(value, Mapping):
            value = value.get(part)
        else:
            return None
    return value.model_dump(by_alias=True, exclude_unset=True) if isinstance(value, BaseModel) else value


def describe_remaining(item: Remaining) -> str:
    """One line for a `rollback.remaining[]` entry (an older plain string is its summary)."""
    if not item.undo and not item.reason:
        return str(item.summary or "?")
    return f"{item.summary or '?'} [{item.undo or '?'}]: {item.reason or ''}"
