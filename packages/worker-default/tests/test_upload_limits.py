"""Bounded work per upload: limits refuse with DocumentTooLarge naming the setting, a document past its time
is killed without harm to the others, and a slow document never holds up a small one."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from itertools import pairwise
from typing import Any

import pytest
from antifragile_core import errors
from antifragile_core.contracts.documents import PROCESS_DOCUMENT_UPLOAD, DocumentUpload
from antifragile_core.storage import ObjectStore, org_key
from antifragile_worker_default import documents
from antifragile_worker_default.extraction_pool import ExtractionPool, Limits
from antifragile_worker_default.resources import Resources
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

Run = Callable[[Resources, Any, Any], Awaitable[Any]]
Stage = Callable[[ObjectStore, str, str, bytes], Awaitable[DocumentUpload]]

LINES = ["Minutes of the risk committee", "Supplier concentration remains the main exposure"]
MEMO = "A short memo on hiring."


async def test_page_limit_refuses_the_upload_and_writes_nothing(
    make_resources: Any, run_activity: Run, stage: Stage, samples: Any, org_id: str
) -> None:
    async with make_resources(max_document_pages=2) as res:
        upload = await stage(res.store, org_id, "long.pdf", samples.pdf(["one", "two", "three"]))
        with pytest.raises(ApplicationError) as caught:
            await run_activity(res, PROCESS_DOCUMENT_UPLOAD, upload)
        assert (caught.value.type, caught.value.non_retryable) == (errors.DOCUMENT_TOO_LARGE, True)
        assert "3 pages" in caught.value.message and "MAX_DOCUMENT_PAGES" in caught.value.message
        assert await res.store.list_objects(org_key(org_id, "documents") + "/") == []


async def test_time_limit_kills_only_that_document(samples: Any) -> None:
    """The scan (OCR of six pages, seconds) passes its 1-s limit and its child is killed; the memo read
    beside it in the other child, and the next document after, are unharmed."""
    pool = ExtractionPool(
        Limits(max_bytes=10**7, max_pages=100, max_chars=10**6, seconds=1.0, memory_mb=4096, ocr=True),
        processes=2,
    )
    memo = samples.pdf([MEMO])
    started = time.perf_counter()
    slow, small = await asyncio.gather(
        pool.extract(samples.scan([LINES] * 6)), pool.extract(memo), return_exceptions=True
    )
    assert isinstance(slow, ApplicationError) and slow.type == errors.DOCUMENT_TOO_LARGE, slow
    assert "MAX_EXTRACT_SECONDS" in slow.message
    assert not isinstance(small, BaseException) and small.text == MEMO
    assert time.perf_counter() - started < 30  # child start-ups (~1 s each) + the 1-s limit, not the OCR
    assert (await pool.extract(memo)).text == MEMO


async def test_memory_limit_refuses_the_document_and_replaces_its_child(samples: Any) -> None:
    """700 MB of address space reads a text PDF but cannot load the OCR models (over 1 GB)."""
    pool = ExtractionPool(
        Limits(max_bytes=10**7, max_pages=100, max_chars=10**6, seconds=120, memory_mb=700, ocr=True),
        processes=1,
    )
    with pytest.raises(ApplicationError) as caught:
        await pool.extract(samples.scan([LINES]))
    assert (caught.value.type, caught.value.non_retryable) == (errors.DOCUMENT_TOO_LARGE, True)
    assert "MAX_EXTRACT_MEMORY_MB" in caught.value.message
    assert (await pool.extract(samples.pdf([MEMO]))).text == MEMO


async def test_upload_heartbeats_until_its_document_passes_the_time_limit(
    make_resources: Any, stage: Stage, samples: Any, org_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "HEARTBEAT_SECONDS", 0.1)
    beats: list[float] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append(time.perf_counter())
    async with make_resources(max_extract_seconds=1.0) as res:
        upload = await stage(res.store, org_id, "scan.pdf", samples.scan([LINES] * 6))
        with pytest.raises(ApplicationError) as caught:
            await env.run(documents.activities(res)[0], upload)
    assert (caught.value.type, caught.value.non_retryable) == (errors.DOCUMENT_TOO_LARGE, True)
    assert "MAX_EXTRACT_SECONDS" in caught.value.message
    assert len(beats) >= 5 and max(b - a for a, b in pairwise(beats)) < 1


async def test_slow_document_does_not_hold_up_a_small_one(
    resources: Resources, run_activity: Run, stage: Stage, samples: Any, org_id: str
) -> None:
    """Two PDFs on one worker: before child processes, one lock serialised all PDFium work in the worker."""
    scan = await stage(
        resources.store, org_id, "scan.pdf", samples.scan([LINES] * 4)
    )  # seconds of OCR, even on a fast machine
    memo = await stage(resources.store, org_id, "memo.pdf", samples.pdf([MEMO]))
    finished: list[str] = []

    async def process(upload: DocumentUpload) -> None:
        finished.append((await run_activity(resources, PROCESS_DOCUMENT_UPLOAD, upload)).filename)

    slow = asyncio.create_task(process(scan))
    await asyncio.sleep(1.0)  # the scan is being read by now
    await process(memo)
    assert finished == ["memo.pdf"]
    await slow
    assert finished == ["memo.pdf", "scan.pdf"]
