"""Evidence around the fault: backup posture before it, RPO meters through it.

Functions of a `DrillRun`. Posture never fails a drill (evidence that could not be
collected is said); canaries must be seen replicating before the fault; meters are
measured on every ending, before the rollback removes the evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drtool.run_types import DrillStop, error_text, jsonable

if TYPE_CHECKING:
    from drtool.drill_run import DrillRun


def posture(run: DrillRun) -> None:
    """Backup posture before the drill (read-only evidence; never fails the drill)."""
    posture = run.drill.doc.posture
    if posture is None or posture.backups is None:
        return
    from drtool.backups import check_backups

    spec = posture.backups
    run.where = "posture check"
    try:
        report = check_backups(run.session, regions=spec.regions or run.plan.regions,
                               tags={k: [v] for k, v in spec.tags.items()}, rpo_s=spec.rpo,
                               copy_regions=spec.copy_regions, now=run.clock.now())
    except Exception as exc:  # noqa: BLE001 - evidence we could not collect is said, not fatal
        message = error_text(exc)
        run.journal.write("posture", posture={"backups": {"error": message}})
        run.opts.report(f"  posture  backups check failed: {message}")
        return
    result = report.to_json()
    result["compliant"] = report.compliant
    result["violations"] = len(report.violations)
    run.journal.write("posture", posture={"backups": result})
    run.opts.report(f"  posture  backups: {len(report.verdicts)} resource(s), "
                     f"{len(report.violations)} violating RPO {spec.rpo:g}s")


def rpo_steady_state(run: DrillRun) -> None:
    """Before the fault, every canary must be seen replicating: otherwise the measured
    RPO would say nothing about the service."""
    canary = run.drill.doc.rpo.canary if run.drill.doc.rpo else None
    for meter in run.meters:
        if not hasattr(meter, "wait_ready") or canary is None:
            continue
        run.where = "rpo canaries replicating"
        run.journal.write("step.started", phase="rpo", step="canaries replicating", kind="check", index=0,
                           ref="rpo.canary")
        ok, detail = meter.wait_ready(min(canary.warmup, run.remaining_time() or canary.warmup))
        run.journal.write("step.finished", phase="rpo", step="canaries replicating", kind="check", index=0,
                           status="ok" if ok else "failed", detail=detail)
        run.opts.report(f"  {'rpo':<8} {'canaries replicating':<34} {'ok' if ok else 'FAILED':<7} {detail}")
        if not ok:
            raise DrillStop("aborted", f"steady state not met before the fault: {detail}")


def finish_meters(run: DrillRun) -> None:
    measurements = []
    for meter in run.meters:
        try:
            if run.fault_at is None:
                meter.mark_fault(run.clock.now())
            else:
                measurements.append(jsonable(meter.measure().__dict__))
        except Exception as exc:  # noqa: BLE001 - a broken meter must not stop the rollback
            measurements.append({"method": getattr(meter, "method", "unknown"), "measured_s": None,
                                 "detail": f"measurement failed: {error_text(exc)}", "evidence": {}})
    if measurements:
        run.journal.write("rpo.measured", measurements=measurements)
    for meter in run.meters:
        try:
            meter.cleanup()
        except Exception as exc:  # noqa: BLE001 - the canary undo stays pending in the journal
            run.opts.report(f"  canary cleanup failed (rollback retries it): {error_text(exc)}")
