"""DocumentProcessingWorkflow end to end across task queues: the real default worker (documents,
PostgreSQL, object store) and the real openai worker (Agents SDK over HTTP to the local
OpenAI-compatible server), on the demo organisation's files plus two bad ones."""

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from antifragile_core.contracts.documents import DocumentUpload
from antifragile_core.errors import CORRUPT_DOCUMENT, EMPTY_DOCUMENT
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.settings import Settings
from antifragile_core.storage import ObjectStore, open_store, org_key
from antifragile_testing.openai_server import ServerScope
from antifragile_worker_default import db
from antifragile_worker_default import main as worker_default
from antifragile_worker_default.resources import Resources as DefaultResources
from antifragile_worker_openai import main as worker_openai
from antifragile_worker_openai.budget import open_meter
from antifragile_worker_openai.llm import LLM
from antifragile_worker_openai.resources import Resources as OpenAIResources
from antifragile_workflows.documents import DocumentBatch, DocumentBatchResult, DocumentProcessingWorkflow
from temporalio.client import Client

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo-org"


@pytest.fixture
async def fleet(
    make_settings: Callable[..., Settings], openai_server: ServerScope, temporal_client: Client
) -> AsyncIterator[tuple[Settings, ObjectStore]]:
    """Both workers as their entry points build them, on this test's queues, sharing one store."""
    settings = make_settings(
        openai_base_url=openai_server.base_url,
        openai_model="local-schema-model",
        llm_prices={"local-schema-model": {"input_per_million": 0.15, "output_per_million": 0.6}},
    )
    async with AsyncExitStack() as stack:
        pool = await db.connect(settings.postgres_dsn)
        stack.push_async_callback(pool.close)
        store = await stack.enter_async_context(open_store(settings))
        meter = await open_meter(settings)
        stack.push_async_callback(meter.ledger.pool.close)
        llm = dataclasses.replace(LLM.from_settings(settings), meter=meter)
        default_res = DefaultResources(settings=settings, pool=pool, store=store, client=temporal_client)
        await stack.enter_async_context(worker_default.create_worker(default_res))
        openai_res = OpenAIResources(settings=settings, store=store, llm=llm)
        await stack.enter_async_context(worker_openai.create_worker(temporal_client, openai_res))
        yield settings, store


async def stage(store: ObjectStore, org: str, files: dict[str, bytes]) -> list[DocumentUpload]:
    uploads = []
    for name, data in files.items():
        key = org_key(org, "uploads", uuid.uuid4().hex)
        await store.put(key, data)
        uploads.append(DocumentUpload(organization_id=org, filename=name, upload_key=key))
    return uploads


async def run_batch(client: Client, settings: Settings, batch: DocumentBatch) -> DocumentBatchResult:
    handle = await client.start_workflow(
        DocumentProcessingWorkflow.run,
        batch,
        id=f"docs-{uuid.uuid4().hex}",
        task_queue=settings.task_queue_prefix + DEFAULT_QUEUE,
    )
    result = await handle.result()
    progress = await handle.query(DocumentProcessingWorkflow.progress)
    assert (progress.stage, progress.total) == ("done", len(batch.uploads))
    assert progress.processed == sum(o.document is not None for o in result.outcomes)
    assert progress.failed == sum(o.status == "failed" for o in result.outcomes)
    return result


async def test_documents_flow_through_three_queues(
    fleet: tuple[Settings, ObjectStore], temporal_client: Client, openai_server: ServerScope, org_id: str
) -> None:
    settings, store = fleet
    files = {p.name: p.read_bytes() for p in sorted(DEMO.iterdir())}
    files |= {"broken.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "empty.txt": b""}
    batch = DocumentBatch(organization_id=org_id, uploads=await stage(store, org_id, files))

    result = await run_batch(temporal_client, settings, batch)

    by_name = {o.filename: o for o in result.outcomes}
    good = (
        "strategy-2027-2030.pdf",
        "swot-autumn-2026.docx",
        "annual-report-2026.md",
        "regional-objectives-2027.md",
    )
    for name in good:
        outcome = by_name[name]
        assert outcome.status == "done", outcome.errors
        assert outcome.document is not None and outcome.document.char_count > 1000
        assert outcome.summary is not None and outcome.summary.summary
        assert outcome.analysis is not None and outcome.analysis.topics
        assert await store.exists(outcome.document.text_key)
    assert by_name["strategy-2027-2030.pdf"].document.page_count == 2  # type: ignore[union-attr]
    assert by_name["swot-autumn-2026.docx"].document.title == (  # type: ignore[union-attr]
        "Northwind Renewables - SWOT analysis, autumn 2026"
    )
    assert [(e.step, e.type) for e in by_name["broken.pdf"].errors] == [("process", CORRUPT_DOCUMENT)]
    assert [(e.step, e.type) for e in by_name["empty.txt"].errors] == [("process", EMPTY_DOCUMENT)]
    # Two LLM calls per good document, none for the bad ones.
    assert len(openai_server.completions) == 2 * len(good)
    assert result.readiness is not None
    assert result.readiness.document_count == len(good) and result.readiness.ready, result.readiness.reasons


async def test_without_an_llm_the_rest_still_runs(
    fleet: tuple[Settings, ObjectStore], temporal_client: Client, openai_server: ServerScope, org_id: str
) -> None:
    settings, store = fleet
    uploads = await stage(store, org_id, {"plan.md": (DEMO / "annual-report-2026.md").read_bytes()})
    batch = DocumentBatch(organization_id=org_id, uploads=uploads, llm_skipped_reason="no LLM configured")

    result = await run_batch(temporal_client, settings, batch)

    (outcome,) = result.outcomes
    assert outcome.status == "done" and outcome.summary is None and outcome.analysis is None
    assert result.llm_skipped_reason == "no LLM configured"
    assert openai_server.completions == []
    assert result.readiness is not None and not result.readiness.ready
    assert any("document" in reason for reason in result.readiness.reasons)
