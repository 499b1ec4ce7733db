"""search_organization_documents: full-text search over real processed documents in PostgreSQL."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from antifragile_core.contracts.documents import PROCESS_DOCUMENT_UPLOAD, ProcessedDocument
from antifragile_core.contracts.retrieval import SEARCH_ORGANIZATION_DOCUMENTS, PassageHits, PassageQuery
from antifragile_core.errors import INVALID_INPUT
from antifragile_worker_default.resources import Resources
from antifragile_worker_default.retrieval import PASSAGE_CHARS, split_passages
from temporalio.exceptions import ApplicationError

PLAN = (
    "Cold-chain expansion\n\nNorthwind will open three refrigerated depots in the Baltic states by 2027.\n\n"
    "Drivers\n\nA shortage of certified drivers is the main risk to the expansion; we will fund training."
)
OTHER = "Marketing notes\n\nOur brand colours are teal and orange. The mascot is a penguin."


async def add(res: Resources, stage: Any, run_activity: Any, org: str, name: str, text: str) -> str:
    upload = await stage(res.store, org, name, text.encode())
    document: ProcessedDocument = await run_activity(res, PROCESS_DOCUMENT_UPLOAD, upload)
    return document.document_id


async def search(run_activity: Any, res: Resources, org: str, query: str, limit: int = 8) -> PassageHits:
    return await run_activity(
        res, SEARCH_ORGANIZATION_DOCUMENTS, PassageQuery(organization_id=org, query=query, limit=limit)
    )


def test_passages_pack_paragraphs_and_cut_long_ones_at_spaces() -> None:
    text = "Short one.\n\nShort two.\n\n" + "word " * 600
    passages = split_passages(text)
    assert passages[0] == "Short one.\nShort two."
    assert all(len(p) <= PASSAGE_CHARS for p in passages)
    assert " ".join(" ".join(p.split()) for p in passages[1:]) == " ".join(["word"] * 600)
    assert split_passages("  \n\n ") == []


async def test_search_finds_the_passage_and_ranks_it_first(
    resources: Resources, stage: Callable[..., Awaitable[Any]], run_activity: Any, org_id: str
) -> None:
    plan_id = await add(resources, stage, run_activity, org_id, "plan.md", PLAN)
    await add(resources, stage, run_activity, org_id, "notes.md", OTHER)

    hits = await search(run_activity, resources, org_id, "What is the risk with drivers?")

    assert hits.indexed_documents == 2
    assert [p.document_id for p in hits.passages] == [plan_id]
    best = hits.passages[0]
    assert "shortage of certified drivers" in best.text
    assert best.passage_id == f"{plan_id}#0" and best.filename == "plan.md" and best.rank > 0


async def test_search_never_returns_another_organisations_passages(
    resources: Resources, stage: Callable[..., Awaitable[Any]], run_activity: Any, org_id: str
) -> None:
    await add(resources, stage, run_activity, f"{org_id}-other", "plan.md", PLAN)
    mine = await add(resources, stage, run_activity, org_id, "notes.md", OTHER + " Drivers love penguins.")

    hits = await search(run_activity, resources, org_id, "drivers expansion Baltic")

    assert {p.document_id for p in hits.passages} == {mine}
    assert hits.indexed_documents == 1


async def test_indexing_is_idempotent_and_follows_deleted_documents(
    resources: Resources, stage: Callable[..., Awaitable[Any]], run_activity: Any, org_id: str
) -> None:
    plan_id = await add(resources, stage, run_activity, org_id, "plan.md", PLAN)
    first = await search(run_activity, resources, org_id, "depots")
    again = await search(run_activity, resources, org_id, "depots")
    assert first == again and len(first.passages) == 1

    await resources.pool.execute("DELETE FROM documents WHERE id = $1::uuid", plan_id)
    assert (await search(run_activity, resources, org_id, "depots")).passages == []


async def test_a_query_without_searchable_words_is_rejected(
    resources: Resources, run_activity: Any, org_id: str
) -> None:
    with pytest.raises(ApplicationError) as rejected:
        await search(run_activity, resources, org_id, "the and of ?!")
    assert rejected.value.type == INVALID_INPUT and rejected.value.non_retryable


async def test_a_document_whose_text_is_gone_is_skipped_not_fatal(
    resources: Resources, stage: Callable[..., Awaitable[Any]], run_activity: Any, org_id: str
) -> None:
    upload = await stage(resources.store, org_id, "plan.md", PLAN.encode())
    document: ProcessedDocument = await run_activity(resources, PROCESS_DOCUMENT_UPLOAD, upload)
    await resources.store.delete(document.text_key)
    assert (await search(run_activity, resources, org_id, "depots")).passages == []
