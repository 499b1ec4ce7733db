"""Plain text, Markdown, CSV and HTML: decoded from bytes, then labelled by their content."""

import codecs
import csv
import re

from antifragile_core.errors import UNSUPPORTED_TYPE, bad_input

from .base import CSV, MARKDOWN, SUPPORTED, TXT, Extracted, pieces, title
from .html import extract_html

SNIFF_CHARS = 65_536
"""Markdown or CSV is decided from the text's start."""

_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)[\s>]", re.I | re.S)
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_MD_MARKUP = re.compile(r"^( {0,3}#{1,6}\s|\s*[-*+]\s|\s*\d+\.\s|```|>\s)|\[[^\]]+\]\([^)]+\)", re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
"""Control characters other than tab, newline, carriage return and form feed: a sign of binary data."""


def extract_text(data: bytes) -> Extracted:
    text = _decode(data)
    if _HTML_START.match(text[:4096]):
        return extract_html(text)
    if _looks_like_csv(text):
        return Extracted(CSV, text, 1, None)
    if _MD_MARKUP.search(text, 0, SNIFF_CHARS):
        heading = _MD_HEADING.search(text, 0, SNIFF_CHARS)
        return Extracted(MARKDOWN, text, 1, title(heading[1] if heading else None))
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
        if sum(len(_CONTROL.findall(piece)) for piece in pieces(text)) <= len(text) // 1000:
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
