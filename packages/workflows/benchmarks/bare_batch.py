"""The baseline of document_batches.py: DocumentProcessingWorkflow's shape in bare temporalio. The same
pages, window, continue-as-new and children, and the same number of activities per document, all no-ops."""

import asyncio
from dataclasses import dataclass, replace
from datetime import timedelta

from temporalio import activity, workflow

PAGE = 200
TIMEOUT = timedelta(seconds=30)


@dataclass
class Item:
    seq: int
    filename: str
    upload_key: str


@dataclass
class Page:
    batch_id: str
    start: int
    limit: int
    total: int


@dataclass
class Batch:
    batch_id: str
    total: int
    window: int
    per_run: int
    start: int = 0


@activity.defn
async def read_page(page: Page) -> list[Item]:
    end = min(page.start + page.limit, page.total)
    return [
        Item(seq, f"note-{seq}.txt", f"orgs/bench/uploads/{page.batch_id}/{seq}")
        for seq in range(page.start, end)
    ]


@activity.defn
async def noop(item: Item) -> Item:
    return item


@workflow.defn
class BareDocumentWorkflow:
    @workflow.run
    async def run(self, item: Item) -> bool:
        for _ in range(2):  # process_document_upload, record_document_outcome
            await workflow.execute_activity(noop, item, start_to_close_timeout=TIMEOUT)
        return True


@workflow.defn
class BareBatchWorkflow:
    def __init__(self) -> None:
        self._children: set[asyncio.Task[bool]] = set()

    @workflow.run
    async def run(self, batch: Batch) -> int:
        cursor, end = batch.start, min(batch.start + batch.per_run, batch.total)
        while cursor < end:
            page = Page(batch.batch_id, cursor, min(PAGE, end - cursor), batch.total)
            items = await workflow.execute_activity(read_page, page, start_to_close_timeout=TIMEOUT)
            for item in items:
                await workflow.wait_condition(lambda: len(self._children) < batch.window)
                child = asyncio.create_task(
                    workflow.execute_child_workflow(
                        BareDocumentWorkflow.run, item, id=f"{workflow.info().workflow_id}-{item.seq}"
                    )
                )
                self._children.add(child)
                child.add_done_callback(self._children.discard)
            cursor = items[-1].seq + 1
        await workflow.wait_condition(lambda: not self._children)
        if cursor < batch.total:
            workflow.continue_as_new(replace(batch, start=cursor))
        last = Item(batch.total, "", "")
        for _ in range(2):  # validate_training_readiness, summarize_document_batch
            await workflow.execute_activity(noop, last, start_to_close_timeout=TIMEOUT)
        return batch.total
