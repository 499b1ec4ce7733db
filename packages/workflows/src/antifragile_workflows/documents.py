"""DocumentProcessingWorkflow: a batch of any size, one child workflow per document, then readiness.

The batch's uploads are rows in PostgreSQL that the client registered; the workflow's input is only
their reference. It pages through them, keeps at most `window` DocumentWorkflow children running, and
continues as new every `documents_per_run` documents, carrying a cursor and counters. Each child
processes one document, summarises and analyses it, records the outcome on its manifest row and returns
a few bytes. Children keep every document's activity results (metadata, summary, analysis) out of the
parent; continue-as-new bounds what children still cost the parent (about 1.2 KB of history each), so
the parent's history is a function of `documents_per_run`, never of the batch. One bad document never
sinks the rest; the result is a bounded summary read from PostgreSQL.
"""

import asyncio
from typing import Literal

from pydantic import Field
from temporalio import workflow
from temporalio.exceptions import ActivityError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from antifragile_core.contracts.base import Model, OrgId
    from antifragile_core.contracts.batches import (
        MAX_PAGE,
        READ_DOCUMENT_BATCH,
        RECORD_DOCUMENT_OUTCOME,
        SUMMARIZE_DOCUMENT_BATCH,
        BatchId,
        BatchItem,
        BatchPageRequest,
        BatchRef,
        BatchSummary,
        DocumentOutcome,
        StepError,
    )
    from antifragile_core.contracts.documents import (
        ANALYZE_DOCUMENT_CONTENT,
        GENERATE_DOCUMENT_SUMMARY,
        PROCESS_DOCUMENT_UPLOAD,
        VALIDATE_TRAINING_READINESS,
        DocumentText,
        ReadinessRequest,
        TrainingReadiness,
    )

from .calls import call, run_steps, step_error

WINDOW = 50
"""Children running at once: enough to keep a few workers busy; Temporal allows 2,000 pending per parent."""
DOCUMENTS_PER_RUN = 500
"""Children per run before continue-as-new: 590-660 KB of history per run measured (workflows'
tests/test_document_volume.py, benchmarks/document_batches.py), far from Temporal's 50 MB limit, yet
large enough that the drain before each continue-as-new (the last window of children) costs little."""


class DocumentProgress(Model):
    total: int
    finished: int = Field(default=0, description="documents whose child workflow ended")
    processed: int = Field(description="documents extracted and stored")
    analysed: int = Field(description="documents summarised and analysed")
    failed: int
    stage: Literal["documents", "readiness", "done"]


class DocumentBatch(Model):
    """A batch registered in PostgreSQL (`antifragile_cli.batches.register_batch`); `llm_skipped_reason`
    set means no LLM steps run. `start` and `progress` are carried across continue-as-new."""

    organization_id: OrgId
    batch_id: BatchId
    llm_skipped_reason: str | None = None
    window: int = Field(default=WINDOW, ge=1, le=500)
    documents_per_run: int = Field(default=DOCUMENTS_PER_RUN, ge=1, le=2_000)
    start: int = Field(default=0, ge=0)
    progress: DocumentProgress | None = None


class DocumentBatchResult(Model):
    """Bounded whatever the batch's size; every document's outcome is in PostgreSQL (see `details`)."""

    summary: BatchSummary
    readiness: TrainingReadiness | None
    readiness_error: StepError | None = None
    llm_skipped_reason: str | None = None
    details: str = Field(description="the command that lists every outcome of the batch")


class BatchDocument(Model):
    organization_id: OrgId
    batch_id: BatchId
    item: BatchItem
    llm_skipped_reason: str | None


class DocumentResult(Model):
    """What a child tells its parent: enough for the counters, nothing that grows."""

    processed: bool
    analysed: bool
    failed: bool


