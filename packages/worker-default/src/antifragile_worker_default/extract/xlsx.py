"""XLSX (SpreadsheetML) text, streamed from each sheet's XML with lxml iterparse.

Only the cells present are read: the sheet's stored <dimension> is never trusted (openpyxl's read-only
mode stops at it), a sheet that claims a million rows costs what its cells cost, and a shared string
repeated in many cells counts against the text limit as it is written out, not after.
A formula without a cached value keeps its formula text ("=SUM(B2:B3)"); dates are shown as dates.
"""

import re
from collections.abc import Iterator
from typing import IO

from antifragile_core.errors import EMPTY_DOCUMENT, bad_input
from lxml import etree
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from .base import XLSX, Extracted, cells_text, check_chars, title, too_large
from .ooxml import Package, rel_id

_COLUMN = re.compile(r"[A-Z]+")


def extract_xlsx(package: Package, max_bytes: int) -> Extracted:
    """Each sheet as a "# name" line, then one tab-separated line per row with cells; a sheet is a page."""
    main = next(iter(package.related("", "officeDocument")), "xl/workbook.xml")
    workbook = package.xml(main)
    if workbook is None:
        raise ValueError("no workbook part")
    parts = package.rels(main)
    pr = workbook.find("{*}workbookPr")
    reader = _Cells(
        workbook.tag[: -len("workbook")],
        _shared_strings(package, parts),
        _date_styles(package, parts),
        CALENDAR_MAC_1904
        if pr is not None and pr.get("date1904") in ("1", "true")
        else CALENDAR_WINDOWS_1900,
    )

    limits = package.limits
    lines: list[str] = []
    chars = cells = sheets = 0
    for sheet in workbook.iterfind("{*}sheets/{*}sheet"):
        sheets += 1
        rel_kind, name = parts.get(rel_id(sheet) or "", ("", ""))
        if rel_kind != "worksheet" or name not in package.names:
            continue  # chartsheets and dialog sheets hold no cells
        lines.append(f"# {sheet.get('name', '')}")
        with package.open(name) as stream:
            for row in reader.rows(stream):
                cells += sum(1 for value in row if value)
                if limits.max_cells is not None and cells > limits.max_cells:
                    raise too_large(f"holds over {limits.max_cells:,} cells", "MAX_XLSX_CELLS")
                line = cells_text(row)
                chars += len(line) + 1
                check_chars(chars, limits.max_chars, max_bytes)
                lines.append(line)
    if not cells:
        raise bad_input(
            EMPTY_DOCUMENT,
            "the workbook holds no cell values (sheet names alone are not text); upload one with data",
        )
    return Extracted(XLSX, "\n".join(lines), max(sheets, 1), title(package.core_title()))


class _Cells:
    """Cell texts of the worksheets of one workbook (its namespace, shared strings, date formats)."""

    def __init__(self, ns: str, strings: list[str], dates: set[int], epoch: object) -> None:
        self.row, self.cell, self.v, self.f, self.inline = (
            f"{ns}{tag}" for tag in ("row", "c", "v", "f", "is")
        )
        self.strings = strings
        self.dates = dates
        self.epoch = epoch

    def rows(self, stream: IO[bytes]) -> Iterator[list[str]]:
        """The sheet's rows that hold a value, as cell texts placed by column; parsed rows are freed."""
        for _, element in etree.iterparse(stream, tag=self.row, resolve_entities=False, no_network=True):
            row: list[str] = []
            for cell in element:
                value = self.value(cell) if cell.tag == self.cell else ""
                if value:
                    ref = _COLUMN.match(cell.get("r", ""))
                    row.extend(
                        [""] * ((column_index_from_string(ref[0]) - 1 if ref else len(row)) - len(row))
                    )
                    row.append(value)
            if row:
                yield row
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]

    def value(self, cell: etree._Element) -> str:
        value = formula = inline = None
        for child in cell:
            if child.tag == self.v:
                value = child.text
            elif child.tag == self.f:
                formula = child.text
            elif child.tag == self.inline:
                inline = child
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            return _rich_text(inline) if inline is not None else ""
        if value is None:
            return f"={formula}" if formula else ""
        if kind == "s":
            return self.strings[int(value)]
        if kind == "b":
            return "TRUE" if value.strip() in ("1", "true") else "FALSE"
        if kind != "n":
            return value  # str (a formula's text result), e (#DIV/0!), d (ISO date)
        number = float(value)
        if self.dates and int(cell.get("s", "0")) in self.dates:
            moment = from_excel(number, self.epoch)
            return moment.date().isoformat() if moment.time() == moment.min.time() else moment.isoformat(" ")
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _rich_text(element: etree._Element) -> str:
    """A string item's text: its runs, without phonetic guides (rPh) that would repeat it."""
    if len(element) == 1 and element[0].tag.endswith("}t"):
        return element[0].text or ""
    return "".join(t.text or "" for t in element.iter("{*}t") if not t.getparent().tag.endswith("}rPh"))


def _shared_strings(package: Package, parts: dict[str, tuple[str, str]]) -> list[str]:
    strings: list[str] = []
    for rel_kind, name in parts.values():
        if rel_kind != "sharedStrings" or name not in package.names:
            continue
        with package.open(name) as stream:
            for _, item in etree.iterparse(stream, tag="{*}si", resolve_entities=False, no_network=True):
                strings.append(_rich_text(item))
                item.clear()
    return strings


def _date_styles(package: Package, parts: dict[str, tuple[str, str]]) -> set[int]:
    """Indexes of the cell formats that show a number as a date or time."""
    for rel_kind, name in parts.values():
        root = package.xml(name) if rel_kind == "styles" else None
        if root is None:
            continue
        custom = {
            int(f.get("numFmtId", "0")): f.get("formatCode", "")
            for f in root.iterfind("{*}numFmts/{*}numFmt")
        }
        formats = root.iterfind("{*}cellXfs/{*}xf")
        return {
            index
            for index, xf in enumerate(formats)
            if is_date_format(
                custom.get(
                    int(xf.get("numFmtId", "0")), BUILTIN_FORMATS.get(int(xf.get("numFmtId", "0")), "")
                )
            )
        }
    return set()
