"""PDF extraction in process: empty and amplified page trees, the page and text limits, control
characters in titles and text."""

import time
from typing import Any

import pytest
from antifragile_core import errors
from antifragile_worker_default.extract import extract
from temporalio.exceptions import ApplicationError

LIMIT = 1_000_000


def _refused(data: bytes, **limits: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        extract(data, LIMIT, **limits)
    assert caught.value.non_retryable
    return caught.value


def test_zero_page_pdf_is_empty(samples: Any) -> None:
    data = samples.raw_pdf(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>")
    assert (
        _refused(b"%PDF-1.7\n1 0 obj <<< garbage").type == errors.CORRUPT_DOCUMENT
    )  # sets PDFium's last error
    error = _refused(data)
    assert error.type == errors.EMPTY_DOCUMENT and "no pages" in error.message


def test_repeated_page_references_are_read_within_bounds(samples: Any) -> None:
    started = time.perf_counter()
    result = extract(samples.repeated_page_pdf(100, 100), LIMIT, max_pages=10_000, max_chars=1_000_000)
    assert time.perf_counter() - started < 60
    assert result.page_count == 10_000 and result.text.startswith("Repeated page body")


def test_page_limit_is_checked_before_any_page_is_read(samples: Any) -> None:
    started = time.perf_counter()
    error = _refused(samples.repeated_page_pdf(1000, 1000), max_pages=10_000)
    assert time.perf_counter() - started < 5  # a million pages, none of them read
    assert error.type == errors.DOCUMENT_TOO_LARGE
    assert "1,000,000 pages" in error.message and "MAX_DOCUMENT_PAGES" in error.message


@pytest.mark.parametrize("kind", ["pdf", "text"])
def test_text_limit(kind: str, samples: Any) -> None:
    data = samples.pdf(["growth " * 300] * 3) if kind == "pdf" else b"growth " * 900
    assert len(extract(data, LIMIT, max_chars=7_000).text) > 5_000
    error = _refused(data, max_chars=5_000)
    assert error.type == errors.DOCUMENT_TOO_LARGE and "MAX_DOCUMENT_CHARS" in error.message


def test_control_characters_leave_pdf_title_and_text(samples: Any) -> None:
    result = extract(samples.pdf(["Risks\x07 and\x00 gains"], title="Board\x00 Report\x07 2027"), LIMIT)
    assert (result.title, result.text) == ("Board Report 2027", "Risks and gains")
