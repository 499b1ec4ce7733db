"""`generate_document_summary` and `analyze_document_content`: structured reads of a processed document.

The full text comes from the object store (history only carries its key); every field of the result
is the model's own answer, validated against a pydantic schema.
"""

import logging
from collections.abc import Callable
from typing import Any, Literal

from antifragile_core.contracts.base import Model
from antifragile_core.contracts.documents import (
    ANALYZE_DOCUMENT_CONTENT,
    GENERATE_DOCUMENT_SUMMARY,
    Confidence,
    DocumentAnalysis,
    DocumentSummary,
    DocumentText,
    Labels,
    Paragraph,
    Sentences,
)
from antifragile_core.errors import EMPTY_DOCUMENT, NOT_FOUND, bad_input
from antifragile_core.storage import ObjectNotFound, ObjectStore, checked_org_key
from pydantic import Field, ValidationError
from temporalio import activity

from .budget import model_used
from .chunking import Checkpoint, Reading, ReadResult, read_long_text
from .resources import Resources
from .untrusted import with_data_rule

log = logging.getLogger(__name__)


class SummaryAnswer(Model):
    summary: Paragraph = Field(description="A faithful summary of the text in 3 to 6 sentences.")
    key_points: Sentences = Field(description="The text's most important points, one short sentence each.")


class AnalysisAnswer(Model):
    topics: Labels = Field(description="The main topics, a few words each.")
    risks: Sentences = Field(description="Risks to the organisation the text states or clearly implies.")
    opportunities: Sentences = Field(description="Opportunities the text states or clearly implies.")
    sentiment: Literal["positive", "neutral", "negative", "mixed"]
    confidence: Confidence = Field(
        description="How sure you are that this analysis reflects the text, from 0 to 1: "
        "lower when the text is short, vague or off-topic."
    )


_FAITHFUL = with_data_rule(
    "Use only what the text says; never invent facts, names or numbers. Answer in the text's language."
)

SUMMARY = Reading(
    name="document summary",
    output_type=SummaryAnswer,
    read_instructions="You summarise business documents for an organisation's strategy team. " + _FAITHFUL,
    merge_instructions="You are given summaries of consecutive parts of one document, as JSON. Merge them "
    "into one summary of the whole document and one list of its key points, without repetition. " + _FAITHFUL,
)
ANALYSIS = Reading(
    name="document analysis",
    output_type=AnalysisAnswer,
    read_instructions="You analyse business documents for an organisation's strategy team: name the "
    "topics, the risks and opportunities for the organisation, the overall sentiment, and your "
    "confidence in this analysis. " + _FAITHFUL,
    merge_instructions="You are given analyses of consecutive parts of one document, as JSON. Merge them "
    "into one analysis of the whole document: combine and deduplicate topics, risks and opportunities, "
    "give the overall sentiment ('mixed' when the parts disagree) and your confidence for the whole. "
    + _FAITHFUL,
)


def activities(res: Resources) -> list[Callable[..., Any]]:
    @GENERATE_DOCUMENT_SUMMARY.implement
    async def generate_document_summary(doc: DocumentText) -> DocumentSummary:
        model = doc.model or res.settings.model_for("summary")
        read = await _read(res, doc, SUMMARY, model)
        return DocumentSummary(
            document_id=doc.document_id,
            summary=read.output.summary,
            key_points=read.output.key_points,
            model=model_used(model),
            chunks=read.parts,
            usage=read.usage,
        )

    @ANALYZE_DOCUMENT_CONTENT.implement
    async def analyze_document_content(doc: DocumentText) -> DocumentAnalysis:
        model = doc.model or res.settings.model_for("analysis")
        read = await _read(res, doc, ANALYSIS, model)
        return DocumentAnalysis(
            document_id=doc.document_id,
            **read.output.model_dump(),
            model=model_used(model),
            chunks=read.parts,
            usage=read.usage,
        )

    return [generate_document_summary, analyze_document_content]


async def _read(res: Resources, doc: DocumentText, reading: Reading[Any], model: str) -> ReadResult[Any]:
    res.llm.require_configured()
    text = await _load_text(res.store, doc)
    info = activity.info()
    log.info(
        "reading document",
        extra={"activity": info.activity_type, "document_id": doc.document_id, "chars": len(text)},
    )
    result = await read_long_text(
        res.llm,
        reading,
        text,
        title=doc.filename,
        model=model,
        resume=_checkpoint(info.heartbeat_details),
        heartbeat=activity.heartbeat,
    )
    log.info(
        "document read",
        extra={"activity": info.activity_type, "document_id": doc.document_id, "parts": result.parts}
        | result.usage.model_dump(),
    )
    return result


async def _load_text(store: ObjectStore, doc: DocumentText) -> str:
    """The document's extracted text, only from under its own organisation's keys."""
    key = checked_org_key(doc.organization_id, doc.text_key, "text_key")
    try:
        data = await store.get(key)
    except ObjectNotFound:
        raise bad_input(NOT_FOUND, f"no extracted text at {key!r}; process the upload first") from None
    text = data.decode("utf-8", errors="replace")
    if not text.strip():
        raise bad_input(EMPTY_DOCUMENT, f"document {doc.document_id!r} has no text to read")
    return text


def _checkpoint(details: Any) -> Checkpoint | None:
    if not details:
        return None
    try:
        return Checkpoint.model_validate(details[-1])
    except ValidationError:
        return None
