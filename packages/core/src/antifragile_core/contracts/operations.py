"""Operational contracts on default-queue: competitor scans, notifications, health, retention."""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import AnyHttpUrl, Field

from ..queues import DEFAULT_QUEUE
from .base import ActivityContract, Model, OrgId


class Source(Model):
    url: AnyHttpUrl
    kind: Literal["feed", "page"] = "feed"


class CompetitorScanRequest(Model):
    organization_id: OrgId
    competitors: list[str] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)


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
    organization_id: OrgId
    sources_scanned: int
    new_findings: list[Finding]
    errors: list[SourceError]


class Notification(Model):
    """One message; `idempotency_key` guarantees a retried send delivers once."""

    organization_id: OrgId
    idempotency_key: str = Field(min_length=1, max_length=200)
    channel: Literal["email", "webhook"]
    recipients: list[str] = Field(default_factory=list)
    webhook_url: AnyHttpUrl | None = None
    subject: str
    body: str


class NotificationReceipt(Model):
    idempotency_key: str
    channel: str
    delivered: bool
    duplicate: bool


class HealthCheckRequest(Model):
    services: list[Literal["temporal", "postgres", "object_store", "llm"]] | None = None


class ServiceHealth(Model):
    name: str
    healthy: bool
    latency_ms: float | None
    error: str | None = None


class HealthReport(Model):
    healthy: bool
    services: list[ServiceHealth]


class DataKind(StrEnum):
    ORIGINALS = "originals"
    EXTRACTED_TEXT = "extracted_text"
    REPORTS = "reports"
    CHECKPOINTS = "checkpoints"
    FINDINGS = "findings"


class CleanupRequest(Model):
    organization_id: OrgId | None = None
    retention_days: dict[DataKind, int] = Field(default_factory=dict)
    dry_run: bool = True


class CleanupCount(Model):
    kind: DataKind
    items: int
    bytes: int


class CleanupReport(Model):
    dry_run: bool
    counts: list[CleanupCount]


SCHEDULE_COMPETITOR_SCAN = ActivityContract(
    name="schedule_competitor_scan",
    queue=DEFAULT_QUEUE,
    input=CompetitorScanRequest,
    output=CompetitorScanResult,
    start_to_close=timedelta(minutes=10),
    heartbeat=timedelta(minutes=1),
)
SEND_SCHEDULED_NOTIFICATION = ActivityContract(
    name="send_scheduled_notification",
    queue=DEFAULT_QUEUE,
    input=Notification,
    output=NotificationReceipt,
    start_to_close=timedelta(minutes=2),
)
HEALTH_CHECK_EXTERNAL_SERVICES = ActivityContract(
    name="health_check_external_services",
    queue=DEFAULT_QUEUE,
    input=HealthCheckRequest,
    output=HealthReport,
    start_to_close=timedelta(minutes=1),
)
CLEANUP_OLD_DATA = ActivityContract(
    name="cleanup_old_data",
    queue=DEFAULT_QUEUE,
    input=CleanupRequest,
    output=CleanupReport,
    start_to_close=timedelta(minutes=30),
    heartbeat=timedelta(minutes=1),
)
