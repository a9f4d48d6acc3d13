"""Target selectors (spec section 4): which resources an action acts on."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator


class SelectCount(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    count: int = Field(ge=1)


class SelectPercent(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    percent: float = Field(gt=0, le=100)


class TargetSelector(BaseModel):
    """`targets:` of a step. All given filters must match (AND).

    `select` picks a random subset (count or percent, rounded up) or `all` (default);
    the pick uses the run's seed and is recorded in the journal and scorecard.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    region: str | None = None
    ids: list[str] | None = None
    tags: dict[str, str] | None = None
    az: str | list[str] | None = None
    group: str | None = Field(default=None, description="Auto Scaling group name")
    vpc: str | None = None
    subnets: list[str] | None = None
    select: Literal["all"] | SelectCount | SelectPercent = "all"
    # zone name -> the AZ ID the document gave, once `with_zone_names` translated it
    _az_ids: dict[str, str] = PrivateAttr(default_factory=dict)

    @field_validator("select", mode="before")
    @classmethod
    def _select_form(cls, value: object) -> object:
        """One clear message instead of one per union branch."""
        if value == "all" or isinstance(value, SelectCount | SelectPercent):
            return value
        if isinstance(value, dict) and len(value) == 1 and ("count" in value or "percent" in value):
            key, number = next(iter(value.items()))
            if isinstance(number, str) and "${" in number:  # checked once a drill binds it
                model = SelectCount if key == "count" else SelectPercent
                fields: dict[str, Any] = {key: number}
                return model.model_construct(**fields)
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise ValueError(f"select.{key} must be a number, got {number!r}")
            if key == "count":
                if number != int(number) or number < 1:
                    raise ValueError(f"select.count must be a whole number >= 1, got {number!r}")
                return SelectCount(count=int(number))
            if not 0 < number <= 100:
                raise ValueError(f"select.percent must be in (0, 100], got {number!r}")
            return SelectPercent(percent=number)
        raise ValueError(f"select must be `all`, {{count: N}} or {{percent: P}}, got {value!r}")

    @model_validator(mode="after")
    def _some_filter(self) -> TargetSelector:
        if not any([self.ids, self.tags, self.az, self.group, self.vpc, self.subnets]):
            raise ValueError("a selector needs at least one of ids, tags, az, group, vpc, subnets "
                             "(refusing to select every resource in a region)")
        return self

    @property
    def azs(self) -> list[str]:
        if self.az is None:
            return []
        return [self.az] if isinstance(self.az, str) else list(self.az)

    def with_zone_names(self, zones: list[tuple[str, str | None]]) -> TargetSelector:
        """A copy whose `az` holds zone names, given (name, AZ ID or None) per zone; `describe`
        still names the AZ IDs the document gave, next to the names they resolved to."""
        copy = self.model_copy(update={"az": [name for name, _ in zones]})
        copy._az_ids = {name: zone_id for name, zone_id in zones if zone_id}
        return copy

    def describe(self) -> str:
        """The selector in words, for `selected_by`."""
        parts = []
        if self.ids:
            parts.append(f"ids={','.join(self.ids)}")
        if self.tags:
            parts.append("tags " + ",".join(f"{k}={v}" for k, v in self.tags.items()))
        if self.az:
            parts.append("az=" + ",".join(f"{self._az_ids[a]} ({a})" if a in self._az_ids else a
                                          for a in self.azs))
        if self.group:
            parts.append(f"group={self.group}")
        if self.vpc:
            parts.append(f"vpc={self.vpc}")
        if self.subnets:
            parts.append(f"subnets={','.join(self.subnets)}")
        return " ".join(parts)
