"""Targets and guardrails, decided at one point before anything changes.

`prepare(drill, session, ...)` resolves every step's targets read-only, checks the
account, `max_targets`, `require_tags`, stop-condition alarms, manual steps a
non-interactive run could not complete and steps without an undo (SPEC 7.3), and computes
the IAM actions. `enforce(plan)` raises `GuardrailRefusal` (exit 4) naming every refusal;
neither changes anything.
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
    refused_by: list[str] = field(default_factory=list)  # the guardrail behind each refusal
    irreversible: list[tuple[str, str]] = field(default_factory=list)  # (step label, follow-up)
    accounts: dict[str, str] = field(default_factory=dict)  # aws.accounts name -> account id it acts in

    def refuse(self, guardrail: str, message: str) -> None:
        self.refusals.append(message)
        self.refused_by.append(guardrail)

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
            check_account: bool = True, mode: str = "live", interactive: bool | None = None,
            assume_manual: bool = False) -> Plan:
    """Resolve targets and evaluate every guardrail. Read-only.

    `mode` is the run's mode ("live" or "sandbox": only live runs need
    `guardrails.allow_irreversible` for steps without an undo). `interactive` says whether
    an operator can acknowledge manual steps; None (e.g. `drtool plan`) skips that check.
    """
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
            plan.refuse("accounts", "guardrails.accounts is not set: list the account ids this drill may run in")
        elif plan.account not in rails.accounts:
            plan.refuse("accounts", f"account {plan.account} is not in guardrails.accounts "
                                 f"({', '.join(rails.accounts)}); check your credentials or profile")
        listed = drill.doc.run.account_ids
        if listed and plan.account not in listed:
            plan.refuse("accounts", f"account {plan.account} is not in run.account_ids ({', '.join(listed)})")
        _check_named_accounts(plan, session)

    if check_account and rails.stop_conditions:
        by_account: dict[str | None, list[tuple[str, str]]] = {}
        for c in rails.stop_conditions:
            by_account.setdefault(getattr(c, "account", None), []).append((c.alarm, c.region or region))
        for account, alarms in by_account.items():
            acting = _session(session, account)
            for missing in _missing_alarms(acting, alarms):
                plan.refuse("stop_conditions", missing + (f" (account {account})" if account else ""))

    _check_steps(plan, mode=mode, interactive=interactive, assume_manual=assume_manual)
    for step in drill.all_steps():
        entry = step.entry
        if entry is None or step.form != "action":
            continue
        ctx = StepContext(aws=session, clock=clock, region=step.region(region) or region, run_id="plan",
                          step=step.label, read_only=True, drill=drill.name, account=step.account)
        try:
            if step.targets is not None and entry.target_type:
                plan.targets[step_key(step)] = resolve(ctx, entry.target_type, step.targets, rng)
            touches = entry.extra.get("touches")
            if touches is not None:
                plan.touched[step_key(step)] = touches(ctx, step.params)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, entry.name, step.label) from exc
        found = plan.targets.get(step_key(step))
        if found is not None and not found and step.targets is not None:  # found only when targets resolved
            plan.refuse("targets", f"{step.label} ({step.where}): the selector matched nothing "
                                 f"({step.targets.describe()} in {ctx.region})")
        if found and rails.max_targets is not None and len(found) > rails.max_targets:
            plan.refuse("max_targets", f"{step.label} ({step.where}): {len(found)} targets exceed "
                                 f"max_targets {rails.max_targets}")
        for resource in plan.touched.get(step_key(step), []):
            if resource.attrs.get("missing"):
                plan.refuse("targets", f"{step.label} ({step.where}): {resource.type} {resource.id} not found "
                                     f"in {resource.region}")
        for resource in (found or []) + plan.touched.get(step_key(step), []):
            if resource.attrs.get("missing"):
                continue
            missing_tags = {k: v for k, v in rails.require_tags.items() if resource.tags.get(k) != v}
            if missing_tags:
                want = ", ".join(f"{k}={v}" for k, v in missing_tags.items())
                plan.refuse("require_tags", f"{step.label}: {resource.type} {resource.id} lacks required tags {want}")
    return plan


NO_UNDO_FOLLOW_UP = "no automatic undo: put it back by hand if the system does not"
FOLLOW_UPS = {  # actions without an undo whose registry entry gives no follow-up text
    "ec2.terminate-instances": "terminated instances cannot be restarted: an Auto Scaling group launches "
                               "replacements; instances outside a group must be relaunched by hand",
}


def irreversible_steps(drill: Drill) -> list[tuple[str, str]]:
    """(step label, follow-up) for every action step whose action has no undo."""
    found = []
    for step in drill.all_steps():
        entry = step.entry if step.form == "action" else None
        if entry is not None and entry.undo is None:
            found.append((step.label, entry.follow_up or FOLLOW_UPS.get(entry.name, NO_UNDO_FOLLOW_UP)))
    return found


def _check_steps(plan: Plan, *, mode: str, interactive: bool | None, assume_manual: bool) -> None:
    """SPEC 7.3: refuse, before any change, what is bound to fail or cannot be undone."""
    drill = plan.drill
    plan.irreversible = irreversible_steps(drill)
    if plan.irreversible and mode != "sandbox" and not drill.doc.guardrails.allow_irreversible:
        for label, _how in plan.irreversible:
            plan.refuse("irreversible", f"{label} cannot be undone; set guardrails.allow_irreversible: true "
                                        "to run it against a real account")
    if interactive is False and not assume_manual:
        for step in drill.all_steps():
            if step.form == "manual":
                plan.refuse("manual", f"{step.label} ({step.where}) needs an operator and this run is not "
                                      "interactive: run it from a terminal or pass --assume-manual")


def describe_irreversible(plan: Plan) -> list[str]:
    """Lines for `plan` and the confirmation prompt: every irreversible step and its follow-up."""
    if not plan.irreversible:
        return []
    allowed = "allowed by guardrails.allow_irreversible" if plan.drill.doc.guardrails.allow_irreversible \
        else "refused on a real account unless guardrails.allow_irreversible: true"
    lines = [f"  irreversible steps ({allowed}):"]
    for label, how in plan.irreversible:
        lines += [f"    - {label}", f"      follow-up: {how}"]
    return lines


def _session(session: Any, account: str | None) -> Any:
    return session.for_account(account) if account and hasattr(session, "for_account") else session


def _check_named_accounts(plan: Plan, session: Any) -> None:
    """Every named account a step or stop condition acts in is asked who it is (STS
    GetCallerIdentity through its role) and must be in `guardrails.accounts` (and
    `run.account_ids` when set), like the drill's own account."""
    from drtool.aws.errors import translate

    rails, listed = plan.drill.doc.guardrails, plan.drill.doc.run.account_ids
    for name in plan.drill.account_names():
        if name is None:
            continue
        try:
            account = _session(session, name).account_id()
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, "sts:GetCallerIdentity", f"guardrails (account {name})") from exc
        plan.accounts[name] = account
        if rails.accounts is not None and account not in rails.accounts:
            plan.refuse("accounts", f"account {account} ({name}) is not in guardrails.accounts "
                                 f"({', '.join(rails.accounts)})")
        if listed and account not in listed:
            plan.refuse("accounts", f"account {account} ({name}) is not in run.account_ids ({', '.join(listed)})")


def _missing_alarms(session: Any, alarms: list[tuple[str, str]]) -> list[str]:
    """A stop condition naming an alarm that does not exist could never fire: refuse.

    Metric and composite alarms both count: DescribeAlarms returns composite alarms only
    when AlarmTypes names them ("If you omit this parameter, only metric alarms are
    returned", CloudWatch API reference, DescribeAlarms); `cloudwatch.describe_alarms` asks for both.
    """
    from drtool.aws.cloudwatch import describe_alarms
    from drtool.aws.errors import translate

    missing = []
    for region in sorted({r for _n, r in alarms}):
        names = sorted({n for n, r in alarms if r == region})
        try:
            found = describe_alarms(session.client("cloudwatch", region), names)
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
        kinds = set(plan.refused_by) if len(plan.refused_by) == len(plan.refusals) else set()
        name = kinds.pop() if len(kinds) == 1 else "guardrails"
        raise GuardrailRefusal(name, first + rest, "nothing was changed; fix the drill or the account")
