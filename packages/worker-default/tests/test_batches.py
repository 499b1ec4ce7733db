"""The batch activities on their own: pages of the manifest in order, an outcome written once however
often it is recorded, a summary bounded whatever the number of failures, and no batch of another org."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from antifragile_cli.batches import register_batch
from antifragile_core.contracts.base import ActivityContract
from antifragile_core.contracts.batches import (
    MAX_FAILURES_SHOWN,
    READ_DOCUMENT_BATCH,
    RECORD_DOCUMENT_OUTCOME,
    SUMMARIZE_DOCUMENT_BATCH,
    BatchPageRequest,
    BatchRef,
    DocumentOutcome,
    StepError,
)
from antifragile_core.errors import CORRUPT_DOCUMENT, NOT_FOUND
from antifragile_worker_default.resources import Resources
from temporalio.exceptions import ApplicationError

Run = Callable[[Resources, ActivityContract[Any, Any], Any], Awaitable[Any]]


async def test_pages_outcomes_and_summary(resources: Resources, run_activity: Run, org_id: str) -> None:
    files = [(f"f{i}.txt", b"x") for i in range(25)]
    batch = await register_batch(resources.settings, org_id, files, llm_skipped_reason="not under test")
    ref = BatchRef(organization_id=org_id, batch_id=batch.batch_id)

    page = await run_activity(
        resources, READ_DOCUMENT_BATCH, BatchPageRequest(**ref.model_dump(), start=20, limit=10)
    )
    assert page.total == 25 and [i.seq for i in page.items] == [20, 21, 22, 23, 24]
    assert page.items[0].upload.filename == "f20.txt" and page.items[0].upload.organization_id == org_id

    error = StepError(step="process", type=CORRUPT_DOCUMENT, message="broken; upload a readable copy")
    for seq in range(15):
        failed = DocumentOutcome(**ref.model_dump(), seq=seq, status="failed", errors=[error])
        first = await run_activity(resources, RECORD_DOCUMENT_OUTCOME, failed)
        again = await run_activity(resources, RECORD_DOCUMENT_OUTCOME, failed)  # a retry changes nothing
        assert (first.first_time, again.first_time) == (True, False)

    summary = await run_activity(resources, SUMMARIZE_DOCUMENT_BATCH, ref)
    assert (summary.total, summary.done, summary.failed, summary.pending) == (25, 0, 15, 10)
    assert summary.failures_by_type == {CORRUPT_DOCUMENT: 15}
    assert [f.seq for f in summary.first_failures] == list(range(MAX_FAILURES_SHOWN))
    assert summary.first_failures[0].errors == [error]


async def test_another_organisations_batch_is_not_found(
    resources: Resources, run_activity: Run, org_id: str
) -> None:
    batch = await register_batch(resources.settings, org_id, [("a.txt", b"a")], llm_skipped_reason=None)
    other = BatchRef(organization_id=f"{org_id}-other", batch_id=batch.batch_id)
    for contract, arg in (
        (READ_DOCUMENT_BATCH, BatchPageRequest(**other.model_dump(), start=0, limit=10)),
        (RECORD_DOCUMENT_OUTCOME, DocumentOutcome(**other.model_dump(), seq=0, status="done")),
        (SUMMARIZE_DOCUMENT_BATCH, other),
    ):
        with pytest.raises(ApplicationError) as err:
            await run_activity(resources, contract, arg)
        assert err.value.type == NOT_FOUND and err.value.non_retryable
