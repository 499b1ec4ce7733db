"""`antifragile demo`: the main job on embedded defaults. Starts the local stack, runs the demo
organisation's documents through DocumentProcessingWorkflow, and prints each document's result."""

import argparse
import asyncio
import hashlib
import time
import uuid
from pathlib import Path

from antifragile_core.contracts.documents import DocumentUpload
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store, org_key
from antifragile_workflows.documents import DocumentBatch, DocumentBatchResult, DocumentProcessingWorkflow
from temporalio.client import Client

from .stack import LocalStack

DEMO_DOCS = Path(__file__).resolve().parents[4] / "examples" / "demo-org"


def llm_skipped_reason(settings: Settings) -> str | None:
    if settings.llm_configured:
        return None
    return "no OPENAI_API_KEY or OPENAI_BASE_URL is set, so summary and analysis were not run"


async def stage_uploads(settings: Settings, org: str, files: list[Path]) -> list[DocumentUpload]:
    """Put each file in the object store's upload area; the workflow receives only the keys."""
    uploads = []
    async with open_store(settings) as store:
        for path in files:
            data = path.read_bytes()
            key = org_key(org, "uploads", hashlib.sha256(data).hexdigest())
            await store.put(key, data)
            uploads.append(DocumentUpload(organization_id=org, filename=path.name, upload_key=key))
    return uploads


async def process_documents(client: Client, settings: Settings, org: str, files: list[Path]) -> str:
    """Run the document workflow, printing progress; returns the workflow id."""
    batch = DocumentBatch(
        organization_id=org,
        uploads=await stage_uploads(settings, org, files),
        llm_skipped_reason=llm_skipped_reason(settings),
    )
    workflow_id = f"documents-{org}-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow(
        DocumentProcessingWorkflow.run,
        batch,
        id=workflow_id,
        task_queue=settings.task_queue_prefix + "default-queue",
    )
    result_task = asyncio.create_task(handle.result())
    while not result_task.done():
        await asyncio.sleep(0.5)
        if result_task.done():
            break
        p = await handle.query(DocumentProcessingWorkflow.progress)
        print(f"  [{p.stage}] processed {p.processed}/{p.total}, analysed {p.analysed}, failed {p.failed}")
    print_result(await result_task)
    return workflow_id


def print_result(result: DocumentBatchResult) -> None:
    print(f"\nOrganisation {result.organization_id}:")
    for outcome in result.outcomes:
        doc = outcome.document
        print(f"- {outcome.filename}: {outcome.status}")
        if doc is not None:
            dup = " (already stored)" if doc.duplicate else ""
            print(
                f"    {doc.media_type}, {doc.page_count} page(s), {doc.char_count} chars, "
                f"title {doc.title!r}{dup}"
            )
        if outcome.summary is not None:
            print(f"    summary: {outcome.summary.summary}")
            for point in outcome.summary.key_points:
                print(f"      * {point}")
        if outcome.analysis is not None:
            a = outcome.analysis
            print(
                f"    topics: {', '.join(a.topics)}; sentiment {a.sentiment}, confidence {a.confidence:.2f}"
            )
            print(f"    risks: {'; '.join(a.risks)}")
            print(f"    opportunities: {'; '.join(a.opportunities)}")
        for error in outcome.errors:
            print(f"    {error.step} failed ({error.type}): {error.message}")
    if result.llm_skipped_reason:
        print(f"\nLLM steps skipped: {result.llm_skipped_reason}.")
    if result.readiness is not None:
        r = result.readiness
        verdict = "ready" if r.ready else "not ready: " + "; ".join(r.reasons)
        print(f"\nTraining readiness: {verdict} ({r.document_count} documents, ~{r.approx_tokens} tokens)")
    elif result.readiness_error is not None:
        print(f"\nTraining readiness failed: {result.readiness_error.message}")


def list_documents(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file())


async def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    files = list_documents(Path(args.docs))
    started = time.monotonic()
    print("Starting the local stack (Temporal dev server, PostgreSQL, workers) ...")
    async with LocalStack(Path(args.state_dir)) as stack:
        assert stack.client is not None
        print(f"Up in {time.monotonic() - started:.1f}s. Processing {len(files)} documents for {args.org}:")
        workflow_id = await process_documents(stack.client, stack.settings, args.org, files)
        print(
            f"\nTemporal UI: {stack.ui_url}/namespaces/{stack.settings.temporal_namespace}"
            f"/workflows/{workflow_id}"
        )
    print(f"Done in {time.monotonic() - started:.1f}s.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="run the main job on the demo organisation's documents")
    demo.add_argument("--org", default="demo-org")
    demo.add_argument("--docs", default=str(DEMO_DOCS), help="folder of documents to process")
    demo.add_argument("--state-dir", default=".state")
    demo.set_defaults(handler=run_demo)
