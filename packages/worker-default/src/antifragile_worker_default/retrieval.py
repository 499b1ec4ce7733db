"""search_organization_documents: PostgreSQL full-text search over an organisation's stored text.

A document's text lives in the object store (DESIGN: payloads stay small). The first search of an
organisation indexes every processed document that has no passages yet: the text is split into
paragraph-sized passages stored in `document_passages` with a generated tsvector. Indexing on demand
keeps the document pipeline unchanged and makes documents processed before this step searchable too;
the insert is keyed by (organisation, document, passage number), so concurrent or repeated indexing
changes nothing twice. Passages are deleted with their document, so a deleted document is never cited.
"""

import logging
import re
from collections.abc import Callable
from typing import Any

import asyncpg
from antifragile_core.contracts.collective import Passage
from antifragile_core.contracts.retrieval import (
    SEARCH_ORGANIZATION_DOCUMENTS,
    PassageHits,
    PassageQuery,
)
from antifragile_core.errors import INVALID_INPUT, bad_input
from antifragile_core.storage import ObjectNotFound, ObjectStore

from .resources import Resources

log = logging.getLogger(__name__)

PASSAGE_CHARS = 1_200
"""Target passage size: a few paragraphs, small enough that eight of them fit any model's context."""

_PARAGRAPH = re.compile(r"\n\s*\n")


def split_passages(text: str, target: int = PASSAGE_CHARS) -> list[str]:
    """Paragraphs packed into passages of about `target` characters; long paragraphs cut at spaces."""
    pieces = []
    for paragraph in (" ".join(p.split()) for p in _PARAGRAPH.split(text)):
        while len(paragraph) > target:
            cut = paragraph.rfind(" ", 0, target)
            cut = cut if cut > target // 2 else target
            pieces.append(paragraph[:cut])
            paragraph = paragraph[cut:].lstrip()
        if paragraph:
            pieces.append(paragraph)
    passages: list[str] = []
    for piece in pieces:
        if passages and len(passages[-1]) + 1 + len(piece) <= target:
            passages[-1] += "\n" + piece
        else:
            passages.append(piece)
    return passages


async def index_missing(conn: asyncpg.Connection, store: ObjectStore, organization_id: str) -> None:
    """Split and store the passages of every document of the organisation not indexed yet."""
    missing = await conn.fetch(
        "SELECT d.id, d.filename, d.text_key FROM documents d"
        " WHERE d.organization_id = $1 AND NOT EXISTS (SELECT 1 FROM document_passages p"
        "  WHERE p.organization_id = d.organization_id AND p.document_id = d.id)",
        organization_id,
    )
    for doc in missing:
        try:
            text = (await store.get(doc["text_key"])).decode("utf-8")
        except ObjectNotFound:
            log.warning("document text missing from the store", extra={"document_id": str(doc["id"])})
            continue
        rows = [
            (organization_id, doc["id"], n, doc["filename"], body)
            for n, body in enumerate(split_passages(text))
        ]
        async with conn.transaction():  # all of a document's passages or none: a retry finishes the rest
            await conn.executemany(
                "INSERT INTO document_passages (organization_id, document_id, passage_no, filename, body)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                rows,
            )


async def search(conn: asyncpg.Connection, organization_id: str, query: str, limit: int) -> list[Passage]:
    """Passages of the organisation matching any word of `query`, best covered first.

    A question's words are OR-ed (websearch syntax would demand every word in one passage) and ranked
    with ts_rank_cd, which rewards passages holding more of them close together.
    """
    rows = await conn.fetch(
        "WITH q AS (SELECT to_tsquery('english', string_agg(quote_literal(lexeme), ' | ')) AS tsq"
        "  FROM unnest(to_tsvector('english', $2)))"
        " SELECT p.document_id, p.passage_no, p.filename, p.body, ts_rank_cd(p.tsv, q.tsq) AS rank"
        " FROM document_passages p CROSS JOIN q"
        " WHERE p.organization_id = $1 AND q.tsq IS NOT NULL AND p.tsv @@ q.tsq"
        " ORDER BY rank DESC, p.document_id, p.passage_no LIMIT $3",
        organization_id,
        query,
        limit,
    )
    return [
        Passage(
            passage_id=f"{r['document_id']}#{r['passage_no']}",
            document_id=str(r["document_id"]),
            filename=r["filename"],
            text=r["body"],
            rank=r["rank"],
        )
        for r in rows
    ]


def activities(res: Resources) -> list[Callable[..., Any]]:
    @SEARCH_ORGANIZATION_DOCUMENTS.implement
    async def search_organization_documents(query: PassageQuery) -> PassageHits:
        async with res.pool.acquire() as conn:
            # Refuse a question without words before indexing anything for it.
            if not await conn.fetchval("SELECT to_tsvector('english', $1) != ''::tsvector", query.query):
                raise bad_input(INVALID_INPUT, "The question has no searchable words; ask in full words.")
            await index_missing(conn, res.store, query.organization_id)
            passages = await search(conn, query.organization_id, query.query, query.limit)
            indexed = await conn.fetchval(
                "SELECT count(DISTINCT document_id) FROM document_passages WHERE organization_id = $1",
                query.organization_id,
            )
        return PassageHits(passages=passages, indexed_documents=indexed)

    return [search_organization_documents]
