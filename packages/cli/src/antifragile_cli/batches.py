"""Client side of document batches: stage files in the object store, register the batch's manifest in
PostgreSQL, run DocumentProcessingWorkflow while showing its progress, and read outcomes back a page at a
time. `antifragile documents`, the demo and the tests all go through here."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from antifragile_api.batches import record_manifest
from antifragile_core.contracts.documents import DocumentUpload
from antifragile_core.errors import INVALID_INPUT, NOT_READY, bad_input
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store, org_key
from antifragile_workflows.documents import (
    DocumentBatch,
    DocumentBatchResult,
    DocumentProcessingWorkflow,
    DocumentProgress,
)
from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError

STAGE_CONCURRENCY = 16
POLL_SECONDS = 0.5

File = tuple[str, Path | bytes]
"""A file to upload: the name the user knows it by, and its path or bytes."""


def collect_files(paths: Sequence[Path]) -> list[File]:
    """The given files, and every file under the given folders (recursively, hidden ones left out)."""
    found: list[File] = []
    for path in paths:
        if path.is_dir():
            found += [
                (p.name, p)
                for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            ]
        elif path.is_file():
            found.append((path.name, path))
        else:
            raise bad_input(INVALID_INPUT, f"{path} is neither a file nor a folder; check the path")
    return found


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """The operator's own PostgreSQL connection (DATABASE_URL or POSTGRES_*)."""
    conn = await asyncpg.connect(settings.postgres_dsn)
    try:
        yield conn
    except asyncpg.UndefinedTableError:
        raise bad_input(
            NOT_READY,
            "the database has no document batch tables yet; start worker-default once against it "
            "(it migrates the schema), e.g. `antifragile dev`",
        ) from None
    finally:
        await conn.close()


async def register_batch(
    settings: Settings, org: str, files: Sequence[File], *, llm_skipped_reason: str | None
) -> DocumentBatch:
    """Stage `files` under the organisation's uploads and record the manifest; returns the workflow input."""
    if not files:
        raise bad_input(INVALID_INPUT, "no files to upload; give files or folders that hold some")
    batch = DocumentBatch(
        organization_id=org, batch_id=f"b{uuid.uuid4().hex[:16]}", llm_skipped_reason=llm_skipped_reason
    )
    # Every upload is validated (its name, say) before anything is stored: one bad row would fail the page.
    uploads = [
        DocumentUpload(
            organization_id=org, filename=name, upload_key=org_key(org, "uploads", batch.batch_id, str(seq))
        )
        for seq, (name, _) in enumerate(files)
    ]
    slots = asyncio.Semaphore(STAGE_CONCURRENCY)
    async with open_store(settings) as store:

        async def stage(upload: DocumentUpload, source: Path | bytes) -> None:
            async with slots:
                data = source if isinstance(source, bytes) else await asyncio.to_thread(source.read_bytes)
                await store.put(upload.upload_key, data)

        await asyncio.gather(
            *(stage(upload, source) for upload, (_, source) in zip(uploads, files, strict=True))
        )
    async with database(settings) as conn, conn.transaction():
        await record_manifest(conn, batch, uploads)
    return batch


async def start_batch(
    client: Client, settings: Settings, batch: DocumentBatch
) -> WorkflowHandle[Any, DocumentBatchResult]:
    return await client.start_workflow(
        DocumentProcessingWorkflow.run,
        batch,
        id=f"documents-{batch.organization_id}-{batch.batch_id}",
        task_queue=settings.task_queue_prefix + DEFAULT_QUEUE,
    )


async def follow(
    handle: WorkflowHandle[Any, DocumentBatchResult], show: Callable[[DocumentProgress], None] | None = None
) -> DocumentBatchResult:
    """The batch's result; `show` sees its progress (a query, bounded) every POLL_SECONDS meanwhile."""
    result = asyncio.ensure_future(handle.result())
    while show is not None and not result.done():
        await asyncio.wait([result], timeout=POLL_SECONDS)
        if not result.done():
            try:
                show(await handle.query(DocumentProcessingWorkflow.progress))
            except (RPCError, WorkflowQueryFailedError):
                continue  # between two runs of a continue-as-new; the next poll answers
    return await result
