"""Document batches as the API sees them: stage uploaded files, start a batch, follow it, and read the
organisation's documents from PostgreSQL.

This is the seam to the document pipeline: `start_batch` is the one place that starts a batch (its
manifest recorded in PostgreSQL by `record_manifest`, which the CLI uses too; DocumentProcessingWorkflow
receives only the batch's id) and `read_batch` the one place that reads one.
"""

import asyncio
import json
import uuid
from datetime import datetime
from typing import Literal

import asyncpg
from antifragile_core.contracts.base import Model
from antifragile_core.contracts.batches import StepError
from antifragile_core.contracts.documents import DocumentAnalysis, DocumentSummary, DocumentUpload
from antifragile_core.errors import NOT_FOUND
from antifragile_core.storage import org_key
from antifragile_workflows.documents import (
    DocumentBatch,
    DocumentBatchResult,
    DocumentProcessingWorkflow,
    DocumentProgress,
)
from pydantic import Field
from temporalio.client import WorkflowExecutionStatus

from .context import ApiContext
from .ids import new_id, workflow_id
from .problems import Problem
from .uploads import UploadedFile

MAX_BATCH = 100


class StagedUpload(Model):
    upload_id: str
    filename: str
    size_bytes: int


class BatchRequest(Model):
    upload_ids: list[str] = Field(min_length=1, max_length=MAX_BATCH)


class BatchStarted(Model):
    batch_id: str
    documents: int


class BatchOutcome(Model):
    seq: int
    filename: str
    status: Literal["pending", "done", "failed"]
    document_id: str | None
    errors: list[StepError]


class BatchView(Model):
    batch_id: str
    status: Literal["running", "completed", "failed"]
    progress: DocumentProgress | None
    result: DocumentBatchResult | None = None
    outcomes: list[BatchOutcome] = Field(default_factory=list, max_length=MAX_BATCH)
    error: str | None = None


class DocumentRow(Model):
    document_id: str
    filename: str
    media_type: str
    title: str | None
    page_count: int
    char_count: int
    size_bytes: int
    created_at: datetime


class DocumentPage(Model):
    items: list[DocumentRow]
    offset: int
    limit: int
    total: int


class DocumentDetail(Model):
    document: DocumentRow
    batch_id: str | None = None
    summary: DocumentSummary | None = None
    analysis: DocumentAnalysis | None = None
    errors: list[str] = Field(default_factory=list)


def _upload_key(organization_id: str, upload_id: str) -> str:
    return org_key(organization_id, "uploads", upload_id)


async def stage_upload(ctx: ApiContext, organization_id: str, file: UploadedFile) -> StagedUpload:
    """Write the file under `orgs/<org>/uploads/<id>` and remember it until a batch takes it."""
    upload_id = uuid.uuid4().hex
    await ctx.store.put(_upload_key(organization_id, upload_id), bytes(file.data))
    await ctx.pool.execute(
        "INSERT INTO api_uploads (upload_id, organization_id, filename, size_bytes) VALUES ($1, $2, $3, $4)",
        upload_id,
        organization_id,
        file.filename,
        len(file.data),
    )
    return StagedUpload(upload_id=upload_id, filename=file.filename, size_bytes=len(file.data))


async def record_manifest(
    conn: asyncpg.Connection, batch: DocumentBatch, uploads: list[DocumentUpload]
) -> None:
    """Register a batch's uploads (numbered from 0) for DocumentProcessingWorkflow to page through."""
    await conn.execute(
        "INSERT INTO document_batches (organization_id, batch_id, total, llm_skipped_reason)"
        " VALUES ($1, $2, $3, $4)",
        batch.organization_id,
        batch.batch_id,
        len(uploads),
        batch.llm_skipped_reason,
    )
    await conn.copy_records_to_table(
        "document_batch_items",
        records=[
            (batch.organization_id, batch.batch_id, seq, u.filename, u.upload_key)
            for seq, u in enumerate(uploads)
        ],
        columns=["organization_id", "batch_id", "seq", "filename", "upload_key"],
    )


