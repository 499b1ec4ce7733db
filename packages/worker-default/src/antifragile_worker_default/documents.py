"""process_document_upload: a staged upload becomes an extracted, stored, deduplicated document.

Write order makes a retry after a crash converge: nothing is written until extraction succeeded;
then the original and the text go to keys derived from the content hash (rewriting them is harmless),
then the row, inserted with ON CONFLICT DO NOTHING on (organisation, content hash), then the upload's
row; last the staged copy is deleted, so each original is stored once. A retry that finds the staged
copy gone answers from the upload's row. Extraction runs in a child process (`extraction_pool`) within
the upload limits; the activity heartbeats meanwhile.
"""

import asyncio
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from antifragile_core.contracts.documents import (
    OCR_PAGES_CHARS,
    PROCESS_DOCUMENT_UPLOAD,
    DocumentUpload,
    ProcessedDocument,
)
from antifragile_core.errors import INVALID_INPUT, NOT_FOUND, bad_input
from antifragile_core.storage import ObjectNotFound, checked_org_key, org_key
from temporalio import activity

from .extract import Extracted, check_size, text_hash
from .extraction_pool import shared_pool
from .resources import Resources

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
"""Well inside the contract's 30-s heartbeat timeout; the SDK batches them anyway."""

_UNSAFE_FILENAME = re.compile(r'[/\\<>:"|?*\x00-\x1f\x7f]')


def activities(res: Resources) -> list[Callable[..., Any]]:
    @PROCESS_DOCUMENT_UPLOAD.implement
    async def process_document_upload(upload: DocumentUpload) -> ProcessedDocument:
        async with _heartbeating():
            return await process_upload(res, upload)

    return [process_document_upload]


@asynccontextmanager
async def _heartbeating() -> AsyncIterator[None]:
    """Heartbeat every HEARTBEAT_SECONDS while the block runs (downloads, extraction, writes)."""

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(HEARTBEAT_SECONDS)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


def check_filename(filename: str) -> None:
    """Refuse anything but a plain file name: no folders, no '..', no control or reserved characters."""
    if filename in {".", ".."} or filename != filename.strip() or _UNSAFE_FILENAME.search(filename):
        raise bad_input(
            INVALID_INPUT,
            f"file name {filename!r} is not a plain file name; use one without folders ('/', '\\'), '..', "
            'spaces at either end, control characters or any of <>:"|?*',
        )


async def process_upload(res: Resources, upload: DocumentUpload) -> ProcessedDocument:
    """Extract, store and record one upload; the same bytes again return the existing document."""
    org = upload.organization_id
    check_filename(upload.filename)
    staged = checked_org_key(org, upload.upload_key, "upload key")
    data = await _staged_bytes(res, staged)
    if data is None:
        return await _processed_before(res, upload, staged)
    content_hash = await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())

    row = await _find(res.pool, org, content_hash)
    text = await _stored_text(res, row["text_key"]) if row is not None else None
    if row is None or text is None:
        extracted = await shared_pool(res.settings).extract(data)
        text = extracted.text
        fingerprint = await asyncio.to_thread(text_hash, text)
        original_key = org_key(org, "documents", content_hash, "original")
        text_key = org_key(org, "documents", content_hash, "text")
        await res.store.put(original_key, data)
        await res.store.put(text_key, text.encode())
        row = await _insert(
            res.pool, upload, content_hash, fingerprint, len(data), extracted, original_key, text_key
        )
    await _record_upload(res.pool, upload, row["id"])
    await res.store.delete(staged)
    log.info(
        "document processed",
        extra={"organization_id": org, "document_id": str(row["id"]), "staged_key": staged},
    )
    return _processed(res, upload, row, text)


async def _processed_before(res: Resources, upload: DocumentUpload, staged: str) -> ProcessedDocument:
    """The result of an attempt that finished but was not reported (the staged copy is already gone)."""
    row = await res.pool.fetchrow(
        "SELECT d.* FROM document_uploads u JOIN documents d ON d.id = u.document_id"
        " WHERE u.organization_id = $1 AND u.upload_key = $2",
        upload.organization_id,
        upload.upload_key,
    )
    text = await _stored_text(res, row["text_key"]) if row is not None else None
    if row is None or text is None:
        raise bad_input(NOT_FOUND, f"no staged upload at {staged!r}; upload the file again")
    return _processed(res, upload, row, text)


