"""Operational contracts on default-queue: competitor scans, notifications, health, retention."""

from datetime import datetime
from enum import StrEnum
from typing import Literal, Self

from pydantic import AnyHttpUrl, Field, model_validator

from ..queues import DEFAULT_QUEUE
from .base import ActivityContract, Model, OrgId
from .timing import CLEANUP, HEALTH_REPORT, JOB_CONTROL, NOTIFICATION, SCAN

MAX_MESSAGE_CHARS = 100_000
"""A notification body's limit: enough for hundreds of findings, small enough for workflow history."""


class Source(Model):
    """A feed (RSS/Atom: every entry is an item) or a web page (each <article>, else the page)."""

    url: AnyHttpUrl
    kind: Literal["feed", "page"] = "feed"


class CompetitorScanRequest(Model):
    organization_id: OrgId
    competitors: list[str] = Field(min_length=1, max_length=100)
    sources: list[Source] = Field(min_length=1, max_length=200)


class Finding(Model):
    finding_id: str
    competitor: str
    title: str
    url: str
    source: str
    published: datetime | None
    snippet: str


class SourceError(Model):
    source: str
    error: str


class CompetitorScanResult(Model):
    """What this scan found that no earlier scan had; `report_key` holds them as text for the LLM."""

    organization_id: OrgId
    sources_scanned: int
    new_findings: list[Finding]
    errors: list[SourceError]
    report_key: str | None = None

    def report(self) -> str:
        """The new findings as Markdown: the stored report, the text summarised, the message body."""
        lines = [f"# Competitor findings for {self.organization_id}", ""]
        for f in self.new_findings:
            when = f" ({f.published:%Y-%m-%d})" if f.published else ""
            lines += [f"- **{f.competitor}**: {f.title}{when}", f"  {f.url}", f"  {f.snippet}"]
        if self.errors:
            lines += ["", "## Sources that could not be scanned", ""]
            lines += [f"- {e.source}: {e.error}" for e in self.errors]
        return "\n".join(lines) + "\n"


class Notification(Model):
    """One message; `idempotency_key` guarantees a retried send delivers once."""

    organization_id: OrgId
    idempotency_key: str = Field(min_length=1, max_length=200)
    channel: Literal["email", "webhook"]
    recipients: list[str] = Field(default_factory=list)
    webhook_url: AnyHttpUrl | None = None
    subject: str = Field(max_length=300)
    body: str = Field(max_length=MAX_MESSAGE_CHARS)


class NotificationReceipt(Model):
    idempotency_key: str
    channel: str
    delivered: bool
    duplicate: bool


class NotificationTarget(Model):
    """Where an organisation's reports go: an email list or a Slack-compatible webhook."""

    channel: Literal["email", "webhook"]
    recipients: list[str] = Field(default_factory=list)
    webhook_url: AnyHttpUrl | None = None

    @model_validator(mode="after")
    def _has_destination(self) -> Self:
        if self.channel == "email" and not self.recipients:
            raise ValueError("an email target needs at least one recipient")
        if self.channel == "webhook" and self.webhook_url is None:
            raise ValueError("a webhook target needs webhook_url")
        return self

    def message(self, organization_id: str, idempotency_key: str, subject: str, body: str) -> Notification:
        """The message to this target; a body over the limit is cut, saying so."""
        if len(body) > MAX_MESSAGE_CHARS:
            body = body[: MAX_MESSAGE_CHARS - 40] + f"\n\n[cut at {MAX_MESSAGE_CHARS - 40} characters]"
        return Notification(
            organization_id=organization_id,
            idempotency_key=idempotency_key,
            channel=self.channel,
            recipients=self.recipients,
            webhook_url=self.webhook_url,
            subject=subject,
            body=body,
        )


class CompetitorMonitoring(Model):
    """One organisation's weekly scan: what to watch, where to report, whether an LLM may summarise."""

    scan: CompetitorScanRequest
    notify: NotificationTarget
    summarise: bool = False


class CompetitorScheduleRequest(Model):
    monitoring: CompetitorMonitoring
    paused: bool = False


class ScheduleHandle(Model):
    schedule_id: str
    created: bool


ServiceName = Literal["temporal", "postgres", "object_store", "llm"]


class HealthCheckRequest(Model):
    services: list[ServiceName] | None = None


class ServiceHealth(Model):
    """`status` is 'up' only after a successful probe; an unconfigured LLM is 'not_configured'."""

    name: str
    healthy: bool
    status: Literal["up", "down", "not_configured"]
    latency_ms: float | None
    error: str | None = None


class HealthReport(Model):
    """Healthy when at least one service was probed and none is down."""

    healthy: bool
    services: list[ServiceHealth]


class DataKind(StrEnum):
    """What retention ages separately. Deleting a document's extracted text also removes its row, its
    uploads and its search passages (copies of that text); training data is a job's held-out text, its
    improvement dataset and its corpus manifest; batches are document batches' manifests and outcomes."""

    ORIGINALS = "originals"
    EXTRACTED_TEXT = "extracted_text"
    REPORTS = "reports"
    CHECKPOINTS = "checkpoints"
    FINDINGS = "findings"
    TRAINING_DATA = "training_data"
    BATCHES = "batches"  # document batches: their manifests and outcomes (summaries, analyses)


class CleanupRequest(Model):
    """Remove data older than its kind's retention; kinds not listed are kept."""

    organization_id: OrgId | None = None
    retention_days: dict[DataKind, int] = Field(default_factory=dict)
    dry_run: bool = True

    @model_validator(mode="after")
    def _non_negative(self) -> Self:
        if any(days < 0 for days in self.retention_days.values()):
            raise ValueError("retention_days must not be negative")
        return self


class CleanupCount(Model):
    kind: DataKind
    items: int = Field(description="objects (findings, batches: rows) removed")
    bytes: int
    rows: int = Field(default=0, description="database rows removed with those objects")


class CleanupReport(Model):
    dry_run: bool
    counts: list[CleanupCount]


SCHEDULE_COMPETITOR_SCAN = ActivityContract(
    name="schedule_competitor_scan",
    queue=DEFAULT_QUEUE,
    input=CompetitorScanRequest,
    output=CompetitorScanResult,
    timing=SCAN,
)
SEND_SCHEDULED_NOTIFICATION = ActivityContract(
    name="send_scheduled_notification",
    queue=DEFAULT_QUEUE,
    input=Notification,
    output=NotificationReceipt,
    timing=NOTIFICATION,
)
HEALTH_CHECK_EXTERNAL_SERVICES = ActivityContract(
    name="health_check_external_services",
    queue=DEFAULT_QUEUE,
    input=HealthCheckRequest,
    output=HealthReport,
    timing=HEALTH_REPORT,
)
CLEANUP_OLD_DATA = ActivityContract(
    name="cleanup_old_data",
    queue=DEFAULT_QUEUE,
    input=CleanupRequest,
    output=CleanupReport,
    timing=CLEANUP,
)
ENSURE_COMPETITOR_SCHEDULE = ActivityContract(
    name="ensure_competitor_schedule",
    queue=DEFAULT_QUEUE,
    input=CompetitorScheduleRequest,
    output=ScheduleHandle,
    timing=JOB_CONTROL,
)
"""A helper step (not in the seed): onboarding creates or updates the org's weekly scan schedule."""
