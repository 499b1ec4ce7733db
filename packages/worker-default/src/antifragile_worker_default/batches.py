"""Document batches on default-queue: pages of the manifest, one outcome per upload, the bounded summary.

An outcome is written on its own manifest row (organisation, batch, seq), so a retried record rewrites
the same values; `first_time` tells whether the row was still pending.
"""

import json
from collections.abc import Callable
from typing import Any

import asyncpg
from antifragile_core.contracts.batches import (
    MAX_ERROR_TYPES,
    MAX_FAILURES_SHOWN,
    READ_DOCUMENT_BATCH,
    RECORD_DOCUMENT_OUTCOME,
    SUMMARIZE_DOCUMENT_BATCH,
    BatchItem,
    BatchPage,
    BatchPageRequest,
    BatchRef,
    BatchSummary,
    DocumentOutcome,
    FailedDocument,
    OutcomeRecorded,
    StepError,
)
from antifragile_core.contracts.documents import DocumentUpload
from antifragile_core.errors import NOT_FOUND, bad_input

from .resources import Resources

_COUNTS = """
SELECT b.total,
       count(*) FILTER (WHERE i.status = 'done') AS done,
       count(*) FILTER (WHERE i.status = 'failed') AS failed,
       count(*) FILTER (WHERE i.duplicate) AS duplicates
FROM document_batches b LEFT JOIN document_batch_items i USING (organization_id, batch_id)
WHERE b.organization_id = $1 AND b.batch_id = $2
GROUP BY b.total
"""
_FAILURE_TYPES = """
SELECT coalesce(e->>'type', 'unknown') AS type, count(DISTINCT i.seq) AS n
FROM document_batch_items i, jsonb_array_elements(i.errors) e
WHERE i.organization_id = $1 AND i.batch_id = $2 AND i.status = 'failed'
GROUP BY 1 ORDER BY n DESC, type LIMIT $3
"""
_FIRST_FAILURES = """
SELECT seq, filename, errors::text AS errors FROM document_batch_items
WHERE organization_id = $1 AND batch_id = $2 AND status = 'failed' ORDER BY seq LIMIT $3
"""


def activities(res: Resources) -> list[Callable[..., Any]]:
    @READ_DOCUMENT_BATCH.implement
    async def read_document_batch(req: BatchPageRequest) -> BatchPage:
        return await read_page(res.pool, req)

    @RECORD_DOCUMENT_OUTCOME.implement
    async def record_document_outcome(outcome: DocumentOutcome) -> OutcomeRecorded:
        return await record_outcome(res.pool, outcome)

    @SUMMARIZE_DOCUMENT_BATCH.implement
    async def summarize_document_batch(ref: BatchRef) -> BatchSummary:
        return await summarize(res.pool, ref)

    return [read_document_batch, record_document_outcome, summarize_document_batch]


def _unknown_batch(org: str, batch_id: str) -> Exception:
    return bad_input(
        NOT_FOUND,
        f"no document batch {batch_id!r} for {org!r}; register its uploads first "
        "(antifragile documents add, or antifragile_cli.batches.register_batch)",
    )


async def read_page(pool: asyncpg.Pool, req: BatchPageRequest) -> BatchPage:
    org = req.organization_id
    total = await pool.fetchval(
        "SELECT total FROM document_batches WHERE organization_id = $1 AND batch_id = $2", org, req.batch_id
    )
    if total is None:
        raise _unknown_batch(org, req.batch_id)
    rows = await pool.fetch(
        "SELECT seq, filename, upload_key FROM document_batch_items"
        " WHERE organization_id = $1 AND batch_id = $2 AND seq >= $3 ORDER BY seq LIMIT $4",
        org,
        req.batch_id,
        req.start,
        req.limit,
    )
    items = [
        BatchItem(
            seq=r["seq"],
            upload=DocumentUpload(organization_id=org, filename=r["filename"], upload_key=r["upload_key"]),
        )
        for r in rows
    ]
    return BatchPage(total=total, items=items)


async def record_outcome(pool: asyncpg.Pool, outcome: DocumentOutcome) -> OutcomeRecorded:
    def dumped(model: Any) -> str | None:
        return None if model is None else model.model_dump_json()

    before = await pool.fetchval(
        """
        UPDATE document_batch_items i SET status = $4, document_id = $5::uuid, duplicate = $6,
               errors = $7::jsonb, summary = $8::jsonb, analysis = $9::jsonb, finished_at = now()
        FROM (SELECT status FROM document_batch_items
              WHERE organization_id = $1 AND batch_id = $2 AND seq = $3) old
        WHERE i.organization_id = $1 AND i.batch_id = $2 AND i.seq = $3
        RETURNING old.status
        """,
        outcome.organization_id,
        outcome.batch_id,
        outcome.seq,
        outcome.status,
        outcome.document_id,
        outcome.duplicate,
        json.dumps([e.model_dump() for e in outcome.errors]),
        dumped(outcome.summary),
        dumped(outcome.analysis),
    )
    if before is None:
        raise bad_input(
            NOT_FOUND,
            f"upload {outcome.seq} of batch {outcome.batch_id!r} is not registered for "
            f"{outcome.organization_id!r}; register the batch before running it",
        )
    return OutcomeRecorded(seq=outcome.seq, first_time=before == "pending")


async def summarize(pool: asyncpg.Pool, ref: BatchRef) -> BatchSummary:
    org, batch_id = ref.organization_id, ref.batch_id
    counts = await pool.fetchrow(_COUNTS, org, batch_id)
    if counts is None:
        raise _unknown_batch(org, batch_id)
    types = await pool.fetch(_FAILURE_TYPES, org, batch_id, MAX_ERROR_TYPES)
    first = await pool.fetch(_FIRST_FAILURES, org, batch_id, MAX_FAILURES_SHOWN)
    return BatchSummary(
        organization_id=org,
        batch_id=batch_id,
        total=counts["total"],
        done=counts["done"],
        failed=counts["failed"],
        pending=counts["total"] - counts["done"] - counts["failed"],
        duplicates=counts["duplicates"],
        failures_by_type={r["type"]: r["n"] for r in types},
        first_failures=[
            FailedDocument(
                seq=r["seq"],
                filename=r["filename"],
                errors=[StepError(**e) for e in json.loads(r["errors"])],
            )
            for r in first
        ],
    )
