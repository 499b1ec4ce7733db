"""Text out of uploaded bytes: the type is read from the bytes themselves, never from the file name.

One module per format (`pdf`, `docx`, `xlsx`, `text`, `html`; `office` unpacks OOXML within bounds and
`ooxml` parses its parts safely). Everything here is synchronous and CPU-bound; the activity runs it in
a child process (`extraction_pool`), which bounds its time and memory. Bad input raises a non-retryable
ApplicationError whose message says what to do about it; `clean_text` (base) is the one place control
characters leave every format's text and title.

What each format uses, measured on the shared ingestion cases plus tests/fault_corpus
(benchmarks/extract_candidates.py; cases passed, refusals, limits and our output conventions such as
tab-separated rows and "[Header]" marks included, so the notes say what a wrapper could not fix):
- DOCX: lxml over the WordprocessingML (21/21). python-docx 1/21 (no text boxes, insertions, notes,
  headers; Strict fails); docx2python 8/21 (doubles text boxes and moved text, keeps deleted rows,
  fails on parts without an r: namespace); mammoth 7/21 (no headers, footers or footnotes).
- XLSX: lxml iterparse of the cells present, openpyxl only for date formats (9/9). openpyxl read-only
  trusts <dimension> (0/9; a two-cell sheet claiming a million rows runs for minutes), with
  reset_dimensions 2/9 (formulas without a cached value vanish, a million-row claim is walked row by
  row); python-calamine 2/9 (formula text lost; ~4 s to materialise a two-cell sheet that claims a
  million rows, failing the 5 s bound on a busy machine; 30 MB of shared strings expanded before any
  limit can act).
- Text/MD/CSV: BOM, UTF-16 by its NUL pattern, UTF-8, a declared charset, lenient UTF-8, then
  charset-normalizer among legacy encodings, cp1252 winning ties (18/18). charset-normalizer alone
  8/18 (short Western text read as cp1250/Mac Roman, one bad byte turns UTF-8 into mojibake);
  UTF-8 else cp1252 (the previous code) 4/18.
- HTML: selectolax (lexbor), recognised by content (prolog, doctype, fragments).
"""

import dataclasses
import hashlib

from antifragile_core.errors import DOCUMENT_TOO_LARGE, EMPTY_DOCUMENT, UNSUPPORTED_TYPE, bad_input

from .base import (
    CSV,
    DOCX,
    HTML,
    MARKDOWN,
    PDF,
    SUPPORTED,
    TXT,
    XLSX,
    Extracted,
    OfficeLimits,
    check_chars,
    clean_text,
    pieces,
)
from .office import extract_office
from .pdf import extract_pdf
from .text import extract_text

__all__ = [
    "CSV",
    "DOCX",
    "HTML",
    "MARKDOWN",
    "PDF",
    "TXT",
    "XLSX",
    "Extracted",
    "check_size",
    "clean_text",
    "extract",
    "text_hash",
]

_NOT_TEXT = f"upload a document with text ({SUPPORTED})"
_REFUSED_MAGIC = (
    (
        b"\xd0\xcf\x11\xe0",
        "a legacy or password-protected Office file (.doc/.xls); save it unencrypted as DOCX or XLSX",
    ),
    (b"{\\rtf", "an RTF file; save it as DOCX or PDF"),
    (b"\x89PNG", f"a PNG image; {_NOT_TEXT}"),
    (b"\xff\xd8\xff", f"a JPEG image; {_NOT_TEXT}"),
    (b"GIF8", f"a GIF image; {_NOT_TEXT}"),
    (b"\x1f\x8b", "a gzip archive; unpack it and upload the documents inside"),
    (b"7z\xbc\xaf", "a 7-Zip archive; unpack it and upload the documents inside"),
    (b"Rar!", "a RAR archive; unpack it and upload the documents inside"),
    (b"\x7fELF", "an executable, not a document"),
)


def check_size(size: int, max_bytes: int) -> None:
    """Refuse a file over the size limit (checked before it is read, and again on the bytes)."""
    if size > max_bytes:
        raise bad_input(
            DOCUMENT_TOO_LARGE,
            f"the file is {size:,} bytes, over the {max_bytes:,}-byte limit; split it or compress its images",
        )


def extract(
    data: bytes,
    max_bytes: int,
    *,
    max_pages: int | None = None,
    max_chars: int | None = None,
    max_cells: int | None = None,
    max_xml_depth: int = 256,
    ocr: bool = True,
) -> Extracted:
    """Detect the type of `data` and extract its text, page count and title.

    `max_pages`, `max_chars`, `max_cells` (None: unlimited) and `max_xml_depth` refuse a document past
    them; `ocr` reads PDF pages without a text layer by OCR.
    """
    if not data:
        raise bad_input(EMPTY_DOCUMENT, "the file is empty (0 bytes); upload the document again")
    check_size(len(data), max_bytes)
    if b"%PDF-" in data[:1024]:
        result = extract_pdf(data, max_pages=max_pages, max_chars=max_chars, ocr=ocr)
    elif data.startswith(b"PK\x03\x04"):
        result = extract_office(data, max_bytes, OfficeLimits(max_chars, max_cells, max_xml_depth))
    else:
        for magic, what in _REFUSED_MAGIC:
            if data.startswith(magic):
                raise bad_input(UNSUPPORTED_TYPE, f"the file is {what}")
        result = extract_text(data)
    check_chars(len(result.text), max_chars, max_bytes)
    result = dataclasses.replace(result, text=clean_text(result.text))
    if not result.text or result.text.isspace():
        raise bad_input(
            EMPTY_DOCUMENT,
            "the document contains no extractable text (a scan?); upload a version with a text layer",
        )
    return result


def text_hash(text: str) -> str:
    """Hash of `text` modulo case and whitespace: the same content in two formats matches."""
    digest = hashlib.sha256()
    for piece in pieces(text):
        words = piece.casefold().split()
        if words:
            digest.update((" ".join(words) + " ").encode())
    return digest.hexdigest()
