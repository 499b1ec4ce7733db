"""Documents per second of DocumentProcessingWorkflow through the real worker-default process, beside bare
temporalio of the same shape (bare_batch.py) on the same dev server in the same run.

    uv run python packages/workflows/benchmarks/document_batches.py [--documents 10000] [--chars 60]
    uv run python packages/workflows/benchmarks/document_batches.py --documents 1000 --chars 30000

The local stack (`antifragile dev`: Temporal dev server, embedded PostgreSQL, a directory store) runs
worker-default as its own process; LLM steps are skipped. The dev server keeps its state in memory unless
`--sqlite` (as `antifragile dev` does; its SQLite file, not the workflows, then sets the pace: 200
documents ran at 3.2 docs/s against 13.8 in memory, 2026-11). The baseline's worker runs in this process
on its own queue. Per-document latency is each child workflow's close minus start (visibility).

2026-11, 2 shared cores (load 6-9): 10,000 x 60 chars: 7.9 docs/s (p50 1.03 s, p95 3.50 s) against bare
8.4 (1.22 s, 5.71 s), ratio 0.95, 20 runs of at most 660 KB; 1,000 x 30k chars: 102 s, 2 runs of 645 KB.
"""

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from antifragile_cli.batches import follow, register_batch, start_batch
from antifragile_cli.stack import LocalStack
from antifragile_testing.history import run_sizes
from antifragile_testing.local_servers import free_port
from antifragile_workflows.documents import DOCUMENTS_PER_RUN, WINDOW
from bare_batch import BareBatchWorkflow, BareDocumentWorkflow, Batch, noop, read_page
from temporalio.client import Client
from temporalio.worker import Worker

WORDS = ["strategy", "market", "customer", "growth", "risk", "capability", "supplier", "margin", "team"]


@dataclass
class Figures:
    documents: int
    wall_seconds: float
    latencies: list[float]
    runs: list[tuple[int, int]]

    def row(self, name: str) -> str:
        q = statistics.quantiles(self.latencies, n=20) if len(self.latencies) > 1 else self.latencies * 19
        return (
            f"{name:<16} {self.documents / self.wall_seconds:8.1f} {q[9]:7.2f} {q[18]:7.2f} "
            f"{self.wall_seconds:8.1f} {len(self.runs):5d} {max(h for h, _ in self.runs):14,d} "
            f"{max(e for _, e in self.runs):13,d}"
        )


def document(seq: int, chars: int) -> bytes:
    """Distinct text of about `chars` characters (distinct, so none is a duplicate upload)."""
    rng = random.Random(seq)
    words = [f"Note {seq}:", *rng.choices(WORDS, k=chars // 6 + 1)]  # the words average ~7 chars with a space
    return " ".join(words).encode()[:chars]


async def child_latencies(client: Client, workflow_id: str, expected: int) -> list[float]:
    """Close minus start of every child, once visibility has caught up with all of them."""
    for _ in range(60):
        latencies = [
            (w.close_time - w.start_time).total_seconds()
            async for w in client.list_workflows(f"ParentWorkflowId = '{workflow_id}'")
            if w.close_time is not None
        ]
        if len(latencies) >= expected:
            return latencies
        await asyncio.sleep(1)
    raise RuntimeError(f"visibility shows {len(latencies)} of {expected} children of {workflow_id}")


async def antifragile(stack: LocalStack, documents: int, chars: int) -> Figures:
    assert stack.client is not None
    org = f"bench-{uuid.uuid4().hex[:8]}"
    files = [(f"note-{i}.txt", document(i, chars)) for i in range(documents)]
    started = time.perf_counter()
    batch = await register_batch(stack.settings, org, files, llm_skipped_reason="benchmark: no LLM steps")
    staged = time.perf_counter()
    print(f"staged {documents} files and the manifest in {staged - started:.1f}s")
    handle = await start_batch(stack.client, stack.settings, batch)
    result = await follow(handle)
    wall = time.perf_counter() - staged
    assert result.summary.done == documents, result.summary
    return Figures(
        documents,
        wall,
        await child_latencies(stack.client, handle.id, documents),
        await run_sizes(stack.client, handle.id, handle.first_execution_run_id or ""),
    )


async def bare(address: str, documents: int) -> Figures:
    client = await Client.connect(address)
    queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        client,
        task_queue=queue,
        workflows=[BareBatchWorkflow, BareDocumentWorkflow],
        activities=[read_page, noop],
        max_concurrent_activities=20,  # worker-default's MAX_CONCURRENT_ACTIVITIES default
    )
    async with worker:
        started = time.perf_counter()
        handle = await client.start_workflow(
            BareBatchWorkflow.run,
            Batch(queue, documents, WINDOW, DOCUMENTS_PER_RUN),
            id=queue,
            task_queue=queue,
        )
        await handle.result()
        wall = time.perf_counter() - started
    return Figures(
        documents,
        wall,
        await child_latencies(client, queue, documents),
        await run_sizes(client, queue, handle.first_execution_run_id or ""),
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--chars", type=int, default=60, help="characters per document")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument("--sqlite", action="store_true", help="the dev server on its SQLite file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-batches-") as state:
        stack = LocalStack(
            Path(state),
            workers=("worker-default",),
            port=free_port(),
            ui_port=free_port(),
            temporal_in_memory=not args.sqlite,
        )
        async with stack:
            where = "SQLite" if args.sqlite else "memory"
            print(f"{args.documents} documents x {args.chars} chars, Temporal dev server state in {where}")
            print(f"window {WINDOW} children, continue-as-new every {DOCUMENTS_PER_RUN}")
            baseline = await bare(stack.settings.temporal_address, args.documents) if args.baseline else None
            ours = await antifragile(stack, args.documents, args.chars)
    print(
        f"{'':<16} {'docs/s':>8} {'p50 s':>7} {'p95 s':>7} {'wall s':>8} {'runs':>5} "
        f"{'history/run B':>14} {'largest evt B':>13}"
    )
    if baseline is not None:
        print(baseline.row("bare temporalio"))
    print(ours.row("antifragile"))
    if baseline is not None:
        ratio = (ours.documents / ours.wall_seconds) / (baseline.documents / baseline.wall_seconds)
        print(f"ratio (antifragile / bare docs/s): {ratio:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
