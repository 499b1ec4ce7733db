"""XLSX (SpreadsheetML) text, streamed from each sheet's XML with lxml iterparse.

Only the cells present are read: the sheet's stored <dimension> is never trusted (openpyxl's read-only
mode stops at it), a sheet that claims a million rows costs what its cells cost, and a shared string
repeated in many cells counts against the text limit as it is written out, not after.
A formula without a cached value keeps its formula text ("=SUM(B2:B3)"); dates are shown as dates.
"""

import re
from collections.abc import Iterator

from antifragile_core.errors import EMPTY_DOCUMENT, bad_input
from lxml import etree
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from .base import XLSX, Extracted, cells_text, check_text_size, title, too_large
from .ooxml import Package, rel_id

_COLUMN = re.compile(r"[A-Z]+")


def extract_xlsx(package: Package, max_bytes: int) -> Extracted:
    """Each sheet as a "# name" line, then one tab-separated line per row with cells; a sheet is a page."""
    main = next(iter(package.related("", "officeDocument")), "xl/workbook.xml")
    workbook = package.xml(main)
    if workbook is None:
        raise ValueError("no workbook part")
    parts = package.rels(main)
    strings = _shared_strings(package, parts)
    dates = _date_styles(package, parts)
    pr = workbook.find("{*}workbookPr")
    epoch = (
        CALENDAR_MAC_1904 if pr is not None and pr.get("date1904") in ("1", "true") else CALENDAR_WINDOWS_1900
    )

    lines: list[str] = []
    chars = cells = sheets = 0
    for sheet in workbook.iterfind("{*}sheets/{*}sheet"):
        sheets += 1
        rel_kind, name = parts.get(rel_id(sheet) or "", ("", ""))
        if rel_kind != "worksheet" or name not in package.names:
            continue  # chartsheets and dialog sheets hold no cells
        lines.append(f"# {sheet.get('name', '')}")
        for row in _rows(package, name, strings, dates, epoch):
            cells += sum(1 for value in row if value)
            if cells > package.limits.max_xlsx_cells:
                raise too_large(f"holds over {package.limits.max_xlsx_cells:,} cells", "MAX_XLSX_CELLS")
            line = cells_text(row)
            chars += len(line) + 1
            check_text_size(chars, max_bytes, package.limits)
            lines.append(line)
    if not cells:
        raise bad_input(
            EMPTY_DOCUMENT,
            "the workbook holds no cell values (sheet names alone are not text); upload one with data",
        )
    return Extracted(XLSX, "\n".join(lines), max(sheets, 1), title(package.core_title()))


def _rows(
    package: Package, name: str, strings: list[str], dates: set[int], epoch: object
) -> Iterator[list[str]]:
    """The sheet's rows that hold a value, as cell texts placed by column."""
    row: list[str] = []
    with package.open(name) as stream:
        events = etree.iterparse(
            stream, events=("start", "end"), tag=("{*}row", "{*}c"), resolve_entities=False, no_network=True
        )
        for event, element in events:
            if element.tag.endswith("}row"):
                if event == "start":
                    row = []
                    continue
                if any(row):
                    yield row
                element.clear()
                while element.getprevious() is not None:
                    del element.getparent()[0]
            elif event == "end":
                ref = _COLUMN.match(element.get("r", ""))
                column = column_index_from_string(ref[0]) - 1 if ref else len(row)
                value = _value(element, strings, dates, epoch)
                if value:
                    row.extend([""] * (column - len(row)))
                    row.append(value)
                element.clear()


def _value(cell: etree._Element, strings: list[str], dates: set[int], epoch: object) -> str:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        found = cell.find("{*}is")
        return _rich_text(found) if found is not None else ""
    found = cell.find("{*}v")
    value = found.text if found is not None else None
    if value is None:
        formula = cell.find("{*}f")
        return f"={formula.text}" if formula is not None and formula.text else ""
    if kind == "s":
        return strings[int(value)]
    if kind == "b":
        return "TRUE" if value.strip() in ("1", "true") else "FALSE"
    if kind != "n":
        return value  # str (a formula's text result), e (#DIV/0!), d (ISO date)
    number = float(value)
    if int(cell.get("s", "0")) in dates:
        moment = from_excel(number, epoch)
        return moment.date().isoformat() if moment.time() == moment.min.time() else moment.isoformat(" ")
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _rich_text(element: etree._Element) -> str:
    """A string item's text: its runs, without phonetic guides (rPh) that would repeat it."""
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