@workflow.defn
class DocumentWorkflow:
    """One document of a batch: process -> summary + analysis -> outcome recorded in PostgreSQL."""

    @workflow.run
    async def run(self, doc: BatchDocument) -> DocumentResult:
        outcome = DocumentOutcome(
            organization_id=doc.organization_id, batch_id=doc.batch_id, seq=doc.item.seq, status="done"
        )
        try:
            document = await call(PROCESS_DOCUMENT_UPLOAD, doc.item.upload)
        except ActivityError as err:
            outcome.status = "failed"
            outcome.errors.append(step_error("process", err))
            await call(RECORD_DOCUMENT_OUTCOME, outcome)
            return DocumentResult(processed=False, analysed=False, failed=True)
        outcome.document_id, outcome.duplicate = document.document_id, document.duplicate
        if doc.llm_skipped_reason is None:
            text = DocumentText(
                organization_id=document.organization_id,
                document_id=document.document_id,
                filename=document.filename,
                text_key=document.text_key,
            )
            done, outcome.errors = await run_steps(
                summary=call(GENERATE_DOCUMENT_SUMMARY, text), analysis=call(ANALYZE_DOCUMENT_CONTENT, text)
            )
            outcome.summary, outcome.analysis = done.get("summary"), done.get("analysis")
            outcome.status = "failed" if outcome.errors else "done"
        await call(RECORD_DOCUMENT_OUTCOME, outcome)
        analysed = doc.llm_skipped_reason is None and not outcome.errors
        return DocumentResult(processed=True, analysed=analysed, failed=bool(outcome.errors))


@workflow.defn
class DocumentProcessingWorkflow:
    def __init__(self) -> None:
        self._progress = DocumentProgress(total=0, processed=0, analysed=0, failed=0, stage="documents")
        self._children: set[asyncio.Task[None]] = set()

    @workflow.query
    def progress(self) -> DocumentProgress:
        return self._progress

    @workflow.run
    async def run(self, batch: DocumentBatch) -> DocumentBatchResult:
        if batch.progress is not None:
            self._progress = batch.progress
        ref = BatchRef(organization_id=batch.organization_id, batch_id=batch.batch_id)
        cursor, more = await self._documents(batch, ref)
        if more:
            workflow.continue_as_new(batch.model_copy(update={"start": cursor, "progress": self._progress}))
        self._progress.stage = "readiness"
        readiness, readiness_error = None, None
        try:
            readiness = await call(
                VALIDATE_TRAINING_READINESS, ReadinessRequest(organization_id=batch.organization_id)
            )
        except ActivityError as err:
            readiness_error = step_error("readiness", err)
        summary = await call(SUMMARIZE_DOCUMENT_BATCH, ref)
        self._progress.stage = "done"
        return DocumentBatchResult(
            summary=summary,
            readiness=readiness,
            readiness_error=readiness_error,
            llm_skipped_reason=batch.llm_skipped_reason,
            details=f"antifragile documents list {batch.organization_id} --batch {batch.batch_id}",
        )

    async def _documents(self, batch: DocumentBatch, ref: BatchRef) -> tuple[int, bool]:
        """Run this run's share of children; returns the seq to continue from and whether any are left."""
        cursor, end, more = batch.start, batch.start + batch.documents_per_run, True
        while more and cursor < end:
            request = BatchPageRequest(**ref.model_dump(), start=cursor, limit=min(MAX_PAGE, end - cursor))
            page = await call(READ_DOCUMENT_BATCH, request)
            self._progress.total = page.total
            for item in page.items:
                await workflow.wait_condition(lambda: len(self._children) < batch.window)
                child = asyncio.create_task(self._child(batch, item))
                self._children.add(child)
                child.add_done_callback(self._children.discard)
            cursor = page.items[-1].seq + 1 if page.items else cursor
            more = len(page.items) == request.limit and cursor < page.total
        await workflow.wait_condition(lambda: not self._children)
        return cursor, more

    async def _child(self, batch: DocumentBatch, item: BatchItem) -> None:
        doc = BatchDocument(
            organization_id=batch.organization_id,
            batch_id=batch.batch_id,
            item=item,
            llm_skipped_reason=batch.llm_skipped_reason,
        )
        try:
            result = await workflow.execute_child_workflow(
                DocumentWorkflow.run,
                doc,
                id=f"{workflow.info().workflow_id}-{item.seq}",
                task_queue=workflow.info().task_queue,
            )
        except ChildWorkflowError:
            # Its outcome row stays pending and the summary counts it so; the child's own history says why.
            result = DocumentResult(processed=False, analysed=False, failed=True)
        self._progress.finished += 1
        self._progress.processed += result.processed
        self._progress.analysed += result.analysed
        self._progress.failed += result.failed
