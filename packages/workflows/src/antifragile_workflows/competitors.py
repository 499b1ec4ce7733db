"""CompetitorMonitoringWorkflow: scan an organisation's sources, summarise what is new when an LLM is
configured, and send the report; and the weekly Temporal Schedule that starts it for one organisation."""

from datetime import timedelta

from temporalio import workflow
from temporalio.client import (
    Client,
    Schedule,
    ScheduleCalendarSpec,
    ScheduleRange,
)
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from antifragile_core.contracts.base import Model, OrgId
    from antifragile_core.contracts.documents import GENERATE_DOCUMENT_SUMMARY, DocumentSummary, DocumentText
    from antifragile_core.contracts.operations import (
        SCHEDULE_COMPETITOR_SCAN,
        SEND_SCHEDULED_NOTIFICATION,
        CompetitorMonitoring,
        CompetitorScanResult,
        CompetitorScheduleRequest,
        NotificationReceipt,
        ScheduleHandle,
    )

from .calls import StepError, call, step_error
from .schedules import calendar_schedule, upsert_schedule


class CompetitorMonitoringResult(Model):
    organization_id: OrgId
    scan: CompetitorScanResult
    summary: DocumentSummary | None = None
    summary_skipped_reason: str | None = None
    summary_error: StepError | None = None
    notification: NotificationReceipt | None = None


@workflow.defn
class CompetitorMonitoringWorkflow:
    """One scan; a report goes out when something is new or a source could not be scanned."""

    @workflow.run
    async def run(self, monitoring: CompetitorMonitoring) -> CompetitorMonitoringResult:
        scan = await call(SCHEDULE_COMPETITOR_SCAN, monitoring.scan)
        result = CompetitorMonitoringResult(organization_id=scan.organization_id, scan=scan)
        if scan.report_key is None:
            result.summary_skipped_reason = "no new findings"
        elif not monitoring.summarise:
            result.summary_skipped_reason = "no LLM configured for this organisation's monitoring"
        else:
            try:
                result.summary = await call(
                    GENERATE_DOCUMENT_SUMMARY, _report_document(scan.report_key, scan)
                )
            except ActivityError as err:
                result.summary_error = step_error("summary", err)
        if not scan.new_findings and not scan.errors:
            return result
        body = scan.report()
        if result.summary is not None:
            points = "".join(f"- {p}\n" for p in result.summary.key_points)
            body = f"{result.summary.summary}\n\n{points}\n{body}"
        info = workflow.info()
        message = monitoring.notify.message(
            scan.organization_id,
            idempotency_key=f"competitor-report/{info.workflow_id}/{info.run_id}",
            subject=_subject(scan),
            body=body,
        )
        result.notification = await call(SEND_SCHEDULED_NOTIFICATION, message)
        return result


def _report_document(report_key: str, scan: CompetitorScanResult) -> DocumentText:
    name = report_key.rsplit("/", 1)[-1]
    return DocumentText(
        organization_id=scan.organization_id,
        document_id=f"competitor-scan-{name.removesuffix('.md')}",
        filename=f"competitor-findings-{name}",
        text_key=report_key,
    )


def _subject(scan: CompetitorScanResult) -> str:
    subject = f"{len(scan.new_findings)} new competitor findings for {scan.organization_id}"
    if scan.errors:
        subject += f"; {len(scan.errors)} of {scan.sources_scanned} sources could not be scanned"
    return subject


def competitor_schedule_id(task_queue_prefix: str, organization_id: str) -> str:
    return f"{task_queue_prefix}competitor-scan-{organization_id}"


def competitor_schedule(task_queue_prefix: str, req: CompetitorScheduleRequest) -> Schedule:
    """Weekly, Monday 06:00 UTC (with up to 30 minutes' jitter to spread organisations out)."""
    return calendar_schedule(
        CompetitorMonitoringWorkflow.run,
        req.monitoring,
        schedule_id=competitor_schedule_id(task_queue_prefix, req.monitoring.scan.organization_id),
        task_queue_prefix=task_queue_prefix,
        calendar=ScheduleCalendarSpec(
            day_of_week=[ScheduleRange(1)], hour=[ScheduleRange(6)], minute=[ScheduleRange(0)]
        ),
        note="weekly competitor scan",
        paused=req.paused,
        jitter=timedelta(minutes=30),
    )


async def ensure_schedule(
    client: Client, task_queue_prefix: str, req: CompetitorScheduleRequest
) -> ScheduleHandle:
    """The organisation's weekly schedule, created or brought up to date with `req`."""
    schedule_id = competitor_schedule_id(task_queue_prefix, req.monitoring.scan.organization_id)
    created = await upsert_schedule(client, schedule_id, competitor_schedule(task_queue_prefix, req))
    return ScheduleHandle(schedule_id=schedule_id, created=created)
