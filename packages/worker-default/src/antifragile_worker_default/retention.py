"""cleanup_old_data: remove data older than its kind's retention, per organisation or for all of them.

Objects are classified by their key under `orgs/<org>/` and aged by modified time; findings are aged by
when they were first seen, document batches by when they were registered. A dry run selects exactly what
a real run would delete and only counts it. Every copy of a document's text goes with it: an expired text
object takes the document's row, its uploads, its search passages and its batch summaries along (rows
first, so a crash in between leaves the object to be found again). Trained adapters are never touched. A
deleted finding may be reported as new again if its source still lists it, so findings should be kept
longer than feeds keep their entries.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from antifragile_core.contracts.operations import (
    CLEANUP_OLD_DATA,
    CleanupCount,
    CleanupReport,
    CleanupRequest,
    DataKind,
)
from antifragile_core.storage import ObjectInfo, ObjectStore, org_key
from temporalio import activity

from .resources import Resources

HEARTBEAT_EVERY = 100
AGED_ROWS = {
    DataKind.FINDINGS: ("competitor_findings", "first_seen"),
    DataKind.BATCHES: ("document_batches", "created_at"),
}
"""Kinds kept as rows, not objects: their table and the column that ages them."""


def kind_of(key: str) -> DataKind | None:
    """The kind of an organisation's object, from the layout the document and training steps write."""
    parts = key.split("/")[2:]  # past "orgs/<org>"
    if not parts:
        return None
    if parts[0] == "uploads":
        return DataKind.ORIGINALS
    if parts[0] == "documents" and len(parts) == 3:
        if parts[2].startswith("original"):
            return DataKind.ORIGINALS
        if parts[2].startswith("text"):
            return DataKind.EXTRACTED_TEXT
    if parts[0] == "reports":
        return DataKind.REPORTS
    if "checkpoints" in parts:
        return DataKind.CHECKPOINTS
    if parts[0] in ("datasets", "training") or (parts[0] == "models" and parts[-1] == "heldout.jsonl"):
        return DataKind.TRAINING_DATA
    return None


async def expired_objects(
    store: ObjectStore, organization_id: str | None, cutoffs: dict[DataKind, datetime]
) -> dict[DataKind, list[ObjectInfo]]:
    prefix = org_key(organization_id) + "/" if organization_id else "orgs/"
    expired: dict[DataKind, list[ObjectInfo]] = {kind: [] for kind in cutoffs if kind not in AGED_ROWS}
    for info in await store.list_objects(prefix):
        kind = kind_of(info.key)
        if kind in expired and info.modified < cutoffs[kind]:
            expired[kind].append(info)
    return expired


async def expired_rows(
    pool: asyncpg.Pool, kind: DataKind, organization_id: str | None, cutoff: datetime, dry_run: bool
) -> CleanupCount:
    """Count (dry run) or delete rows of `kind` older than `cutoff`; bytes are the rows' size as text (the
    same whether read or returned by DELETE); a batch's outcome rows go with it by cascade, uncounted."""
    table, aged_by = AGED_ROWS[kind]
    selection = f"FROM {table} f WHERE f.{aged_by} < $1 AND ($2::text IS NULL OR organization_id = $2)"
    if dry_run:
        sql = f"SELECT count(*) AS n, coalesce(sum(octet_length(f::text)), 0) AS size {selection}"
    else:
        sql = (
            f"WITH gone AS (DELETE {selection} RETURNING octet_length(f::text) AS size)"
            " SELECT count(*) AS n, coalesce(sum(size), 0) AS size FROM gone"
        )
    row = await pool.fetchrow(sql, cutoff, organization_id)
    return CleanupCount(kind=kind, items=row["n"], bytes=int(row["size"]))


