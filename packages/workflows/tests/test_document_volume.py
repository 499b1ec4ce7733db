"""A batch grows from 10 to 1,000 documents on the dev server with the real default-queue activities: the
parent's history per run and its largest event stay under fixed bounds, across continue-as-new, and every
document has exactly one outcome row."""

from collections.abc import Callable

import asyncpg
import pytest
from antifragile_cli.batches import follow, register_batch, start_batch
from antifragile_core.settings import Settings
from antifragile_testing.default_worker import default_worker
from antifragile_testing.history import run_sizes
from antifragile_workflows.documents import DOCUMENTS_PER_RUN, DocumentProgress
from temporalio.client import Client

MAX_RUN_HISTORY_BYTES = 1_000_000
"""A run holds at most DOCUMENTS_PER_RUN children: measured 590 KB at 500 (2026-11), whatever the batch."""
MAX_EVENT_BYTES = 64_000
"""The largest event is a page of the manifest (200 uploads, 30 KB measured); none carries document text."""


@pytest.mark.parametrize("documents", [10, 1_000])
async def test_history_stays_bounded_as_the_batch_grows(
    documents: int,
    make_settings: Callable[..., Settings],
    temporal_client: Client,
    db_pool: asyncpg.Pool,
    org_id: str,
) -> None:
    settings = make_settings(max_concurrent_activities=50)
    files = [
        (f"note-{i}.txt", f"Note {i}: small steps, many experiments, cheap to lose.".encode())
        for i in range(documents)
    ]
    seen: list[DocumentProgress] = []
    async with default_worker(settings, temporal_client):
        batch = await register_batch(settings, org_id, files, llm_skipped_reason="not under test")
        handle = await start_batch(temporal_client, settings, batch)
        result = await follow(handle, seen.append)

    assert (result.summary.total, result.summary.done, result.summary.failed) == (documents, documents, 0)
    assert result.summary.duplicates == 0 and result.summary.pending == 0
    sizes = await run_sizes(temporal_client, handle.id, handle.first_execution_run_id or "")
    print(f"{documents} documents: runs (history bytes, largest event bytes) {sizes}")
    assert len(sizes) == -(-documents // DOCUMENTS_PER_RUN)
    assert all(history < MAX_RUN_HISTORY_BYTES and event < MAX_EVENT_BYTES for history, event in sizes), sizes
    finished = [p.finished for p in seen]
    assert finished == sorted(finished) and all(p.total in (0, documents) for p in seen)
    rows = await db_pool.fetchval(
        "SELECT count(*) FROM document_batch_items WHERE organization_id = $1 AND status = 'done'", org_id
    )
    assert rows == documents
