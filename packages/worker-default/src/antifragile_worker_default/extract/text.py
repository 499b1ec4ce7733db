"""Plain text, Markdown, CSV and HTML: decoded from bytes, then labelled by their content.

Decoding, in order: a BOM; UTF-16 without a BOM (NUL on every other byte); strict UTF-8; the charset an
HTML/XML file declares; UTF-8 with a few bad bytes (valid multi-byte characters outnumber the bad ones,
which become U+FFFD: re-reading it all as cp1252 would garble every accent); then charset-normalizer
among the legacy encodings people still save (Windows-125x, Shift_JIS, ...); else refused.
"""

import codecs
import csv
import re

import charset_normalizer
from antifragile_core.errors import UNSUPPORTED_TYPE, bad_input

from .base import CSV, MARKDOWN, SUPPORTED, TXT, Extracted, clean_text, pieces, title
from .html import extract_html

SNIFF_CHARS = 65_536
"""Markdown, CSV or HTML is decided from the text's start."""
SNIFF_BYTES = 1 << 20
"""charset-normalizer reads at most this much; its guess is then applied to the whole file."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_LEGACY = [
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
    "shift_jis", "cp932", "euc_jp", "iso2022_jp", "gb18030", "big5", "euc_kr", "koi8_r",
]  # fmt: skip
_DECLARED = re.compile(rb"""<(?:\?xml[^>]*\sencoding|meta[^>]*charset)\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
_HTML_TAGS = (
    "html|head|body|title|meta|link|div|span|p|a|b|i|em|strong|br|hr|h[1-6]|table|ul|ol|dl|section|article"
    "|header|footer|nav|main|aside|figure|blockquote|pre|form|img|script|style|template|noscript"
)
_HTML_START = re.compile(
    rf"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!doctype\s+html[^>]*>\s*)?(<!--.*?-->\s*)*<({_HTML_TAGS})[\s/>]",
    re.I | re.S,
)
_HTML_ROOT = re.compile(r"^\s*<(html|body)[\s>]", re.I | re.M)
"""An html or body tag opening a line further in (after a preamble, say) also makes it HTML."""
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_MD_MARKUP = re.compile(r"^( {0,3}#{1,6}\s|\s*[-*+]\s|\s*\d+\.\s|```|>\s)|\[[^\]]+\]\([^)]+\)", re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
"""Control characters other than tab and line breaks: over 1% of the text (binary runs ~10%, text that
picked up a stray NUL far less) means the bytes were not text."""


def extract_text(data: bytes) -> Extracted:
    text = clean_text(_decode(data))  # line endings first: Markdown and CSV sniffing read lines
    head = text[:4096]
    if _HTML_START.match(head) or _HTML_ROOT.search(head):
        return extract_html(text)
    if _looks_like_csv(text):
        return Extracted(CSV, text, 1, None)
    if _MD_MARKUP.search(text, 0, SNIFF_CHARS):
        heading = _MD_HEADING.search(text, 0, SNIFF_CHARS)
        return Extracted(MARKDOWN, text, 1, title(heading[1] if heading else None))
    return Extracted(TXT, text, 1, None)


def _decode(data: bytes) -> str:
    encoding = _bom(data) or _utf16_without_bom(data)
    if encoding:
        return _strict(data, encoding)
    try:
        return _checked(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    declared = _declared(data)
    if declared:
        try:
            return _checked(data.decode(declared))
        except UnicodeDecodeError:
            pass
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    multibyte = sum(len(piece) - len(piece.encode("ascii", "ignore")) for piece in pieces(text)) - bad
    if multibyte >= bad:
        return _checked(text)
    best = _legacy_encoding(data)
    if best is None:
        raise bad_input(
            UNSUPPORTED_TYPE,
            f"the file is neither text in a known encoding (UTF-8, UTF-16, Windows-125x, Shift_JIS, ...) "
            f"nor a supported document type ({SUPPORTED}); save text as UTF-8",
        )
    return _strict(data, best)


def _strict(data: bytes, encoding: str) -> str:
    """`data` as `encoding`, or a refusal that names the encoding."""
    name = codecs.lookup(encoding).name
    try:
        return _checked(data.decode(encoding))
    except UnicodeDecodeError:
        raise bad_input(
            UNSUPPORTED_TYPE,
            f"the file looks like {name} text but holds bytes that are not valid {name}; "
            "re-save it as UTF-8 and upload again",
        ) from None


def _checked(text: str) -> str:
    """`text`, unless its control characters say the bytes were binary, not text."""
    if sum(len(_CONTROL.findall(piece)) for piece in pieces(text)) > max(4, len(text) // 100):
        raise bad_input(
            UNSUPPORTED_TYPE,
            f"the file is neither text nor a supported document type ({SUPPORTED})",
        )
    return text


def _legacy_encoding(data: bytes) -> str | None:
    """charset-normalizer's pick among the legacy encodings; on a tie (short texts often tie, e.g.
    cp1250 against cp1252), Windows-1252, the most common of them, wins. Mac Roman is left out: it
    decodes short Western texts about as well as cp1252 and won ties it should lose."""
    matches = charset_normalizer.from_bytes(data[:SNIFF_BYTES], cp_isolation=_LEGACY)
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        tied = (match.chaos, -match.coherence) <= (best.chaos, -best.coherence)
        if tied and "cp1252" in match.could_be_from_charset:
            return "cp1252"
    return best.encoding


def _bom(data: bytes) -> str | None:
    return next((encoding for bom, encoding in _BOMS if data.startswith(bom)), None)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16LE/BE by its zero bytes: Latin-script text has NUL in every other byte, on one side."""
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2 or len(data) % 2:
        return None
    even, odd = sample[0 : pairs * 2 : 2].count(0), sample[1 : pairs * 2 : 2].count(0)
    if odd > 0.3 * pairs and even < 0.02 * pairs:
        return "utf-16-le"
    if even > 0.3 * pairs and odd < 0.02 * pairs:
        return "utf-16-be"
    return None


def _declared(data: bytes) -> str | None:
    """The encoding an HTML or XML file names at its start, if Python knows it."""
    match = _DECLARED.search(data[:2048])
    if match is None:
        return None
    try:
        return codecs.lookup(match[1].decode("ascii")).name
    except LookupError:
        return None


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