_DOCUMENTS_OF_TEXTS = """
WITH doomed AS (
    SELECT d.id FROM documents d
    JOIN unnest($1::text[], $2::text[]) AS k(org, hash)
      ON d.organization_id = k.org AND d.content_hash = k.hash
)
SELECT array_agg(id) AS ids,
       count(*) + (SELECT count(*) FROM document_uploads WHERE document_id IN (SELECT id FROM doomed))
                + (SELECT count(*) FROM document_passages WHERE document_id IN (SELECT id FROM doomed)) AS n
FROM doomed
"""


async def document_rows(pool: asyncpg.Pool, texts: list[ObjectInfo], dry_run: bool) -> int:
    """Count (dry run) or delete the rows of the documents whose text objects are `texts`: the
    documents, their uploads and passages (by cascade), and clear the summaries and analyses that batch
    outcomes keep of them (the outcome rows stay, as batches age). Returns the number of rows removed."""
    keys = [info.key.split("/") for info in texts]  # orgs/<org>/documents/<hash>/text
    async with pool.acquire() as conn, conn.transaction():
        found = await conn.fetchrow(_DOCUMENTS_OF_TEXTS, [k[1] for k in keys], [k[3] for k in keys])
        if not dry_run and found["ids"]:
            await conn.execute(
                "UPDATE document_batch_items SET summary = NULL, analysis = NULL WHERE document_id = ANY($1)",
                found["ids"],
            )
            await conn.execute("DELETE FROM documents WHERE id = ANY($1::uuid[])", found["ids"])
    return found["n"]


async def staged_upload_rows(pool: asyncpg.Pool, originals: list[ObjectInfo], dry_run: bool) -> int:
    """Count (dry run) or delete the API's rows of staged uploads whose objects expire (`api_uploads`, in
    the same database when the API runs; rows of uploads a batch took are gone already)."""
    keys = [info.key.split("/") for info in originals if info.key.split("/")[2] == "uploads"]
    async with pool.acquire() as conn, conn.transaction():
        if not keys or await conn.fetchval("SELECT to_regclass('api_uploads')") is None:
            return 0
        match = "unnest($1::text[], $2::text[]) AS k(org, id)"
        on = "u.organization_id = k.org AND u.upload_id = k.id"
        sql = (
            f"SELECT count(*) FROM api_uploads u JOIN {match} ON {on}"
            if dry_run
            else f"WITH gone AS (DELETE FROM api_uploads u USING {match} WHERE {on} RETURNING 1)"
            " SELECT count(*) FROM gone"
        )
        return await conn.fetchval(
            sql,
            [k[1] for k in keys],
            [k[3] for k in keys],
        )


def activities(res: Resources) -> list[Callable[..., Any]]:
    @CLEANUP_OLD_DATA.implement
    async def cleanup_old_data(req: CleanupRequest) -> CleanupReport:
        now = datetime.now(UTC)
        cutoffs = {kind: now - timedelta(days=days) for kind, days in req.retention_days.items()}
        counts = []
        expired = await expired_objects(res.store, req.organization_id, cutoffs)
        deleted = 0
        for kind, infos in expired.items():
            rows = 0
            if kind == DataKind.EXTRACTED_TEXT:
                rows = await document_rows(res.pool, infos, req.dry_run)
            elif kind == DataKind.ORIGINALS:
                rows = await staged_upload_rows(res.pool, infos, req.dry_run)
            if not req.dry_run:
                for info in infos:
                    await res.store.delete(info.key)
                    deleted += 1
                    if deleted % HEARTBEAT_EVERY == 0:
                        activity.heartbeat(deleted)
            size = sum(i.size for i in infos)
            counts.append(CleanupCount(kind=kind, items=len(infos), bytes=size, rows=rows))
        for kind in AGED_ROWS:
            if kind in cutoffs:
                counts.append(
                    await expired_rows(res.pool, kind, req.organization_id, cutoffs[kind], req.dry_run)
                )
        activity.logger.info(
            "cleanup done",
            extra={"dry_run": req.dry_run, "items": sum(c.items for c in counts), "org": req.organization_id},
        )
        return CleanupReport(dry_run=req.dry_run, counts=counts)

    return [cleanup_old_data]
