"""Document contracts: upload processing, readiness, summary and analysis."""

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field
from temporalio.common import RetryPolicy

from ..queues import DEFAULT_QUEUE, OPENAI_QUEUE
from .base import DEFAULT_RETRY, ActivityContract, Model, OrgId
from .usage import TokenUsage

Confidence = Annotated[float, Field(ge=0.0, le=1.0)]


class DocumentUpload(Model):
    """A file already staged in the object store, waiting to be processed."""

    organization_id: OrgId
    filename: str = Field(min_length=1, max_length=255)
    upload_key: str = Field(min_length=1)


class ProcessedDocument(Model):
    """What history keeps of a document: metadata, storage keys and bounded text."""

    document_id: str
    organization_id: OrgId
    filename: str
    content_hash: str
    media_type: str
    title: str | None
    page_count: int
    char_count: int
    original_key: str
    text_key: str
    text_excerpt: str
    text_truncated: bool
    duplicate: bool = False


class ReadinessRequest(Model):
    organization_id: OrgId


class TrainingReadiness(Model):
    """Corpus statistics against the thresholds, with the reasons when not ready."""

    organization_id: OrgId
    ready: bool
    document_count: int
    total_chars: int
    approx_tokens: int
    duplicate_count: int
    reasons: list[str]


class DocumentText(Model):
    """A processed document as the LLM steps receive it: the full text stays in the store."""

    organization_id: OrgId
    document_id: str
    filename: str
    text_key: str
    model: str | None = None


class DocumentSummary(Model):
    document_id: str
    summary: str
    key_points: list[str]
    model: str
    chunks: int
    usage: TokenUsage


class DocumentAnalysis(Model):
    document_id: str
    topics: list[str]
    risks: list[str]
    opportunities: list[str]
    sentiment: Literal["positive", "neutral", "negative", "mixed"]
    confidence: Confidence
    model: str
    chunks: int
    usage: TokenUsage


LLM_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=6,
)

PROCESS_DOCUMENT_UPLOAD = ActivityContract(
    name="process_document_upload",
    queue=DEFAULT_QUEUE,
    input=DocumentUpload,
    output=ProcessedDocument,
    start_to_close=timedelta(minutes=10),
    retry=DEFAULT_RETRY,
)
VALIDATE_TRAINING_READINESS = ActivityContract(
    name="validate_training_readiness",
    queue=DEFAULT_QUEUE,
    input=ReadinessRequest,
    output=TrainingReadiness,
    start_to_close=timedelta(minutes=2),
)
GENERATE_DOCUMENT_SUMMARY = ActivityContract(
    name="generate_document_summary",
    queue=OPENAI_QUEUE,
    input=DocumentText,
    output=DocumentSummary,
    start_to_close=timedelta(minutes=15),
    heartbeat=timedelta(minutes=2),
    retry=LLM_RETRY,
)
ANALYZE_DOCUMENT_CONTENT = ActivityContract(
    name="analyze_document_content",
    queue=OPENAI_QUEUE,
    input=DocumentText,
    output=DocumentAnalysis,
    start_to_close=timedelta(minutes=15),
    heartbeat=timedelta(minutes=2),
    retry=LLM_RETRY,
)
