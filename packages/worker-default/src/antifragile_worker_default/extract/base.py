"""What every format's extractor returns, and the clean-ups they share."""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from antifragile_core.errors import DOCUMENT_TOO_LARGE, bad_input

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TXT = "text/plain"
MARKDOWN = "text/markdown"
CSV = "text/csv"
HTML = "text/html"

SUPPORTED = "PDF, DOCX, XLSX, TXT, MD, CSV, HTML"
MAX_TITLE_CHARS = 300
CHUNK_CHARS = 1 << 20
"""Big texts are scanned in pieces: one C call on 50 MB would hold the GIL, and stall the worker's
event loop (heartbeats, polling), for the whole call."""

_SPACES = re.compile(r"[ \u00a0]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""C0 controls and DEL except tab and newlines: PostgreSQL refuses NUL, and none of them is text."""


@dataclass(frozen=True)
class Extracted:
    media_type: str
    text: str
    page_count: int
    title: str | None
    ocr_pages: tuple[int, ...] = ()
    """1-based numbers of the pages whose text was read by OCR."""
    ocr_confidence: float | None = None
    """Mean recognition score (0-1] over the OCR'd lines; None when nothing was OCR'd."""


def pieces(text: str) -> Iterator[str]:
    """`text` in pieces of about CHUNK_CHARS, cut at a space or newline where there is one."""
    start = 0
    while start < len(text):
        end = start + CHUNK_CHARS
        if end < len(text):
            cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
            end = cut if cut > start else end
        yield text[start:end]
        start = end


def cells_text(cells: Iterable[str]) -> str:
    """A table row's cells joined by tabs; python-docx repeats a merged cell, so repeats are dropped."""
    out: list[str] = []
    for cell in cells:
        if not out or cell != out[-1]:
            out.append(cell)
    return "\t".join(out).rstrip("\t")


def tidy(text: str) -> str:
    """Collapse runs of spaces, trim each line, keep at most one blank line between paragraphs.

    Tabs stay: they separate table cells.
    """
    lines = [_SPACES.sub(" ", line).strip(" ") for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def check_chars(chars: int, max_chars: int | None) -> None:
    """Refuse a document whose text is over the character limit."""
    if max_chars is not None and chars > max_chars:
        raise bad_input(
            DOCUMENT_TOO_LARGE,
            f"the document holds over {max_chars:,} characters of text, the limit (MAX_DOCUMENT_CHARS); "
            "split it into smaller documents",
        )


def clean_text(text: str) -> str:
    """`text` without control characters (CR and CRLF become newlines): every format's text and title
    pass through here before they reach the store or PostgreSQL."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def title(value: str | None) -> str | None:
    value = " ".join(clean_text(value or "").split())
    return value[:MAX_TITLE_CHARS] or None
