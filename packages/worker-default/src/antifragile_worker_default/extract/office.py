"""Office Open XML containers (ZIP): bounded unpacking, then DOCX or XLSX by the parts inside."""

import io
import zipfile

from antifragile_core.errors import CORRUPT_DOCUMENT, DOCUMENT_TOO_LARGE, UNSUPPORTED_TYPE, bad_input

from .base import Extracted
from .docx import extract_docx
from .xlsx import extract_xlsx

MAX_EXPANSION = 20
"""A DOCX/XLSX may unzip to at most this many times the size limit (a zip bomb would not stop)."""


def extract_office(data: bytes, max_bytes: int) -> Extracted:
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
        kind, parse = "DOCX", extract_docx
    elif "xl/workbook.xml" in names:
        kind, parse = "XLSX", extract_xlsx
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
