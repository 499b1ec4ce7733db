"""OCR of scanned PDF pages: read and recorded through the real upload path, never on a page with a text
layer, and an empty scan or OCR_ENABLED=false still ends EmptyDocument."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from antifragile_core import errors
from antifragile_core.contracts.documents import OCR_PAGES_CHARS, PROCESS_DOCUMENT_UPLOAD, DocumentUpload
from antifragile_core.storage import ObjectStore
from antifragile_worker_default.documents import page_ranges
from antifragile_worker_default.extract import extract
from antifragile_worker_default.resources import Resources
from temporalio.exceptions import ApplicationError

Run = Callable[[Resources, Any, Any], Awaitable[Any]]
Stage = Callable[[ObjectStore, str, str, bytes], Awaitable[DocumentUpload]]

TYPED = "Typed cover page: strategy review 2027."
SCANNED = ["Quarterly board report on supplier risk", "Revenue grew eleven percent in the north"]


async def test_scanned_page_is_read_and_recorded(
    resources: Resources, run_activity: Run, stage: Stage, samples: Any, org_id: str
) -> None:
    upload = await stage(resources.store, org_id, "board pack.pdf", samples.scan([TYPED, SCANNED]))
    doc = await run_activity(resources, PROCESS_DOCUMENT_UPLOAD, upload)

    typed, scanned = (await resources.store.get(doc.text_key)).decode().split("\n\n")
    assert typed == TYPED  # the page with a text layer is taken as it is, never OCR'd
    assert scanned.lower().split() == " ".join(SCANNED).lower().split()
    assert (doc.page_count, doc.ocr_pages) == (2, "2")
    assert doc.ocr_confidence is not None and 0.5 < doc.ocr_confidence <= 1
    row = await resources.pool.fetchrow(
        "SELECT ocr_pages, ocr_confidence FROM documents WHERE id = $1", uuid.UUID(doc.document_id)
    )
    assert (row["ocr_pages"], row["ocr_confidence"]) == ([2], pytest.approx(doc.ocr_confidence))


@pytest.mark.parametrize(("pages", "ocr"), [([[]], True), ([SCANNED], False)], ids=["blank scan", "ocr off"])
def test_scan_without_text_read_is_empty(pages: list[list[str]], ocr: bool, samples: Any) -> None:
    with pytest.raises(ApplicationError) as caught:
        extract(samples.scan(pages), 1_000_000, ocr=ocr)
    assert (caught.value.type, caught.value.non_retryable) == (errors.EMPTY_DOCUMENT, True)


def test_ocr_pages_reach_history_as_bounded_ranges() -> None:
    assert page_ranges([1, 2, 3, 5, 7, 8]) == "1-3, 5, 7-8"
    every_other = page_ranges(range(1, 2001, 2))
    assert len(every_other) <= OCR_PAGES_CHARS and every_other.startswith("1, 3, 5")
    assert every_other.endswith(", … (1000 pages)")
