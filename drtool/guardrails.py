"""Targets and guardrails, decided at one point before anything changes.

`prepare(drill, session, ...)` resolves every step's targets read-only, checks the
account, `max_targets` and `require_tags`, and computes the IAM actions. It raises
`GuardrailRefusal` (exit 4) listing every refusal; it never changes anything.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from drtool.context import StepContext
from drtool.documents import Drill, Step
from drtool.errors import GuardrailRefusal
from drtool.resources import Resource
from drtool.timing import Clock


@dataclass
class Plan:
    drill: Drill
    account: str | None
    default_region: str
    seed: int
    targets: dict[str, list[Resource]] = field(default_factory=dict)  # step key -> resources
    touched: dict[str, list[Resource]] = field(default_factory=dict)  # step key -> with:-named resources
    refusals: list[str] = field(default_factory=list)
    iam_actions: list[str] = field(default_factory=list)

    @property
    def regions(self) -> list[str]:
        return self.drill.regions(self.default_region)


def step_key(step: Step) -> str:
    return f"{step.phase}[{step.index}]"


def default_region(drill: Drill, session: Any) -> str:
    """`aws.region`, else the session's region, else the first of `run.regions`."""
    if drill.doc.aws.region:
        return drill.doc.aws.region
    try:
        return session.default_region
    except Exception:  # noqa: BLE001 - fall back to the drill's own region list
        if drill.home_region:
            return drill.home_region
        raise


def prepare(drill: Drill, session: Any, clock: Clock, *, seed: int | None = None,
            check_account: bool = True) -> Plan:
    """Resolve targets and evaluate every guardrail. Read-only."""
    from drtool.aws.errors import translate
    from drtool.permissions import iam_actions_for
    from drtool.targets import resolve

    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    region = default_region(drill, session)
    plan = Plan(drill=drill, account=None, default_region=region, seed=seed,
                iam_actions=iam_actions_for(drill))
    rails = drill.doc.guardrails

    if check_account:
        try:
            plan.account = session.account_id()
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, "sts:GetCallerIdentity", "guardrails") from exc
        if rails.accounts is None:
            plan.refusals.append("guardrails.accounts is not set: list the account ids this drill may run in")
        elif plan.account not in rails.accounts:
            plan.refusals.append(f"account {plan.account} is not in guardrails.accounts "
                                 f"({', '.join(rails.accounts)}); check your credentials or profile")
        listed = drill.doc.run.account_ids
        if listed and plan.account not in listed:
            plan.refusals.append(f"account {plan.account} is not in run.account_ids ({', '.join(listed)})")

    if check_account and rails.stop_conditions:
        plan.refusals += _missing_alarms(session, [(c.alarm, c.region or region) for c in rails.stop_conditions])

    for step in drill.all_steps():
        entry = step.entry
        if entry is None or step.form != "action":
            continue
        ctx = StepContext(aws=session, clock=clock, region=step.region(region) or region, run_id="plan",
                          step=step.label, read_only=True, drill=drill.name)
        try:
            if step.targets is not None and entry.target_type:
                plan.targets[step_key(step)] = resolve(ctx, entry.target_type, step.targets, rng)
            touches = entry.extra.get("touches")
            if touches is not None:
                plan.touched[step_key(step)] = touches(ctx, step.params)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, entry.name, step.label) from exc
        found = plan.targets.get(step_key(step))
        if found is not None and not found:
            plan.refusals.append(f"{step.label} ({step.where}): the selector matched nothing "
                                 f"({step.targets.describe()} in {ctx.region})")
        if found and rails.max_targets is not None and len(found) > rails.max_targets:
            plan.refusals.append(f"{step.label} ({step.where}): {len(found)} targets exceed "
                                 f"max_targets {rails.max_targets}")
        for resource in plan.touched.get(step_key(step), []):
            if resource.attrs.get("missing"):
                plan.refusals.append(f"{step.label} ({step.where}): {resource.type} {resource.id} not found "
                                     f"in {resource.region}")
        for resource in (found or []) + plan.touched.get(step_key(step), []):
            if resource.attrs.get("missing"):
                continue
            missing = {k: v for k, v in rails.require_tags.items() if resource.tags.get(k) != v}
            if missing:
                want = ", ".join(f"{k}={v}" for k, v in missing.items())
                plan.refusals.append(f"{step.label}: {resource.type} {resource.id} lacks required tags {want}")
    return plan


def _missing_alarms(session: Any, alarms: list[tuple[str, str]]) -> list[str]:
    """A stop condition naming an alarm that does not exist could never fire: refuse."""
    from drtool.aws.errors import translate

    missing = []
    for region in sorted({r for _n, r in alarms}):
        names = sorted({n for n, r in alarms if r == region})
        try:
            found = session.client("cloudwatch", region).describe_alarms(AlarmNames=names)["MetricAlarms"]
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, "cloudwatch:DescribeAlarms", "guardrails") from exc
        known = {a["AlarmName"] for a in found}
        missing += [f"stop condition alarm {n!r} does not exist in {region}" for n in names if n not in known]
    return missing


def enforce(plan: Plan) -> None:
    """Raise one GuardrailRefusal naming every refusal."""
    if plan.refusals:
        first = plan.refusals[0]
        rest = "".join(f"\n  - {r}" for r in plan.refusals[1:])
        raise GuardrailRefusal("guardrails", first + rest, "nothing was changed; fix the drill or the account")
