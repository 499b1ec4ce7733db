"""`antifragile demo`: the main job on embedded defaults. Starts the local stack, runs the demo
organisation's documents through DocumentProcessingWorkflow, prints each document's result, then trains
and evaluates the organisational model (the `smoke` preset: a tiny model, for CPUs) when the corpus is
ready."""

import argparse
import time
from pathlib import Path

from antifragile_core.contracts.training import SUBMIT_MODEL_TRAINING_JOB, Hyperparameters, TrainingJobRequest
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.settings import Settings
from antifragile_workflows.documents import DocumentBatchResult
from antifragile_workflows.management import manage
from temporalio.client import Client

from .batches import File, collect_files, register_batch
from .demo_session import start_demo_catchball
from .documents import batch_outcomes, print_outcomes, print_summary, run_batch
from .stack import LocalStack, add_stack_arguments
from .training import watch

DEMO_DOCS = Path(__file__).resolve().parent / "demo_org"
"""The demo organisation's documents: package data, so the installed wheel carries them too."""
DEMO_PROMPTS = ["What are Northwind's strategic choices?", "Why pair every new park with storage?"]
SMOKE_TRAINING = Hyperparameters(
    epochs=80, learning_rate=3e-3, batch_size=8, seq_len=128, checkpoint_every=50
)
"""A tiny random model learns visibly only from many passes at a high rate: about 20 s on two CPU cores."""


async def process_documents(
    client: Client, settings: Settings, org: str, files: list[File]
) -> tuple[str, DocumentBatchResult]:
    """Run the documents as one batch, as `antifragile documents add` does, and print every outcome."""
    batch = await register_batch(settings, org, files, llm_skipped_reason=settings.llm_skipped_reason)
    workflow_id, result = await run_batch(client, settings, batch)
    print(f"\nOrganisation {org}:")
    print_outcomes(await batch_outcomes(settings, org, result.summary.batch_id))
    print_summary(result)
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


async def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    files = collect_files([Path(args.docs)])
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
