"""Extraction on genuine files of each format, and a clear non-retryable error for each bad input."""

import codecs
import io
import os
import zipfile
from typing import Any

import pytest
from antifragile_core import errors
from antifragile_worker_default.extract import (
    CSV,
    DOCX,
    HTML,
    MARKDOWN,
    PDF,
    TXT,
    XLSX,
    clean_text,
    extract,
    text_hash,
)
from fault_corpus.ooxml import cell, docx, p, xlsx
from temporalio.exceptions import ApplicationError

LIMIT = 1_000_000


def test_pdf_pages_text_and_title(samples: Any) -> None:
    data = samples.pdf(["First page about market growth.", "Second page on risks.", "Third."], "Plan 2027")
    result = extract(data, LIMIT)
    assert (result.media_type, result.page_count, result.title) == (PDF, 3, "Plan 2027")
    assert result.text.split("\n\n") == ["First page about market growth.", "Second page on risks.", "Third."]


def test_pdf_without_title_metadata(samples: Any) -> None:
    assert extract(samples.pdf(["Just text."]), LIMIT).title is None


def test_docx_paragraphs_tables_title_and_pages(samples: Any) -> None:
    data = samples.docx(
        ["Our strategy is resilience.", "We grow by learning."],
        title="Strategy Paper",
        heading="Introduction",
        table=[["Risk", "Impact"], ["Supply", "High"]],
        page_breaks=2,
    )
    result = extract(data, LIMIT)
    assert (result.media_type, result.title, result.page_count) == (DOCX, "Strategy Paper", 3)
    assert result.text.splitlines()[:3] == [
        "Introduction",
        "Our strategy is resilience.",
        "We grow by learning.",
    ]
    assert "Risk\tImpact\nSupply\tHigh" in result.text


def test_docx_title_falls_back_to_first_heading(samples: Any) -> None:
    result = extract(samples.docx(["Body."], heading="SWOT Analysis"), LIMIT)
    assert (result.title, result.page_count) == ("SWOT Analysis", 1)


def test_xlsx_sheets_rows_and_title(samples: Any) -> None:
    data = samples.xlsx(
        {"Strengths": [["Item", "Score"], ["Brand", 9], [None, None]], "Threats": [["New entrant", 7.5]]},
        title="SWOT",
    )
    result = extract(data, LIMIT)
    assert (result.media_type, result.title, result.page_count) == (XLSX, "SWOT", 2)
    assert result.text == "# Strengths\nItem\tScore\nBrand\t9\n# Threats\nNew entrant\t7.5"


@pytest.mark.parametrize(
    ("data", "media_type", "title", "text"),
    [
        (b"Plain notes.\r\nSecond line.", TXT, None, "Plain notes.\nSecond line."),
        (b"# Vision\n\nWe aim high.\n\n- one\n", MARKDOWN, "Vision", "# Vision\n\nWe aim high.\n\n- one\n"),
        (b"name,score\nalpha,1\nbeta,2\n", CSV, None, "name,score\nalpha,1\nbeta,2\n"),
        (codecs.BOM_UTF8 + "Caf\u00e9 strat\u00e9gie".encode(), TXT, None, "Caf\u00e9 strat\u00e9gie"),
        ("Na\u00efve \u201cquotes\u201d".encode("cp1252"), TXT, None, "Na\u00efve \u201cquotes\u201d"),
        (codecs.BOM_UTF16_LE + "UTF-16 text".encode("utf-16-le"), TXT, None, "UTF-16 text"),
    ],
)
def test_text_kinds_from_bytes(data: bytes, media_type: str, title: str | None, text: str) -> None:
    result = extract(data, LIMIT)
    assert (result.media_type, result.title, result.page_count, result.text) == (media_type, title, 1, text)


def test_html_text_without_markup_or_scripts() -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>Annual Report</title><style>p{color:red}</style>"
        b"<script>var secret = 1;</script></head><body><h1>Results</h1><p>Revenue <b>grew</b> 12%.</p>"
        b"<ul><li>North</li><li>South</li></ul></body></html>"
    )
    result = extract(page, LIMIT)
    assert (result.media_type, result.title) == (HTML, "Annual Report")
    assert result.text == "Results\nRevenue grew 12%.\nNorth\nSouth"


def test_near_duplicate_text_hash_ignores_case_and_whitespace() -> None:
    a = text_hash(extract(b"Growth  through\nlearning.", LIMIT).text)
    b = text_hash(extract(b"growth through learning.\n", LIMIT).text)
    c = text_hash(extract(b"growth through failing.", LIMIT).text)
    assert a == b != c


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


