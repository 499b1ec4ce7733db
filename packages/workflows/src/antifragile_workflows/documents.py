"""DocumentProcessingWorkflow: extract and store each document, summarise and analyse it, then
check whether the organisation's corpus is ready for training. One bad document never sinks the rest."""

import asyncio
from typing import Literal

from pydantic import Field
from temporalio import workflow
from temporalio.exceptions import ActivityError

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

from .calls import StepError, call, run_steps, step_error


class DocumentBatch(Model):
    """Documents staged in the object store; `llm_skipped_reason` set means no LLM steps run."""

    organization_id: OrgId
    uploads: list[DocumentUpload] = Field(min_length=1)
    llm_skipped_reason: str | None = None


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
        done, errors = await run_steps(
            summary=call(GENERATE_DOCUMENT_SUMMARY, text), analysis=call(ANALYZE_DOCUMENT_CONTENT, text)
        )
        outcome.errors += errors
        outcome.summary = done.get("summary")
        outcome.analysis = done.get("analysis")
        if outcome.errors:
            outcome.status = "failed"
            self._progress.failed += 1
        else:
            self._progress.analysed += 1
