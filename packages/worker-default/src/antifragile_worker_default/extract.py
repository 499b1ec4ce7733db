"""Text out of uploaded bytes: the type is read from the bytes themselves, never from the file name.

Everything here is synchronous and CPU-bound; the activity runs it in a thread. Bad input raises a
non-retryable ApplicationError whose message says what to do about it.
"""

import codecs
import csv
import hashlib
import io
import re
import threading
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import docx
import openpyxl
import pypdfium2 as pdfium
from antifragile_core.errors import (
    CORRUPT_DOCUMENT,
    DOCUMENT_TOO_LARGE,
    EMPTY_DOCUMENT,
    ENCRYPTED_DOCUMENT,
    UNSUPPORTED_TYPE,
    bad_input,
)
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.table import Table
from selectolax.lexbor import LexborHTMLParser

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TXT = "text/plain"
MARKDOWN = "text/markdown"
CSV = "text/csv"
HTML = "text/html"

MAX_TITLE_CHARS = 300
SNIFF_CHARS = 65_536
"""Markdown or CSV is decided from the text's start."""
CHUNK_CHARS = 1 << 20
"""Big texts are scanned in pieces: one C call on 50 MB would hold the GIL, and stall the worker's
event loop (heartbeats, polling), for the whole call."""
MAX_EXPANSION = 20
"""A DOCX/XLSX may unzip to at most this many times the size limit (a zip bomb would not stop)."""

_PDFIUM = threading.Lock()
"""PDFium is not thread-safe; concurrent activities take turns (one core does ~300 pages/s)."""

SUPPORTED = "PDF, DOCX, XLSX, TXT, MD, CSV, HTML"
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
_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)[\s>]", re.I | re.S)
_BLOCK_TAGS = "p,div,br,li,tr,h1,h2,h3,h4,h5,h6,section,article,header,footer,blockquote,pre,table,dt,dd"
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_MD_MARKUP = re.compile(r"^( {0,3}#{1,6}\s|\s*[-*+]\s|\s*\d+\.\s|```|>\s)|\[[^\]]+\]\([^)]+\)", re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
"""Control characters other than tab, newline, carriage return and form feed: a sign of binary data."""
_SPACES = re.compile(r"[ \u00a0]+")


@dataclass(frozen=True)
class Extracted:
    media_type: str
    text: str
    page_count: int
    title: str | None


def check_size(size: int, max_bytes: int) -> None:
    """Refuse a file over the size limit (checked before it is read, and again on the bytes)."""
    if size > max_bytes:
        raise bad_input(
            DOCUMENT_TOO_LARGE,
            f"the file is {size:,} bytes, over the {max_bytes:,}-byte limit; split it or compress its images",
        )


def extract(data: bytes, max_bytes: int) -> Extracted:
    """Detect the type of `data` and extract its text, page count and title."""
    if not data:
        raise bad_input(EMPTY_DOCUMENT, "the file is empty (0 bytes); upload the document again")
    check_size(len(data), max_bytes)
    if b"%PDF-" in data[:1024]:
        result = extract_pdf(data)
    elif data.startswith(b"PK\x03\x04"):
        result = _extract_office(data, max_bytes)
    else:
        for magic, what in _REFUSED_MAGIC:
            if data.startswith(magic):
                raise bad_input(UNSUPPORTED_TYPE, f"the file is {what}")
        result = _extract_text(data)
    if not result.text or result.text.isspace():
        raise bad_input(
            EMPTY_DOCUMENT,
            "the document contains no extractable text (a scan?); upload a version with a text layer",
        )
    return result


def text_hash(text: str) -> str:
    """Hash of `text` modulo case and whitespace: the same content in two formats matches."""
    digest = hashlib.sha256()
    for piece in _pieces(text):
        words = piece.casefold().split()
        if words:
            digest.update((" ".join(words) + " ").encode())
    return digest.hexdigest()


def _pieces(text: str) -> Iterator[str]:
    """`text` in pieces of about CHUNK_CHARS, cut at a space or newline where there is one."""
    start = 0
    while start < len(text):
        end = start + CHUNK_CHARS
        if end < len(text):
            cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
            end = cut if cut > start else end
        yield text[start:end]
        start = end


def extract_pdf(data: bytes) -> Extracted:
    """All pages' text through PDFium; pages are separated by a blank line."""
    with _PDFIUM:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as e:
            if e.err_code == pdfium.raw.FPDF_ERR_PASSWORD:
                raise bad_input(
                    ENCRYPTED_DOCUMENT, "the PDF is password-protected; upload an unencrypted copy"
                ) from None
            raise bad_input(
                CORRUPT_DOCUMENT, f"the PDF could not be read ({e}); re-export or repair it and upload again"
            ) from None
        try:
            pages = []
            for index in range(len(doc)):
                page = doc[index]
                textpage = page.get_textpage()
                pages.append(textpage.get_text_range().replace("\r\n", "\n"))
                textpage.close()
                page.close()
            title = doc.get_metadata_dict().get("Title")
        except pdfium.PdfiumError as e:
            raise bad_input(
                CORRUPT_DOCUMENT, f"a page of the PDF could not be read ({e}); re-export it and upload again"
            ) from None
        finally:
            doc.close()
    return Extracted(PDF, "\n\n".join(pages), len(pages), _title(title))


def _extract_office(data: bytes, max_bytes: int) -> Extracted:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            expanded = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise bad_input(
            CORRUPT_DOCUMENT, "the file looks like a ZIP/Office file but is damaged; save it again and upload"
        ) from None
    if expanded > MAX_EXPANSION * max_bytes:
        raise bad_input(
            DOCUMENT_TOO_LARGE,
            f"the file unpacks to {expanded:,} bytes, over {MAX_EXPANSION}x the size limit; split it",
        )
    if "word/document.xml" in names:
        kind, parse = "DOCX", _docx
    elif "xl/workbook.xml" in names:
        kind, parse = "XLSX", _xlsx
    else:
        raise bad_input(
            UNSUPPORTED_TYPE,
            "the file is a ZIP archive but not DOCX or XLSX; upload the documents themselves",
        )
    try:
        return parse(data)
    except Exception as e:  # parsers of untrusted files fail in many ways; each means "damaged"
        raise bad_input(
            CORRUPT_DOCUMENT, f"the {kind} file is damaged ({type(e).__name__}); save it again and upload"
        ) from None


def _docx(data: bytes) -> Extracted:
    document = docx.Document(io.BytesIO(data))
    lines, heading = [], None
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_cells_text(cell.text for cell in row.cells) for row in block.rows)
            continue
        lines.append(block.text)
        style = block.style.name if block.style is not None else ""
        if heading is None and block.text.strip() and style.startswith(("Title", "Heading")):
            heading = block.text
    return Extracted(
        DOCX,
        _tidy("\n".join(lines)),
        _docx_pages(document),
        _title(document.core_properties.title or heading),
    )


