"""Document contracts: upload processing, readiness, summary and analysis."""

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field
from temporalio.common import RetryPolicy

from ..queues import DEFAULT_QUEUE, OPENAI_QUEUE
from .base import DEFAULT_RETRY, ActivityContract, Model, OrgId
from .usage import TokenUsage

Confidence = Annotated[float, Field(ge=0.0, le=1.0)]
OCR_PAGES_CHARS = 200
"""`ProcessedDocument.ocr_pages` is cut here, so history stays bounded; the table keeps every page."""

# Bounds of what a model writes. Every LLM output field has one, so no answer can push a result or the
# workflow history past a fixed size (tests/test_output_bounds.py sums them up per contract).
Label = Annotated[str, Field(min_length=1, max_length=120)]
"""A topic, a title: a few words."""
Sentence = Annotated[str, Field(min_length=1, max_length=400)]
"""A key point, a risk, a question: one sentence."""
Paragraph = Annotated[str, Field(min_length=1, max_length=2_000)]
"""A summary, an assessment, an answer: a few sentences."""
Statement = Annotated[str, Field(min_length=1, max_length=4_000)]
"""A refined statement or drafted feedback: at most a long paragraph or two."""
Ref = Annotated[str, Field(max_length=255)]
"""An id, a model or file name a result copies from its request: bounded like what the model writes."""
MAX_LIST_ITEMS = 12
"""Items in any list a model writes (key points, risks, changes, themes …)."""
Labels = Annotated[list[Label], Field(max_length=MAX_LIST_ITEMS)]
Sentences = Annotated[list[Sentence], Field(max_length=MAX_LIST_ITEMS)]


class DocumentUpload(Model):
    """A file already staged in the object store under its organisation, waiting to be processed.

    `filename` is what the user called it (a plain name, no folders); `upload_key` identifies this
    upload: retrying it changes nothing, a new key with the same bytes is a duplicate upload.
    """

    organization_id: OrgId
    filename: str = Field(min_length=1, max_length=255)
    upload_key: str = Field(min_length=1)


class ProcessedDocument(Model):
    """What history keeps of a document: metadata, storage keys and bounded text."""

    document_id: str
    organization_id: OrgId
    filename: str
    content_hash: str = Field(description="sha256 of the original bytes; unique per organisation")
    media_type: str = Field(description="detected from the bytes, never from the file name")
    title: str | None
    page_count: int = Field(description="PDF pages; DOCX pages as saved; XLSX sheets; 1 for text")
    char_count: int
    original_key: str
    text_key: str = Field(description="the full extracted text (UTF-8) in the object store")
    text_excerpt: str = Field(description="the text's start, at most max_history_text_chars")
    text_truncated: bool
    duplicate: bool = Field(default=False, description="the same bytes were uploaded before; nothing new")
    ocr_pages: str = Field(
        default="",
        max_length=OCR_PAGES_CHARS,
        description="1-based pages whose text was read by OCR, as ranges ('1-3, 7'); empty when none",
    )
    ocr_confidence: Confidence | None = Field(default=None, description="mean OCR score of the lines read")


class ReadinessRequest(Model):
    organization_id: OrgId


class TrainingReadiness(Model):
    """Corpus statistics against the thresholds, with the reasons when not ready.

    Near-duplicates are documents whose text equals an earlier one's modulo case and whitespace (the
    same content as PDF and DOCX, say); they add no training signal, so they count once.
    """

    organization_id: OrgId
    ready: bool
    document_count: int = Field(description="stored documents (distinct bytes)")
    unique_documents: int = Field(description="documents left once near-duplicates count once")
    total_chars: int = Field(description="characters of the unique documents")
    approx_tokens: int = Field(description="total_chars / 4, the usual ratio for English BPE tokenizers")
    duplicate_count: int = Field(description="uploads of bytes already stored + near-duplicate documents")
    reasons: list[str] = Field(description="why not ready; empty when ready")


class DocumentText(Model):
    """A processed document as the LLM steps receive it: the full text stays in the store."""

    organization_id: OrgId
    document_id: str
    filename: str
    text_key: str
    model: str | None = None


class DocumentSummary(Model):
    document_id: Ref
    summary: Paragraph
    key_points: Sentences
    model: Ref
    chunks: int
    usage: TokenUsage


class DocumentAnalysis(Model):
    document_id: Ref
    topics: Labels
    risks: Sentences
    opportunities: Sentences
    sentiment: Literal["positive", "neutral", "negative", "mixed"]
    confidence: Confidence
    model: Ref
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
    # Extraction is bounded by MAX_EXTRACT_SECONDS (at most 8 minutes), the rest is storing; the heartbeat
    # (sent every few seconds while the activity waits on its extraction process) lets a retry start
    # within 30 s of a worker's crash instead of after the whole start-to-close.
    start_to_close=timedelta(minutes=10),
    heartbeat=timedelta(seconds=30),
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
