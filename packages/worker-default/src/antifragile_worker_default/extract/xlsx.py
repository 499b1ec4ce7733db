"""XLSX (SpreadsheetML) text."""

import io

import openpyxl

from .base import XLSX, Extracted, title


def extract_xlsx(data: bytes) -> Extracted:
    """Each sheet as its name, then one tab-separated line per non-empty row; a sheet counts as a page."""
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        lines = []
        for sheet in workbook.worksheets:
            lines.append(f"# {sheet.title}")
            for row in sheet.iter_rows(values_only=True):
                if any(value is not None for value in row):
                    lines.append("\t".join("" if value is None else str(value) for value in row).rstrip("\t"))
        doc_title = workbook.properties.title
        pages = len(workbook.worksheets)
    finally:
        workbook.close()
    return Extracted(XLSX, "\n".join(lines), pages, title(doc_title))
