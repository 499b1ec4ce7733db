"""MaintenanceWorkflow: daily health checks and retention cleanup, alerting when something is wrong;
and the daily Temporal Schedule that starts it."""

from pydantic import Field
from temporalio import workflow
from temporalio.client import (
    Schedule,
    ScheduleCalendarSpec,
    ScheduleRange,
)

with workflow.unsafe.imports_passed_through():
    from antifragile_core.contracts.base import Model, OrgId
    from antifragile_core.contracts.operations import (
        CLEANUP_OLD_DATA,
        HEALTH_CHECK_EXTERNAL_SERVICES,
        SEND_SCHEDULED_NOTIFICATION,
        CleanupReport,
        CleanupRequest,
        DataKind,
        HealthCheckRequest,
        HealthReport,
        NotificationReceipt,
        NotificationTarget,
    )

from .calls import StepError, call, run_steps
from .schedules import calendar_schedule

DEFAULT_RETENTION_DAYS = {
    DataKind.ORIGINALS: 365,
    DataKind.EXTRACTED_TEXT: 365,
    DataKind.REPORTS: 90,
    DataKind.CHECKPOINTS: 14,
    DataKind.FINDINGS: 180,
    DataKind.TRAINING_DATA: 365,
    DataKind.BATCHES: 365,
}


class MaintenanceRequest(Model):
    """What to keep, and who hears about an unhealthy service or a failed cleanup."""

    retention_days: dict[DataKind, int] = Field(default_factory=lambda: dict(DEFAULT_RETENTION_DAYS))
    organization_id: OrgId | None = None
    dry_run: bool = False
    alert: NotificationTarget | None = None


class MaintenanceResult(Model):
    health: HealthReport | None = None
    cleanup: CleanupReport | None = None
    errors: list[StepError] = Field(default_factory=list)
    alert: NotificationReceipt | None = None


@workflow.defn
class MaintenanceWorkflow:
    @workflow.run
    async def run(self, req: MaintenanceRequest) -> MaintenanceResult:
        cleanup_request = CleanupRequest(
            organization_id=req.organization_id, retention_days=req.retention_days, dry_run=req.dry_run
        )
        done, errors = await run_steps(
            health=call(HEALTH_CHECK_EXTERNAL_SERVICES, HealthCheckRequest()),
            cleanup=call(CLEANUP_OLD_DATA, cleanup_request),
        )
        result = MaintenanceResult(health=done.get("health"), cleanup=done.get("cleanup"), errors=errors)
        unhealthy = result.health is not None and not result.health.healthy
        if req.alert is not None and (unhealthy or result.errors):
            info = workflow.info()
            message = req.alert.message(
                req.organization_id or "operations",
                idempotency_key=f"maintenance/{info.workflow_id}/{info.run_id}",
                subject="Antifragile maintenance needs attention",
                body=_alert_body(result),
            )
            result.alert = await call(SEND_SCHEDULED_NOTIFICATION, message)
        return result


def _alert_body(result: MaintenanceResult) -> str:
    lines = []
    if result.health is not None:
        lines += [
            f"- {s.name}: {s.status}" + (f" ({s.error})" if s.error else "") for s in result.health.services
        ]
    lines += [f"- {e.step} failed: {e.message}" for e in result.errors]
    return "\n".join(lines)


def maintenance_schedule_id(task_queue_prefix: str) -> str:
    return f"{task_queue_prefix}maintenance-daily"


def maintenance_schedule(task_queue_prefix: str, req: MaintenanceRequest, paused: bool = False) -> Schedule:
    """Daily at 03:00 UTC, when documents and scans are quiet."""
    return calendar_schedule(
        MaintenanceWorkflow.run,
        req,
        schedule_id=maintenance_schedule_id(task_queue_prefix),
        task_queue_prefix=task_queue_prefix,
        calendar=ScheduleCalendarSpec(hour=[ScheduleRange(3)], minute=[ScheduleRange(0)]),
        note="daily health checks and retention cleanup",
        paused=paused,
    )
