"""`antifragile documents add|list|show`: ingest files on a running fleet and read what is stored.

`add` is a Temporal client plus the operator's object-store and PostgreSQL access (the same settings as the
workers); `list` and `show` read PostgreSQL directly, a page at a time.
"""

import argparse
import json
from pathlib import Path
from typing import Any

import asyncpg
from antifragile_core.contracts.batches import StepError
from antifragile_core.contracts.documents import DocumentAnalysis, DocumentSummary
from antifragile_core.errors import NOT_FOUND, bad_input
from antifragile_core.runtime import connect
from antifragile_core.settings import Settings
from antifragile_core.storage import ObjectNotFound, open_store
from antifragile_workflows.documents import DocumentBatch, DocumentBatchResult, DocumentProgress
from temporalio.client import Client

from .batches import collect_files, database, follow, register_batch, start_batch
from .terminal import LiveLine, bar

PAGE = 20
EXCERPT_CHARS = 600

_OUTCOME = """
SELECT i.seq, i.filename, i.status, i.document_id::text AS document_id, i.duplicate,
       i.errors::text AS errors, i.summary::text AS summary, i.analysis::text AS analysis,
       d.media_type, d.page_count, d.char_count, d.title
FROM document_batch_items i LEFT JOIN documents d ON d.id = i.document_id
"""
_BATCH_OUTCOMES = (
    _OUTCOME + "WHERE i.organization_id = $1 AND i.batch_id = $2 AND i.seq >= $3 ORDER BY i.seq LIMIT $4"
)
_LATEST_OUTCOME = (
    _OUTCOME + "WHERE i.organization_id = $1 AND i.document_id = $2::uuid"
    " ORDER BY (i.summary IS NOT NULL) DESC, i.finished_at DESC NULLS LAST LIMIT 1"
)
_DOCUMENTS = """
SELECT id::text AS id, filename, media_type, page_count, char_count, title, created_at FROM documents
WHERE organization_id = $1 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3
"""


async def run_batch(
    client: Client, settings: Settings, batch: DocumentBatch
) -> tuple[str, DocumentBatchResult]:
    """Run a registered batch, showing a progress bar; returns the workflow id and the result."""
    handle = await start_batch(client, settings, batch)
    live = LiveLine()

    def show(p: DocumentProgress) -> None:
        live.show(f"{bar(p.finished, p.total)}  {progress_text(p)}")

    result = await follow(handle, show)
    live.end()
    return handle.id, result


def progress_text(p: DocumentProgress) -> str:
    return f"{p.stage}: processed {p.processed}/{p.total}, analysed {p.analysed}, failed {p.failed}"


def print_summary(result: DocumentBatchResult) -> None:
    s = result.summary
    print(
        f"\nBatch {s.batch_id} of {s.organization_id}: {s.total} documents, {s.done} done, {s.failed} failed"
        + (f", {s.pending} without an outcome" if s.pending else "")
        + (f", {s.duplicates} already stored" if s.duplicates else "")
    )
    if s.failures_by_type:
        print("failures by type: " + ", ".join(f"{t} {n}" for t, n in s.failures_by_type.items()))
    if result.llm_skipped_reason:
        print(f"\nLLM steps skipped: {result.llm_skipped_reason}.")
    if result.readiness is not None:
        r = result.readiness
        verdict = "ready" if r.ready else "not ready: " + "; ".join(r.reasons)
        print(f"\nTraining readiness: {verdict} ({r.document_count} documents, ~{r.approx_tokens} tokens)")
    elif result.readiness_error is not None:
        print(f"\nTraining readiness failed: {result.readiness_error.message}")


async def batch_outcomes(
    settings: Settings, org: str, batch_id: str, start: int = 0, limit: int = PAGE
) -> list[asyncpg.Record]:
    async with database(settings) as conn:
        return await conn.fetch(_BATCH_OUTCOMES, org, batch_id, start, limit)


def print_outcome_table(rows: list[asyncpg.Record]) -> None:
    """A row per upload: its number in the batch, status, stored document and file; errors below it."""
    print(f"{'seq':>6}  {'status':<6}  {'document':<36}  file")
    for r in rows:
        print(f"{r['seq']:>6}  {r['status']:<6}  {r['document_id'] or '-':<36}  {r['filename']}")
        for e in _errors(r):
            print(f"{'':>16}{e.step}: {e.reason}")


def print_outcomes(rows: list[asyncpg.Record]) -> None:
    """Each document's details, summary and analysis."""
    for r in rows:
        print(f"- {r['filename']}: {r['status']}")
        if r["document_id"]:
            dup = " (already stored)" if r["duplicate"] else ""
            print(
                f"    {r['media_type']}, {r['page_count']} page(s), {r['char_count']} chars, "
                f"title {r['title']!r}{dup}"
            )
        if r["summary"]:
            summary = DocumentSummary.model_validate_json(r["summary"])
            print(f"    summary: {summary.summary}")
            for point in summary.key_points:
                print(f"      * {point}")
        if r["analysis"]:
            a = DocumentAnalysis.model_validate_json(r["analysis"])
            print(
                f"    topics: {', '.join(a.topics)}; sentiment {a.sentiment}, confidence {a.confidence:.2f}"
            )
            print(f"    risks: {'; '.join(a.risks)}")
            print(f"    opportunities: {'; '.join(a.opportunities)}")
        for e in _errors(r):
            print(f"    {e.step} failed ({e.type}): {e.message}")


