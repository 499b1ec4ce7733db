"""What every format's extractor returns, and the clean-ups they share."""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Extracted:
    media_type: str
    text: str
    page_count: int
    title: str | None


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


def title(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value[:MAX_TITLE_CHARS] or None
