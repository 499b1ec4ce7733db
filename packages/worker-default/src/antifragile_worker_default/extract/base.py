"""What every format's extractor returns, the limits it works within, and the clean-ups they share."""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from antifragile_core.errors import DOCUMENT_TOO_LARGE, bad_input
from temporalio.exceptions import ApplicationError

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TXT = "text/plain"
MARKDOWN = "text/markdown"
CSV = "text/csv"
HTML = "text/html"

SUPPORTED = "PDF, DOCX, XLSX, TXT, MD, CSV, HTML"
MAX_TITLE_CHARS = 300
MAX_EXPANSION = 20
"""A DOCX/XLSX may unzip, and any document's text may grow, to at most this many times the size limit."""
CHUNK_CHARS = 1 << 20
"""Big texts are scanned in pieces: one C call on 50 MB would hold the GIL, and stall the worker's
event loop (heartbeats, polling), for the whole call."""

_SPACES = re.compile(r"[ \u00a0]+")
_LINE_BREAKS = re.compile(r"\r\n?|[\x0b\x0c\x85]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_UNCLEAN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
"""Any of the above: one scan finds the (usual) pieces that need no change."""


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


@dataclass(frozen=True)
class OfficeLimits:
    """What reading one DOCX/XLSX may cost (None: unlimited); the errors name the settings."""

    max_chars: int | None = None
    max_cells: int | None = None
    max_xml_depth: int = 256


def too_large(what: str, setting: str | None = None) -> ApplicationError:
    """DocumentTooLarge for a document past one of the limits, naming the setting that raises it."""
    advice = f"split it, or raise {setting}" if setting else "split it"
    return bad_input(DOCUMENT_TOO_LARGE, f"the document {what}; {advice}")


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


def clean_text(text: str) -> str:
    """Text fit for storage and PostgreSQL, from any format: every line break (CRLF, CR, VT, FF, NEL)
    becomes \\n, other C0/C1 controls and DEL are dropped (tab stays), lone surrogates become U+FFFD."""
    text = text.replace("\r\n", "\n")
    out = []
    for piece in pieces(text):
        if _UNCLEAN.search(piece):
            piece = _SURROGATES.sub("\ufffd", _CONTROL.sub("", _LINE_BREAKS.sub("\n", piece)))
        out.append(piece)
    return "".join(out)


def cells_text(cells: Iterable[str]) -> str:
    """A table row's cells joined by tabs, without trailing empty cells."""
    return "\t".join(cells).rstrip("\t")


def tidy(text: str) -> str:
    """Collapse runs of spaces, trim each line, keep at most one blank line between paragraphs.

    Tabs stay: they separate table cells.
    """
    lines = [_SPACES.sub(" ", line).strip(" ") for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def check_chars(chars: int, max_chars: int | None, max_bytes: int | None = None) -> None:
    """Refuse text over MAX_DOCUMENT_CHARS, or over MAX_EXPANSION x the upload limit (amplification)."""
    if max_chars is not None and chars > max_chars:
        raise bad_input(
            DOCUMENT_TOO_LARGE,
            f"the document holds over {max_chars:,} characters of text, the limit (MAX_DOCUMENT_CHARS); "
            "split it into smaller documents",
        )
    if max_bytes is not None and chars > MAX_EXPANSION * max_bytes:
        raise too_large(
            f"yields over {MAX_EXPANSION * max_bytes:,} characters of text, "
            f"{MAX_EXPANSION}x the {max_bytes:,}-byte upload limit",
            "MAX_DOCUMENT_BYTES",
        )


def title(value: str | None) -> str | None:
    """A title fit for a text column: cleaned of control characters, one line, bounded."""
    value = " ".join(clean_text(value or "").split())
    return value[:MAX_TITLE_CHARS] or None