def _errors(row: asyncpg.Record) -> list[StepError]:
    return [StepError(**e) for e in json.loads(row["errors"])]


async def add_documents(args: argparse.Namespace, settings: Settings) -> int:
    files = collect_files([Path(p) for p in args.paths])
    print(f"Uploading {len(files)} file(s) for {args.org} ...")
    batch = await register_batch(settings, args.org, files, llm_skipped_reason=settings.llm_skipped_reason)
    _, result = await run_batch(await connect(settings), settings, batch)
    print_summary(result)
    rows = await batch_outcomes(settings, args.org, result.summary.batch_id, limit=args.limit)
    print(f"\nOutcomes (first {len(rows)}):")
    print_outcome_table(rows)
    later_failures = [f for f in result.summary.first_failures if f.seq >= len(rows)]
    if later_failures:
        print("Failures further on:")
        for f in later_failures:
            print(f"{f.seq:>6}  failed  {'-':<36}  {f.filename}  " + "; ".join(e.reason for e in f.errors))
    if result.summary.total > len(rows):
        print(f"\nEvery outcome: {result.details} [--offset N]")
    return 0 if result.summary.done else 1


async def list_documents(args: argparse.Namespace, settings: Settings) -> int:
    if args.batch:
        rows = await batch_outcomes(settings, args.org, args.batch, args.offset, args.limit)
        print_outcome_table(rows)
        if len(rows) == args.limit:
            print(f"(more: --offset {rows[-1]['seq'] + 1})")
        return 0
    async with database(settings) as conn:
        rows = await conn.fetch(_DOCUMENTS, args.org, args.limit, args.offset)
    for r in rows:
        print(
            f"{r['id']}  {r['created_at']:%Y-%m-%d %H:%M}  {r['media_type']:<28} {r['page_count']:>5} p"
            f" {r['char_count']:>9} chars  {r['filename']}"
        )
    if len(rows) == args.limit:
        print(f"(more: --offset {args.offset + args.limit})")
    return 0


async def show_document(args: argparse.Namespace, settings: Settings) -> int:
    async with database(settings) as conn:
        doc = await conn.fetchrow(
            "SELECT *, id::text AS id FROM documents WHERE organization_id = $1 AND id::text = $2",
            args.org,
            args.document_id,
        )
        if doc is None:
            raise bad_input(NOT_FOUND, f"no document {args.document_id} in {args.org}; see `documents list`")
        uploads = await conn.fetch(
            "SELECT filename, uploaded_at FROM document_uploads WHERE organization_id = $1"
            " AND document_id = $2::uuid ORDER BY uploaded_at LIMIT $3",
            args.org,
            doc["id"],
            PAGE,
        )
        latest = await conn.fetch(_LATEST_OUTCOME, args.org, doc["id"])
    print(f"document {doc['id']}  {doc['filename']}")
    print(f"  {doc['media_type']}, {doc['page_count']} page(s), {doc['char_count']} chars")
    print(f"  title {doc['title']!r}")
    print(f"  sha256 {doc['content_hash']}  stored {doc['created_at']:%Y-%m-%d %H:%M:%S}")
    print(f"  original {doc['original_key']}\n  text {doc['text_key']}")
    print("  uploads: " + ", ".join(f"{u['filename']} ({u['uploaded_at']:%Y-%m-%d %H:%M})" for u in uploads))
    print_outcomes(latest)
    async with open_store(settings) as store:
        try:
            text = (await store.get(doc["text_key"])).decode()
        except ObjectNotFound:
            text = "(the extracted text is no longer stored)"
    more = " ..." if len(text) > EXCERPT_CHARS else ""
    print(f"  text: {text[:EXCERPT_CHARS]}{more}")
    return 0


def register(subparsers: Any) -> None:
    root = subparsers.add_parser(
        "documents", help="ingest an organisation's documents and read what is stored"
    )
    sub = root.add_subparsers(dest="documents_command", required=True)

    add = sub.add_parser("add", help="upload files (folders recursively) and process them as one batch")
    add.add_argument("org")
    add.add_argument("paths", nargs="+", help="files or folders")
    add.add_argument("--limit", type=int, default=PAGE, help=f"outcomes to print (default {PAGE})")
    add.set_defaults(handler=add_documents)

    listing = sub.add_parser("list", help="stored documents, newest first, or a batch's outcomes (--batch)")
    listing.add_argument("org")
    listing.add_argument("--batch", help="list this batch's outcomes in upload order")
    listing.add_argument("--limit", type=int, default=PAGE)
    listing.add_argument("--offset", type=int, default=0, help="documents to skip (for a batch: first seq)")
    listing.set_defaults(handler=list_documents)

    show = sub.add_parser("show", help="one document: metadata, uploads, summary and analysis, text")
    show.add_argument("org")
    show.add_argument("document_id")
    show.set_defaults(handler=show_document)
