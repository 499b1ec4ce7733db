"""Document batches: the manifest a client registers in PostgreSQL, the pages DocumentProcessingWorkflow
reads from it, each document's recorded outcome, and the bounded summary a batch ends with.

The list of uploads never travels as a workflow input: a batch of 10,000 would be megabytes in history.
"""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from ..queues import DEFAULT_QUEUE
from .base import ActivityContract, Model, OrgId
from .documents import DocumentAnalysis, DocumentSummary, DocumentUpload
from .timing import BATCH_STEP

BatchId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]

MAX_PAGE = 200
"""Uploads per manifest page: ~40 KB of history per page read."""
MAX_FAILURES_SHOWN = 10
MAX_ERROR_TYPES = 20
MAX_MESSAGE_CHARS = 500


class StepError(Model):
    """A failed step as a result reports it: the error type and message, without the stack trace."""

    step: str
    type: str | None
    message: str = Field(max_length=MAX_MESSAGE_CHARS)

    @property
    def reason(self) -> str:
        return f"{self.type}: {self.message}" if self.type else self.message


class BatchItem(Model):
    """One upload of a batch, numbered from 0 in the order the client registered it."""

    seq: int = Field(ge=0)
    upload: DocumentUpload


class BatchPageRequest(Model):
    organization_id: OrgId
    batch_id: BatchId
    start: int = Field(ge=0, description="the first seq to return")
    limit: int = Field(ge=1, le=MAX_PAGE)


class BatchPage(Model):
    total: int = Field(description="uploads in the whole batch")
    items: list[BatchItem] = Field(max_length=MAX_PAGE)


class DocumentOutcome(Model):
    """What became of one upload of a batch; recorded once per (organisation, batch, seq)."""

    organization_id: OrgId
    batch_id: BatchId
    seq: int = Field(ge=0)
    status: Literal["done", "failed"]
    document_id: str | None = None
    duplicate: bool = False
    summary: DocumentSummary | None = None
    analysis: DocumentAnalysis | None = None
    errors: list[StepError] = Field(default_factory=list, max_length=3)


class OutcomeRecorded(Model):
    seq: int
    first_time: bool = Field(description="False when a retry found the outcome already recorded")


class BatchRef(Model):
    organization_id: OrgId
    batch_id: BatchId


class FailedDocument(Model):
    seq: int
    filename: str
    errors: list[StepError]


class BatchSummary(Model):
    """A batch's outcomes, bounded whatever its size: counts, failures by type and the first few failures.
    The rest is in PostgreSQL: `antifragile documents list ORG --batch BATCH`."""

    organization_id: OrgId
    batch_id: BatchId
    total: int
    done: int
    failed: int
    pending: int = Field(description="registered uploads without an outcome (yet)")
    duplicates: int
    failures_by_type: dict[str, int] = Field(max_length=MAX_ERROR_TYPES)
    first_failures: list[FailedDocument] = Field(max_length=MAX_FAILURES_SHOWN)


READ_DOCUMENT_BATCH = ActivityContract(
    name="read_document_batch",
    queue=DEFAULT_QUEUE,
    input=BatchPageRequest,
    output=BatchPage,
    timing=BATCH_STEP,
)
RECORD_DOCUMENT_OUTCOME = ActivityContract(
    name="record_document_outcome",
    queue=DEFAULT_QUEUE,
    input=DocumentOutcome,
    output=OutcomeRecorded,
    timing=BATCH_STEP,
)
SUMMARIZE_DOCUMENT_BATCH = ActivityContract(
    name="summarize_document_batch",
    queue=DEFAULT_QUEUE,
    input=BatchRef,
    output=BatchSummary,
    timing=BATCH_STEP,
)
