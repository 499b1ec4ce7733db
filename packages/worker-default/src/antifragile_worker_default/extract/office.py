"""Office Open XML containers (ZIP): bounded unpacking, then DOCX or XLSX by the parts inside."""

import io
import zipfile

from antifragile_core.errors import CORRUPT_DOCUMENT, UNSUPPORTED_TYPE, bad_input
from lxml import etree
from temporalio.exceptions import ApplicationError

from .base import MAX_EXPANSION, Extracted, OfficeLimits, too_large
from .docx import extract_docx
from .ooxml import Package
from .xlsx import extract_xlsx


def extract_office(data: bytes, max_bytes: int, limits: OfficeLimits) -> Extracted:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        expanded = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise bad_input(
            CORRUPT_DOCUMENT, "the file looks like a ZIP/Office file but is damaged; save it again and upload"
        ) from None
    with archive:
        if expanded > MAX_EXPANSION * max_bytes:
            raise too_large(
                f"unpacks to {expanded:,} bytes, over {MAX_EXPANSION}x the {max_bytes:,}-byte size limit",
                "MAX_DOCUMENT_BYTES",
            )
        package = Package(archive, limits)
        kind = "Office"
        try:
            main = next(iter(package.related("", "officeDocument")), "")
            if main.startswith("word/") or "word/document.xml" in package.names:
                kind, parse = "DOCX", extract_docx
            elif main.startswith("xl/") or "xl/workbook.xml" in package.names:
                kind, parse = "XLSX", extract_xlsx
            else:
                raise bad_input(
                    UNSUPPORTED_TYPE,
                    "the file is a ZIP archive but not DOCX or XLSX; upload the documents themselves",
                )
            return parse(package, max_bytes)
        except ApplicationError:
            raise
        except etree.XMLSyntaxError as e:
            if "depth" in str(e).lower():
                raise too_large("nests its XML deeper than 256 levels, the parser's bound") from None
            raise _damaged(package, kind, f"bad XML: {e}") from None
        except Exception as e:  # parsers of untrusted files fail in many ways; each means "damaged"
            raise _damaged(package, kind, type(e).__name__) from None


def _damaged(package: Package, kind: str, detail: str) -> ApplicationError:
    """A file we could not read; Strict Open XML is named, since saving it again as Strict would not help."""
    if package.strict:
        save_as = "Word Document (.docx)" if kind == "DOCX" else "Excel Workbook (.xlsx)"
        return bad_input(
            UNSUPPORTED_TYPE,
            f"the {kind} file is saved as Strict Open XML and could not be read ({detail}); "
            f"open it and save it as {save_as}, then upload that",
        )
    return bad_input(CORRUPT_DOCUMENT, f"the {kind} file is damaged ({detail}); save it again and upload")