BAD_INPUTS = {
    "zero bytes": (lambda s: b"", errors.EMPTY_DOCUMENT, "empty"),
    "encrypted pdf": (lambda s: s.encrypted_pdf(), errors.ENCRYPTED_DOCUMENT, "password-protected"),
    "corrupt pdf": (
        lambda s: b"%PDF-1.7\n" + os.urandom(2000),
        errors.CORRUPT_DOCUMENT,
        "PDF could not be read",
    ),
    "truncated pdf": (lambda s: s.pdf(["x" * 500] * 3)[:700], errors.CORRUPT_DOCUMENT, "PDF"),
    "pdf without text": (lambda s: s.pdf([""]), errors.EMPTY_DOCUMENT, "no extractable text"),
    "png image": (lambda s: b"\x89PNG\r\n\x1a\n" + bytes(200), errors.UNSUPPORTED_TYPE, "PNG"),
    "binary garbage": (lambda s: os.urandom(4096), errors.UNSUPPORTED_TYPE, "neither text"),
    "legacy office": (
        lambda s: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
        errors.UNSUPPORTED_TYPE,
        ".doc",
    ),
    "plain zip": (lambda s: _zip({"notes.txt": b"hi"}), errors.UNSUPPORTED_TYPE, "not DOCX or XLSX"),
    "damaged zip": (lambda s: b"PK\x03\x04" + bytes(100), errors.CORRUPT_DOCUMENT, "damaged"),
    "corrupt docx": (
        lambda s: _zip({"[Content_Types].xml": b"<nope", "word/document.xml": b"<w:document"}),
        errors.CORRUPT_DOCUMENT,
        "DOCX file is damaged",
    ),
    "unreadable strict docx": (
        lambda s: docx("<w:p>", strict=True),
        errors.UNSUPPORTED_TYPE,
        "saved as Strict Open XML and could not be read (bad XML",
    ),
    "zip bomb": (
        lambda s: _zip({"word/document.xml": bytes(30 * LIMIT)}),
        errors.DOCUMENT_TOO_LARGE,
        "unpacks to",
    ),
    "over the limit": (
        lambda s: b"a" * (LIMIT + 1),
        errors.DOCUMENT_TOO_LARGE,
        "over the 1,000,000-byte limit",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_a_clear_non_retryable_error(case: str, samples: Any) -> None:
    make, error_type, words = BAD_INPUTS[case]
    with pytest.raises(ApplicationError) as caught:
        extract(make(samples), LIMIT)
    assert caught.value.type == error_type
    assert caught.value.non_retryable
    assert words in caught.value.message


def _cells(count: int) -> bytes:
    rows = "".join(
        f'<row r="{r}">' + cell(f"A{r}", f"value {r}", kind="inlineStr") + "</row>"
        for r in range(1, count + 1)
    )
    return xlsx({"Data": rows})


LIMITS = {
    "cells": (lambda: _cells(10), {"max_cells": 5}, "MAX_XLSX_CELLS"),
    "xlsx text": (lambda: _cells(50), {"max_chars": 200}, "MAX_DOCUMENT_CHARS"),
    "plain text": (lambda: b"words " * 100, {"max_chars": 200}, "MAX_DOCUMENT_CHARS"),
    "text amplification": (
        lambda: xlsx(
            {"S": "".join(f'<row r="{r}">{cell(f"A{r}", "0", kind="s")}</row>' for r in range(1, 201))},
            shared=["x" * 1000],
        ),
        {},
        "20x the",
    ),
    "xml depth": (
        lambda: docx("<w:customXml>" * 30 + p("deep") + "</w:customXml>" * 30),
        {"max_xml_depth": 20},
        "MAX_XML_DEPTH",
    ),
    "parser depth": (
        lambda: docx("<w:customXml>" * 300 + p("deep") + "</w:customXml>" * 300),
        {},
        "256 levels",
    ),
}


@pytest.mark.parametrize("case", LIMITS, ids=list(LIMITS))
def test_past_a_limit_is_document_too_large_naming_it(case: str) -> None:
    make, limits, words = LIMITS[case]
    data = make()
    with pytest.raises(ApplicationError) as caught:
        extract(data, len(data) if case == "text amplification" else LIMIT, **limits)
    assert (caught.value.type, caught.value.non_retryable) == (errors.DOCUMENT_TOO_LARGE, True)
    assert words in caught.value.message


def test_within_the_limits_the_same_files_are_read() -> None:
    assert extract(_cells(5), LIMIT, max_cells=5).text.endswith("value 5")
    nested = docx("<w:customXml>" * 15 + p("deep") + "</w:customXml>" * 15)
    assert extract(nested, LIMIT, max_xml_depth=20).text == "deep"


def test_clean_text_keeps_tabs_and_newlines_only() -> None:
    dirty = "a\x00b\tc\r\nd\re\x0bf\x0cg\x85h\x1b\x7f\x9bi\ud800"
    assert clean_text(dirty) == "ab\tc\nd\ne\nf\ng\nhi\ufffd"
    assert clean_text("plain\ttext\n") == "plain\ttext\n"
