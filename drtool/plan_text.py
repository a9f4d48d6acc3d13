"""The plan in words: what `plan` prints and what the confirmation prompt shows."""

from __future__ import annotations

from typing import Any

from drtool.failback import left_to_reverse, planned
from drtool.guardrails import Plan, step_key


def describe_plan(plan: Plan) -> str:
    """The plan in words: steps, targets, guardrails and IAM actions."""
    drill = plan.drill
    lines = [f"drill {drill.name}: scenario {drill.scenario.name}, service {drill.doc.service.name}",
             f"  account {plan.account or '?'}, regions {', '.join(plan.regions) or plan.default_region}, "
             f"seed {plan.seed}",
             f"  objectives: RTO {drill.objectives.rto:g}s"
             + (f", RPO {drill.objectives.rpo:g}s" if drill.objectives.rpo is not None else "")]
    for step in drill.all_steps():
        if step.phase == "failback" and step is drill.steps["failback"][0]:
            lines.append("  failback, in this order instead of plain reverse undo (once the fault was injected):")
        region = step.region(plan.default_region) if step.form not in ("manual", "undo") else "-"
        lines.append(f"  {step.phase:<8} {step.form:<6} {step.label}  [{region}]")
        for resource in plan.targets.get(step_key(step), []):
            lines.append(f"             -> {resource.type} {resource.id} ({resource.selected_by})")
        for resource in plan.touched.get(step_key(step), []):
            lines.append(f"             -> {resource.type} {resource.id}")
        warning = step.entry.extra.get("plan_warning") if step.entry is not None else None
        if warning:
            lines.append(f"             ! {warning}")
        if step.phase == "failback" and step is drill.steps["failback"][-1]:
            rest = left_to_reverse(drill)
            lines.append("  failback: then, in reverse order, whatever else is still changed"
                         + (f" ({', '.join(rest)})" if rest else " (every undoable step is named above)"))
            lines.append("  failback: the first entry that fails stops it; nothing after it is undone (traffic "
                         "stays on the DR side) until `drtool rollback RUN`, which asks the waits again")
    rails = drill.doc.guardrails
    lines.append(f"  guardrails: accounts {rails.accounts}, max_targets {rails.max_targets}, "
                 f"require_tags {rails.require_tags or '{}'}, time_limit {rails.time_limit}, "
                 f"stop conditions {[c.alarm for c in rails.stop_conditions]}")
    for refusal in plan.refusals:
        lines.append(f"  REFUSED: {refusal}")
    lines.append("  IAM actions: " + ", ".join(plan.iam_actions))
    return "\n".join(lines)


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as JSON (`plan --json`, `--events json`): what `describe_plan` says, typed.
    Secret parameters and URL credentials are masked as in the journal."""
    import json

    from drtool.redact import redact, secret_values

    drill = plan.drill
    doc = drill.doc
    steps = []
    for step in drill.all_steps():
        key = step_key(step)
        steps.append({
            "phase": step.phase, "index": step.index, "kind": step.form, "ref": step.ref, "name": step.label,
            "region": step.region(plan.default_region) if step.form != "manual" else None,
            "timeout_s": step.timeout,
            "with": step.params.model_dump(mode="json") if step.params is not None else None,
            "targets": [r.to_json() for r in plan.targets.get(key, [])],
            "touched": [r.to_json() for r in plan.touched.get(key, [])]})
    body = {
        "drill": drill.name, "scenario": drill.scenario.name, "service": doc.service.model_dump(mode="json"),
        "drill_path": str(drill.path), "scenario_path": str(drill.scenario_path),
        "parameters": drill.parameters, "account": plan.account, "default_region": plan.default_region,
        "regions": plan.regions, "seed": plan.seed,
        "objectives": {"rto_s": drill.objectives.rto, "rpo_s": drill.objectives.rpo},
        "guardrails": doc.guardrails.model_dump(mode="json"), "steps": steps,
        "irreversible": [{"step": label, "follow_up": how} for label, how in plan.irreversible],
        "failback": {"steps": [e.to_json() for e in planned(drill, plan.default_region)], "then_reverse": left_to_reverse(drill)}
        if drill.steps.get("failback") else None,
        "refusals": [{"guardrail": g, "message": m} for g, m in zip(plan.refused_by, plan.refusals, strict=False)],
        "iam_actions": plan.iam_actions, "ok": not plan.refusals}
    return redact(json.loads(json.dumps(body, default=str)), secret_values(drill))
