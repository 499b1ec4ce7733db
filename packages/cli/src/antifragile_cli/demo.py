"""`antifragile demo`: the main job on embedded defaults. Starts the local stack, runs the demo
organisation's documents through DocumentProcessingWorkflow, prints each document's result, then trains
and evaluates the organisational model (the `smoke` preset: a tiny model, for CPUs) when the corpus is
ready."""

import argparse
import asyncio
import time
import uuid
from pathlib import Path

from antifragile_core.contracts.documents import DocumentUpload
from antifragile_core.contracts.training import SUBMIT_MODEL_TRAINING_JOB, Hyperparameters, TrainingJobRequest
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store, org_key
from antifragile_workflows.documents import DocumentBatch, DocumentBatchResult, DocumentProcessingWorkflow
from antifragile_workflows.management import manage
from temporalio.client import Client

from .demo_session import start_demo_catchball
from .stack import LocalStack, add_stack_arguments
from .training import watch

DEMO_DOCS = Path(__file__).resolve().parents[4] / "examples" / "demo-org"
DEMO_PROMPTS = ["What are Northwind's strategic choices?", "Why pair every new park with storage?"]
SMOKE_TRAINING = Hyperparameters(
    epochs=80, learning_rate=3e-3, batch_size=8, seq_len=128, checkpoint_every=50
)
"""A tiny random model learns visibly only from many passes at a high rate: about 20 s on two CPU cores."""


async def stage_uploads(settings: Settings, org: str, files: list[Path]) -> list[DocumentUpload]:
    """Put each file in the object store's upload area; the workflow receives only the keys."""
    uploads = []
    async with open_store(settings) as store:
        for path in files:
            key = org_key(org, "uploads", uuid.uuid4().hex)
            await store.put(key, path.read_bytes())
            uploads.append(DocumentUpload(organization_id=org, filename=path.name, upload_key=key))
    return uploads


async def process_documents(
    client: Client, settings: Settings, org: str, files: list[Path]
) -> tuple[str, DocumentBatchResult]:
    """Run the document workflow, printing progress; returns its id and result."""
    batch = DocumentBatch(
        organization_id=org,
        uploads=await stage_uploads(settings, org, files),
        llm_skipped_reason=settings.llm_skipped_reason,
    )
    workflow_id = f"documents-{org}-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow(
        DocumentProcessingWorkflow.run,
        batch,
        id=workflow_id,
        task_queue=settings.task_queue_prefix + DEFAULT_QUEUE,
    )
    result_task = asyncio.create_task(handle.result())
    while not result_task.done():
        await asyncio.sleep(0.5)
        if result_task.done():
            break
        p = await handle.query(DocumentProcessingWorkflow.progress)
        print(f"  [{p.stage}] processed {p.processed}/{p.total}, analysed {p.analysed}, failed {p.failed}")
    result = await result_task
    print_result(result)
    return workflow_id, result


async def train_smoke_model(client: Client, settings: Settings, org: str, request_id: str) -> int:
    """Submit a training job of the smoke preset and follow it to its evaluation."""
    handle = await manage(
        client,
        settings.task_queue_prefix + DEFAULT_QUEUE,
        SUBMIT_MODEL_TRAINING_JOB,
        TrainingJobRequest(
            organization_id=org,
            request_id=request_id,
            base_model="smoke",
            hyperparameters=SMOKE_TRAINING,
            prompts=DEMO_PROMPTS,
        ),
    )
    print(f"\nTraining the organisational model, job {handle.job_id} (smoke preset: a tiny model for CPUs):")
    return await watch(client, settings, org, handle.job_id)


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
    stack = LocalStack(Path(args.state_dir), port=args.port, ui_port=args.ui_port, api_port=args.api_port)
    async with stack:
        assert stack.client is not None
        print(f"Up in {time.monotonic() - started:.1f}s. Processing {len(files)} documents for {args.org}:")
        workflow_id, result = await process_documents(stack.client, stack.settings, args.org, files)
        status = 0
        ready = result.readiness is not None and result.readiness.ready
        if args.train and ready:
            status = await train_smoke_model(stack.client, stack.settings, args.org, f"demo-{workflow_id}")
        elif args.train:
            print("\nTraining skipped: the corpus is not ready.")
        await start_demo_catchball(stack, args.org)
        workflows = f"{stack.ui_url}/namespaces/{stack.settings.temporal_namespace}/workflows"
        print(f"\nTemporal UI: {workflows}/{workflow_id} (while `antifragile dev` runs on {args.state_dir})")
    print(f"Done in {time.monotonic() - started:.1f}s.")
    return status


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="run the main job on the demo organisation's documents")
    demo.add_argument("--org", default="demo-org")
    demo.add_argument("--docs", default=str(DEMO_DOCS), help="folder of documents to process")
    add_stack_arguments(demo)
    demo.add_argument("--no-train", dest="train", action="store_false", help="stop after the documents")
    demo.set_defaults(handler=run_demo)
