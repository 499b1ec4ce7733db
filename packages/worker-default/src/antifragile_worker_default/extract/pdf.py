"""PDF text through PDFium (pypdfium2): ~300 pages/s on one core, against ~24 for pypdf.

Pages without a text layer are read by OCR (`ocr.py`); a page with one never is. The page count is
checked before any page is read, so a page tree that repeats one page a million times costs nothing.
"""

import re
import threading
from statistics import fmean

import pypdfium2 as pdfium
from antifragile_core.errors import (
    CORRUPT_DOCUMENT,
    DOCUMENT_TOO_LARGE,
    EMPTY_DOCUMENT,
    ENCRYPTED_DOCUMENT,
    bad_input,
)

from .base import PDF, Extracted, check_chars, title

_EMPTY_PAGE_TREE = re.compile(rb"<<(?=(?:(?!>>).)*?/Type\s*/Pages\b)(?=(?:(?!>>).)*?/Count\s+0\D)", re.S)
"""PDFium refuses a document whose page tree is empty without saying why (its last-error code is left from
whatever failed before in the thread), so the tree is looked for in the bytes."""

_PDFIUM = threading.Lock()
"""PDFium is not thread-safe; callers in one process take turns (the upload activity reads each document in
a child process of its own, `extraction_pool`)."""


def extract_pdf(
    data: bytes, *, max_pages: int | None = None, max_chars: int | None = None, ocr: bool = True
) -> Extracted:
    """All pages' text; pages are separated by a blank line."""
    with _PDFIUM:
        doc = _open(data)
        try:
            _check_pages(len(doc), max_pages)
            pages: list[str] = []
            ocr_pages: list[int] = []
            scores: list[float] = []
            chars = 0
            for index in range(len(doc)):
                page = doc[index]
                textpage = page.get_textpage()
                text = textpage.get_text_range().replace("\r\n", "\n")
                textpage.close()
                if ocr and not text.strip():
                    # Imported here: onnxruntime and OpenCV start threads, and the extraction processes
                    # are forked from a server that must not hold any; most documents never need them.
                    from .ocr import read_page

                    read = read_page(page)
                    if read.text.strip():
                        text = read.text
                        ocr_pages.append(index + 1)
                        scores.extend(read.scores)
                page.close()
                chars += len(text) + 2
                check_chars(chars, max_chars)
                pages.append(text)
            doc_title = doc.get_metadata_dict().get("Title")
        except pdfium.PdfiumError as e:
            raise bad_input(
                CORRUPT_DOCUMENT, f"a page of the PDF could not be read ({e}); re-export it and upload again"
            ) from None
        finally:
            doc.close()
    return Extracted(
        PDF,
        "\n\n".join(pages),
        len(pages),
        title(doc_title),
        ocr_pages=tuple(ocr_pages),
        ocr_confidence=fmean(scores) if scores else None,
    )


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if _EMPTY_PAGE_TREE.search(data):  # first: the error code may be a previous document's
            raise bad_input(EMPTY_DOCUMENT, "the PDF has no pages; export it again with its pages") from None
        if e.err_code == pdfium.raw.FPDF_ERR_PASSWORD:
            raise bad_input(
                ENCRYPTED_DOCUMENT, "the PDF is password-protected; upload an unencrypted copy"
            ) from None
        raise bad_input(
            CORRUPT_DOCUMENT, f"the PDF could not be read ({e}); re-export or repair it and upload again"
        ) from None


def _check_pages(pages: int, max_pages: int | None) -> None:
    if pages == 0:
        raise bad_input(EMPTY_DOCUMENT, "the PDF has no pages; export it again with its pages")
    if max_pages is not None and pages > max_pages:
        raise bad_input(
            DOCUMENT_TOO_LARGE,
            f"the PDF has {pages:,} pages, over the {max_pages:,}-page limit (MAX_DOCUMENT_PAGES); "
            "split it into smaller documents",
        )
