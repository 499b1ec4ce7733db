"""DocumentProcessingWorkflow: extract and store each document, summarise and analyse it, then
check whether the organisation's corpus is ready for training. One bad document never sinks the rest."""

import asyncio
from typing import Literal

from pydantic import Field
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from antifragile_core.contracts.base import Model, OrgId
    from antifragile_core.contracts.documents import (
        ANALYZE_DOCUMENT_CONTENT,
        GENERATE_DOCUMENT_SUMMARY,
        PROCESS_DOCUMENT_UPLOAD,
        VALIDATE_TRAINING_READINESS,
        DocumentAnalysis,
        DocumentSummary,
        DocumentText,
        DocumentUpload,
        ProcessedDocument,
        ReadinessRequest,
        TrainingReadiness,
    )

from .calls import call


class DocumentBatch(Model):
    """Documents staged in the object store; `llm_skipped_reason` set means no LLM steps run."""

    organization_id: OrgId
    uploads: list[DocumentUpload] = Field(min_length=1)
    llm_skipped_reason: str | None = None


class StepError(Model):
    step: str
    type: str | None
    message: str


class DocumentOutcome(Model):
    filename: str
    status: Literal["done", "failed"]
    document: ProcessedDocument | None = None
    summary: DocumentSummary | None = None
    analysis: DocumentAnalysis | None = None
    errors: list[StepError] = Field(default_factory=list)


class DocumentBatchResult(Model):
    organization_id: OrgId
    outcomes: list[DocumentOutcome]
    readiness: TrainingReadiness | None
    readiness_error: StepError | None = None
    llm_skipped_reason: str | None = None


class DocumentProgress(Model):
    total: int
    processed: int
    analysed: int
    failed: int
    stage: Literal["documents", "readiness", "done"]


def step_error(step: str, err: ActivityError) -> StepError:
    """A failed step as a result reports it: the error type and message, without the stack trace."""
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return StepError(step=step, type=cause.type, message=cause.message)
    return StepError(step=step, type=type(cause).__name__ if cause else None, message=str(cause or err))


@workflow.defn
class DocumentProcessingWorkflow:
    def __init__(self) -> None:
        self._progress = DocumentProgress(total=0, processed=0, analysed=0, failed=0, stage="documents")

    @workflow.query
    def progress(self) -> DocumentProgress:
        return self._progress

    @workflow.run
    async def run(self, batch: DocumentBatch) -> DocumentBatchResult:
        self._progress.total = len(batch.uploads)
        outcomes = await asyncio.gather(*(self._one(upload, batch) for upload in batch.uploads))
        self._progress.stage = "readiness"
        readiness, readiness_error = None, None
        try:
            readiness = await call(
                VALIDATE_TRAINING_READINESS, ReadinessRequest(organization_id=batch.organization_id)
            )
        except ActivityError as err:
            readiness_error = step_error("readiness", err)
        self._progress.stage = "done"
        return DocumentBatchResult(
            organization_id=batch.organization_id,
            outcomes=list(outcomes),
            readiness=readiness,
            readiness_error=readiness_error,
            llm_skipped_reason=batch.llm_skipped_reason,
        )

    async def _one(self, upload: DocumentUpload, batch: DocumentBatch) -> DocumentOutcome:
        outcome = DocumentOutcome(filename=upload.filename, status="done")
        try:
            outcome.document = await call(PROCESS_DOCUMENT_UPLOAD, upload)
        except ActivityError as err:
            outcome.status = "failed"
            outcome.errors.append(step_error("process", err))
            self._progress.failed += 1
            return outcome
        self._progress.processed += 1
        if batch.llm_skipped_reason is None:
            await self._llm_steps(outcome, outcome.document)
        return outcome

    async def _llm_steps(self, outcome: DocumentOutcome, document: ProcessedDocument) -> None:
        text = DocumentText(
            organization_id=document.organization_id,
            document_id=document.document_id,
            filename=document.filename,
            text_key=document.text_key,
        )
        summary, analysis = await asyncio.gather(
            call(GENERATE_DOCUMENT_SUMMARY, text),
            call(ANALYZE_DOCUMENT_CONTENT, text),
            return_exceptions=True,
        )
        for step, result in (("summary", summary), ("analysis", analysis)):
            if isinstance(result, ActivityError):
                outcome.errors.append(step_error(step, result))
            elif isinstance(result, BaseException):
                raise result
        outcome.summary = summary if isinstance(summary, DocumentSummary) else None
        outcome.analysis = analysis if isinstance(analysis, DocumentAnalysis) else None
        if outcome.errors:
            outcome.status = "failed"
            self._progress.failed += 1
        else:
            self._progress.analysed += 1