async def start_batch(ctx: ApiContext, organization_id: str, upload_ids: list[str]) -> BatchStarted:
    """Hand staged uploads to a new document batch; each upload joins one batch only."""
    batch_id = new_id()
    async with ctx.pool.acquire() as conn, conn.transaction():
        # The batch's manifest becomes the uploads' record (retention reaches it), so their rows go here.
        rows = await conn.fetch(
            "DELETE FROM api_uploads WHERE organization_id = $1 AND upload_id = ANY($2::text[])"
            " RETURNING upload_id, filename",
            organization_id,
            list(set(upload_ids)),
        )
        if len(rows) != len(set(upload_ids)):
            raise Problem(
                404,
                "some uploads do not exist here or already belong to a batch; upload them again",
                NOT_FOUND,
            )
        uploads = [
            DocumentUpload(
                organization_id=organization_id,
                filename=r["filename"],
                upload_key=_upload_key(organization_id, r["upload_id"]),
            )
            for r in rows
        ]
        batch = DocumentBatch(
            organization_id=organization_id,
            batch_id=batch_id,
            llm_skipped_reason=ctx.settings.llm_skipped_reason,
        )
        await record_manifest(conn, batch, uploads)
        await ctx.client.start_workflow(
            DocumentProcessingWorkflow.run,
            batch,
            id=workflow_id("batch", organization_id, batch_id),
            task_queue=ctx.queue,
        )
    return BatchStarted(batch_id=batch_id, documents=len(uploads))


async def read_batch(ctx: ApiContext, organization_id: str, batch_id: str) -> BatchView:
    """Progress while the batch runs; the result once it has finished."""
    handle = ctx.client.get_workflow_handle_for(
        DocumentProcessingWorkflow.run, workflow_id("batch", organization_id, batch_id)
    )
    described = await handle.describe()
    progress = await handle.query(DocumentProcessingWorkflow.progress)
    if described.status == WorkflowExecutionStatus.RUNNING:
        return BatchView(batch_id=batch_id, status="running", progress=progress)
    if described.status != WorkflowExecutionStatus.COMPLETED:
        status = described.status.name.lower() if described.status else "unknown"
        return BatchView(batch_id=batch_id, status="failed", progress=progress, error=f"the batch {status}")
    result = await handle.result()
    rows = await ctx.pool.fetch(
        "SELECT seq, filename, status, document_id::text AS document_id, errors::text AS errors"
        " FROM document_batch_items WHERE organization_id = $1 AND batch_id = $2 ORDER BY seq LIMIT $3",
        organization_id,
        batch_id,
        MAX_BATCH,
    )
    outcomes = [
        BatchOutcome(**(dict(r) | {"errors": [StepError(**e) for e in json.loads(r["errors"])]}))
        for r in rows
    ]
    return BatchView(
        batch_id=batch_id, status="completed", progress=progress, result=result, outcomes=outcomes
    )


_DOCUMENT_COLUMNS = (
    "id::text AS document_id, filename, media_type, title, page_count, char_count, size_bytes, created_at"
)


async def list_documents(pool: asyncpg.Pool, organization_id: str, offset: int, limit: int) -> DocumentPage:
    rows, total = await asyncio.gather(
        pool.fetch(
            f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE organization_id = $1"
            " ORDER BY created_at DESC, id OFFSET $2 LIMIT $3",
            organization_id,
            offset,
            limit,
        ),
        pool.fetchval("SELECT count(*) FROM documents WHERE organization_id = $1", organization_id),
    )
    return DocumentPage(items=[DocumentRow(**dict(r)) for r in rows], offset=offset, limit=limit, total=total)


async def read_document(ctx: ApiContext, organization_id: str, document_id: str) -> DocumentDetail:
    """A document and, from the batch that first processed it here, its summary and analysis."""
    try:
        uuid.UUID(document_id)
    except ValueError:
        raise Problem(404, f"no document {document_id!r} in this organisation", NOT_FOUND) from None
    row = await ctx.pool.fetchrow(
        f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE organization_id = $1 AND id = $2::uuid",
        organization_id,
        document_id,
    )
    if row is None:
        raise Problem(404, f"no document {document_id!r} in this organisation", NOT_FOUND)
    detail = DocumentDetail(document=DocumentRow(**dict(row)))
    outcome = await ctx.pool.fetchrow(
        "SELECT batch_id, summary::text AS summary, analysis::text AS analysis, errors::text AS errors"
        " FROM document_batch_items WHERE organization_id = $1 AND document_id = $2::uuid"
        " ORDER BY finished_at NULLS LAST LIMIT 1",
        organization_id,
        document_id,
    )
    if outcome is None:
        return detail
    detail.batch_id = outcome["batch_id"]
    if outcome["summary"]:
        detail.summary = DocumentSummary.model_validate_json(outcome["summary"])
    if outcome["analysis"]:
        detail.analysis = DocumentAnalysis.model_validate_json(outcome["analysis"])
    detail.errors = [StepError(**e).reason for e in json.loads(outcome["errors"])]
    return detail
