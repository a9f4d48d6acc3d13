"""The plan in words: what `plan` prints and what the confirmation prompt shows."""

from __future__ import annotations

from drtool.guardrails import Plan, step_key


def describe_plan(plan: Plan) -> str:
    """The plan in words: steps, targets, guardrails and IAM actions."""
    drill = plan.drill
    lines = [f"drill {drill.name}: scenario {drill.scenario.name}, service {drill.doc.service.name}",
             f"  account {plan.account or '?'}, regions {', '.join(plan.regions) or plan.default_region}, "
             f"seed {plan.seed}",
             f"  objectives: RTO {drill.doc.objectives.rto:g}s"
             + (f", RPO {drill.doc.objectives.rpo:g}s" if drill.doc.objectives.rpo is not None else "")]
    for step in drill.all_steps():
        region = step.region(plan.default_region) if step.form != "manual" else "-"
        lines.append(f"  {step.phase:<8} {step.form:<6} {step.label}  [{region}]")
        for resource in plan.targets.get(step_key(step), []):
            lines.append(f"             -> {resource.type} {resource.id} ({resource.selected_by})")
        for resource in plan.touched.get(step_key(step), []):
            lines.append(f"             -> {resource.type} {resource.id}")
    rails = drill.doc.guardrails
    lines.append(f"  guardrails: accounts {rails.accounts}, max_targets {rails.max_targets}, "
                 f"require_tags {rails.require_tags or '{}'}, time_limit {rails.time_limit}, "
                 f"stop conditions {[c.alarm for c in rails.stop_conditions]}")
    for refusal in plan.refusals:
        lines.append(f"  REFUSED: {refusal}")
    lines.append("  IAM actions: " + ", ".join(plan.iam_actions))
    return "\n".join(lines)