def _processed(res: Resources, upload: DocumentUpload, row: asyncpg.Record, text: str) -> ProcessedDocument:
    limit = res.settings.max_history_text_chars
    return ProcessedDocument(
        document_id=str(row["id"]),
        organization_id=upload.organization_id,
        filename=upload.filename,
        content_hash=row["content_hash"],
        media_type=row["media_type"],
        title=row["title"],
        page_count=row["page_count"],
        char_count=row["char_count"],
        original_key=row["original_key"],
        text_key=row["text_key"],
        text_excerpt=text[:limit],
        text_truncated=len(text) > limit,
        duplicate=row["upload_key"] != upload.upload_key,
        ocr_pages=page_ranges(row["ocr_pages"]),
        ocr_confidence=row["ocr_confidence"],
    )


def page_ranges(pages: Sequence[int]) -> str:
    """Sorted page numbers as ranges ("1-3, 7"), cut to OCR_PAGES_CHARS with a count of the pages."""
    runs: list[list[int]] = []
    for page in pages:
        if runs and page == runs[-1][1] + 1:
            runs[-1][1] = page
        else:
            runs.append([page, page])
    text = ", ".join(str(first) if first == last else f"{first}-{last}" for first, last in runs)
    if len(text) <= OCR_PAGES_CHARS:
        return text
    suffix = f", … ({len(pages)} pages)"
    return text[: text.rfind(", ", 0, OCR_PAGES_CHARS - len(suffix))] + suffix


async def _staged_bytes(res: Resources, key: str) -> bytes | None:
    """The staged file (its key checked to lie under its organisation), or None when it is gone."""
    try:
        check_size(await res.store.size(key), res.settings.max_document_bytes)
        return await res.store.get(key)
    except ObjectNotFound:
        return None


async def _stored_text(res: Resources, text_key: str) -> str | None:
    """The stored text of a known document; None if it went missing (the upload then restores it)."""
    try:
        return (await res.store.get(text_key)).decode()
    except ObjectNotFound:
        return None


async def _find(pool: asyncpg.Pool, org: str, content_hash: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT * FROM documents WHERE organization_id = $1 AND content_hash = $2", org, content_hash
    )


async def _insert(
    pool: asyncpg.Pool,
    upload: DocumentUpload,
    content_hash: str,
    fingerprint: str,
    size: int,
    extracted: Extracted,
    original_key: str,
    text_key: str,
) -> asyncpg.Record:
    """Insert the row unless a concurrent or earlier upload did; either way return the stored row."""
    inserted = await pool.fetchrow(
        """
        INSERT INTO documents (organization_id, content_hash, text_hash, filename, media_type, title,
                               page_count, char_count, size_bytes, original_key, text_key, upload_key,
                               ocr_pages, ocr_confidence)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        ON CONFLICT (organization_id, content_hash) DO NOTHING
        RETURNING *
        """,
        upload.organization_id,
        content_hash,
        fingerprint,
        upload.filename,
        extracted.media_type,
        extracted.title,
        extracted.page_count,
        len(extracted.text),
        size,
        original_key,
        text_key,
        upload.upload_key,
        list(extracted.ocr_pages),
        extracted.ocr_confidence,
    )
    if inserted is not None:
        return inserted
    row = await _find(pool, upload.organization_id, content_hash)
    if row is None:  # deleted by a cleanup between the two statements: a retry inserts it again
        raise RuntimeError(f"document row {content_hash} vanished right after insert")
    return row


async def _record_upload(pool: asyncpg.Pool, upload: DocumentUpload, document_id: object) -> None:
    await pool.execute(
        """
        INSERT INTO document_uploads (organization_id, upload_key, document_id, filename)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (organization_id, upload_key)
        DO UPDATE SET document_id = EXCLUDED.document_id, filename = EXCLUDED.filename
        """,
        upload.organization_id,
        upload.upload_key,
        document_id,
        upload.filename,
    )