def _docx_pages(document: DocxDocument) -> int:
    """Layout is not computed: the larger of the page count the writing app recorded (Word keeps it
    current, other writers copy a template's) and the hard page breaks + 1."""
    recorded = 0
    for rel in document.part.package.rels.values():
        if rel.reltype == RELATIONSHIP_TYPE.EXTENDED_PROPERTIES:
            match = re.search(rb"<(?:\w+:)?Pages>(\d+)<", rel.target_part.blob)
            recorded = int(match[1]) if match else 0
    return max(recorded, 1 + len(document.element.body.xpath('.//w:br[@w:type="page"]')))


def _xlsx(data: bytes) -> Extracted:
    """Each sheet as its name, then one tab-separated line per non-empty row; a sheet counts as a page."""
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        lines = []
        for sheet in workbook.worksheets:
            lines.append(f"# {sheet.title}")
            for row in sheet.iter_rows(values_only=True):
                if any(value is not None for value in row):
                    lines.append("\t".join("" if value is None else str(value) for value in row).rstrip("\t"))
        title = workbook.properties.title
        pages = len(workbook.worksheets)
    finally:
        workbook.close()
    return Extracted(XLSX, "\n".join(lines), pages, _title(title))


def _extract_text(data: bytes) -> Extracted:
    text = _decode(data)
    if _HTML_START.match(text[:4096]):
        return _html(text)
    if _looks_like_csv(text):
        return Extracted(CSV, text, 1, None)
    if _MD_MARKUP.search(text, 0, SNIFF_CHARS):
        heading = _MD_HEADING.search(text, 0, SNIFF_CHARS)
        return Extracted(MARKDOWN, text, 1, _title(heading[1] if heading else None))
    return Extracted(TXT, text, 1, None)


def _decode(data: bytes) -> str:
    """UTF-8 (or UTF-16 with a BOM), else Windows-1252; anything with control bytes is binary."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8-sig", "cp1252"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if sum(len(_CONTROL.findall(piece)) for piece in _pieces(text)) <= len(text) // 1000:
            return text.replace("\r\n", "\n")
    raise bad_input(
        UNSUPPORTED_TYPE,
        f"the file is neither text nor a supported document type ({SUPPORTED})",
    )


def _looks_like_csv(text: str) -> bool:
    """At least three rows that all split into the same number (> 1) of fields on one delimiter.

    Only the media type label depends on this guess: CSV and plain text are extracted alike.
    """
    sample = [line for line in text[:SNIFF_CHARS].splitlines()[:50] if line.strip()]
    if len(sample) < 3:
        return False
    if len(text) > SNIFF_CHARS:
        sample = sample[:-1]  # the cut may have split the last row
    for delimiter in ",;\t":
        widths = {len(row) for row in csv.reader(sample, delimiter=delimiter)}
        if len(widths) == 1 and widths.pop() > 1:
            return True
    return False


def _html(markup: str) -> Extracted:
    tree = LexborHTMLParser(markup)
    title_node = tree.css_first("title") or tree.css_first("h1")
    title = title_node.text(strip=True) if title_node is not None else None
    for node in tree.css("script,style,noscript,template"):
        node.decompose()
    for node in tree.css(_BLOCK_TAGS):
        node.insert_after("\n")
    root = tree.body or tree.root
    text = root.text(deep=True, separator="", strip=False) if root is not None else ""
    return Extracted(HTML, _tidy(text.replace("\t", " ")), 1, _title(title))


def _cells_text(cells: Iterable[str]) -> str:
    """A table row's cells joined by tabs; python-docx repeats a merged cell, so repeats are dropped."""
    out: list[str] = []
    for cell in cells:
        if not out or cell != out[-1]:
            out.append(cell)
    return "\t".join(out).rstrip("\t")


def _tidy(text: str) -> str:
    """Collapse runs of spaces, trim each line, keep at most one blank line between paragraphs.

    Tabs stay: they separate table cells.
    """
    lines = [_SPACES.sub(" ", line).strip(" ") for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _title(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value[:MAX_TITLE_CHARS] or None
