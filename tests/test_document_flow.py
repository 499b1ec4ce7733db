"""DocumentProcessingWorkflow end to end across task queues: the real default worker (documents,
PostgreSQL, object store) and the real openai worker (Agents SDK over HTTP to the local
OpenAI-compatible server), on the demo organisation's files plus two bad ones."""

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import pytest
from antifragile_cli.batches import follow, register_batch, start_batch
from antifragile_cli.demo import DEMO_DOCS
from antifragile_cli.documents import batch_outcomes
from antifragile_core.contracts.documents import DocumentAnalysis, DocumentSummary
from antifragile_core.errors import CORRUPT_DOCUMENT, EMPTY_DOCUMENT
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store
from antifragile_testing.openai_server import ServerScope
from antifragile_worker_default import db
from antifragile_worker_default import main as worker_default
from antifragile_worker_default.resources import Resources as DefaultResources
from antifragile_worker_openai import main as worker_openai
from antifragile_worker_openai.budget import open_meter
from antifragile_worker_openai.llm import LLM
from antifragile_worker_openai.resources import Resources as OpenAIResources
from antifragile_workflows.documents import DocumentBatchResult, DocumentProcessingWorkflow
from asyncpg import Record
from temporalio.client import Client


@pytest.fixture
async def fleet(
    make_settings: Callable[..., Settings], openai_server: ServerScope, temporal_client: Client
) -> AsyncIterator[Settings]:
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
        yield settings


async def run_batch(
    client: Client,
    settings: Settings,
    org: str,
    files: dict[str, bytes],
    llm_skipped_reason: str | None = None,
) -> tuple[DocumentBatchResult, dict[str, Record]]:
    """The batch's result, and each document's outcome row by file name."""
    batch = await register_batch(settings, org, list(files.items()), llm_skipped_reason=llm_skipped_reason)
    handle = await start_batch(client, settings, batch)
    result = await follow(handle)
    progress = await handle.query(DocumentProcessingWorkflow.progress)
    rows = await batch_outcomes(settings, org, batch.batch_id)
    assert (progress.stage, progress.total, progress.finished) == ("done", len(files), len(files))
    assert progress.processed == sum(r["document_id"] is not None for r in rows)
    assert progress.failed == sum(r["status"] == "failed" for r in rows) == result.summary.failed
    return result, {r["filename"]: r for r in rows}


def error_kinds(row: Record) -> list[tuple[str, str]]:
    return [(e["step"], e["type"]) for e in json.loads(row["errors"])]


async def test_documents_flow_through_three_queues(
    fleet: Settings, temporal_client: Client, openai_server: ServerScope, org_id: str
) -> None:
    settings = fleet
    files = {p.name: p.read_bytes() for p in sorted(DEMO_DOCS.iterdir())}
    files |= {"broken.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "empty.txt": b""}

    result, by_name = await run_batch(temporal_client, settings, org_id, files)

    good = (
        "strategy-2027-2030.pdf",
        "swot-autumn-2026.docx",
        "annual-report-2026.md",
        "regional-objectives-2027.md",
    )
    for name in good:
        row = by_name[name]
        assert row["status"] == "done", row["errors"]
        assert row["char_count"] > 1000
        assert DocumentSummary.model_validate_json(row["summary"]).summary
        assert DocumentAnalysis.model_validate_json(row["analysis"]).topics
    assert by_name["strategy-2027-2030.pdf"]["page_count"] == 2
    assert by_name["swot-autumn-2026.docx"]["title"] == "Northwind Renewables - SWOT analysis, autumn 2026"
    assert error_kinds(by_name["broken.pdf"]) == [("process", CORRUPT_DOCUMENT)]
    assert error_kinds(by_name["empty.txt"]) == [("process", EMPTY_DOCUMENT)]
    summary = result.summary
    assert (summary.total, summary.done, summary.failed, summary.pending) == (6, 4, 2, 0)
    assert summary.failures_by_type == {CORRUPT_DOCUMENT: 1, EMPTY_DOCUMENT: 1}
    assert [f.filename for f in summary.first_failures] == ["broken.pdf", "empty.txt"]
    assert result.details == f"antifragile documents list {org_id} --batch {summary.batch_id}"
    # Two LLM calls per good document, none for the bad ones.
    assert len(openai_server.completions) == 2 * len(good)
    assert result.readiness is not None
    assert result.readiness.document_count == len(good) and result.readiness.ready, result.readiness.reasons


async def test_without_an_llm_the_rest_still_runs(
    fleet: Settings, temporal_client: Client, openai_server: ServerScope, org_id: str
) -> None:
    settings = fleet
    files = {"plan.md": (DEMO_DOCS / "annual-report-2026.md").read_bytes()}

    result, by_name = await run_batch(temporal_client, settings, org_id, files, "no LLM configured")

    row = by_name["plan.md"]
    assert row["status"] == "done" and row["summary"] is None and row["analysis"] is None
    assert (result.summary.done, result.summary.failed) == (1, 0)
    assert result.llm_skipped_reason == "no LLM configured"
    assert openai_server.completions == []
    assert result.readiness is not None and not result.readiness.ready
    assert any("document" in reason for reason in result.readiness.reasons)
