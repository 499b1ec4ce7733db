"""DOCX (WordprocessingML) text, read from the XML with lxml as the document reads with every tracked
change accepted: one walk over the body in reading order, each text once.

Transparent wrappers (content controls, smart tags, custom XML, insertions, hyperlinks, fields) are
walked through; deletions, moved-from text, field codes and properties are skipped; of an
mc:AlternateContent only the first branch is read. Text boxes and nested tables follow the paragraph or
row that holds them; footnotes follow the paragraph that cites them, endnotes the body; headers come
first and footers last, each distinct one once, marked "[Header]" / "[Footer]".
"""

import re
from dataclasses import dataclass, field

from lxml import etree

from .base import DOCX, Extracted, OfficeLimits, cells_text, tidy, title, too_large
from .ooxml import Package, local, rel_id

_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_SKIP = {
    "del", "moveFrom", "instrText", "delText", "delInstrText", "fldData",
    "pPr", "rPr", "sectPr", "tblPr", "tblGrid", "trPr", "tcPr", "sdtPr", "sdtEndPr",
    "customXmlPr", "smartTagPr", "moveFromRangeStart", "moveFromRangeEnd", "rt",
}  # fmt: skip
"""Never text as read: deletions, moves' sources, field codes, properties, ruby guides (rt)."""


@dataclass
class _Notes:
    """Footnotes or endnotes by id; each is read at its first citation only."""

    label: str
    by_id: dict[str, etree._Element]
    seen: set[str] = field(default_factory=set)


class _Reader:
    """One walk over a document's stories (body, text boxes, notes, headers), in reading order."""

    def __init__(self, w: str, limits: OfficeLimits, footnotes: _Notes, endnotes: _Notes) -> None:
        self.w = w
        self.max_depth = limits.max_xml_depth
        self.footnotes = footnotes
        self.endnotes = endnotes
        self.endnote_lines: list[str] = []

    def blocks(self, element: etree._Element, depth: int, tables: list[str] | None = None) -> list[str]:
        """Lines of block content (paragraphs, tables); table lines go to `tables` when given."""
        lines: list[str] = []
        for child in self._branches(element, depth):
            name = local(child.tag)
            if child.tag == f"{self.w}p":
                lines.extend(self.paragraph(child, depth + 1))
            elif child.tag == f"{self.w}tbl":
                (lines if tables is None else tables).extend(self.table(child, depth + 1))
            elif name and name not in _SKIP:
                lines.extend(self.blocks(child, depth + 1, tables))
        return lines

    def paragraph(self, p: etree._Element, depth: int) -> list[str]:
        """The paragraph's line, then the text boxes and footnotes it holds."""
        parts: list[str] = []
        after: list[str] = []
        self._inline(p, parts, after, depth)
        return ["".join(parts), *after]

    def table(self, tbl: etree._Element, depth: int) -> list[str]:
        """One tab-separated line per row (a cell's paragraphs joined by spaces), nested tables after."""
        lines: list[str] = []
        for row in self._within(tbl, "tr", depth):
            if row.find(f"{self.w}trPr/{self.w}del") is not None:
                continue  # a deleted row
            cells: list[str] = []
            nested: list[str] = []
            for cell in self._within(row, "tc", depth + 1):
                if cell.find(f"{self.w}tcPr/{self.w}cellDel") is not None:
                    continue
                text = " ".join(line for line in self.blocks(cell, depth + 2, nested) if line.strip())
                cells.append(text.replace("\n", " "))
            lines.append(cells_text(cells))
            lines.extend(nested)
        return lines

    def _inline(self, element: etree._Element, parts: list[str], after: list[str], depth: int) -> None:
        w = self.w
        for child in self._branches(element, depth):
            tag = child.tag
            if tag == f"{w}t":
                parts.append(child.text or "")
            elif tag == f"{w}tab":
                parts.append("\t")
            elif tag in (f"{w}br", f"{w}cr"):
                parts.append("\n")
            elif tag == f"{w}noBreakHyphen":
                parts.append("-")
            elif tag == f"{w}txbxContent":
                after.extend(self.blocks(child, depth + 1))
            elif tag == f"{w}footnoteReference":
                after.extend(self._note(self.footnotes, child, depth))
            elif tag == f"{w}endnoteReference":
                self.endnote_lines.extend(self._note(self.endnotes, child, depth))
            elif local(tag) and local(tag) not in _SKIP:
                self._inline(child, parts, after, depth + 1)

    def _note(self, notes: _Notes, reference: etree._Element, depth: int) -> list[str]:
        note_id = reference.get(f"{self.w}id", "")
        note = notes.by_id.get(note_id)
        if note is None or note_id in notes.seen:
            return []
        notes.seen.add(note_id)
        text = " ".join(line.strip() for line in self.blocks(note, depth + 1) if line.strip())
        return [f"[{notes.label} {len(notes.seen)}] {text}"] if text else []

    def _within(self, element: etree._Element, name: str, depth: int) -> list[etree._Element]:
        """The `name` children of `element`, looking through wrappers (sdt, customXml, ...)."""
        found: list[etree._Element] = []
        for child in self._branches(element, depth):
            if child.tag == f"{self.w}{name}":
                found.append(child)
            elif local(child.tag) and local(child.tag) not in _SKIP:
                found.extend(self._within(child, name, depth + 1))
        return found

    def _placeholder(self, element: etree._Element) -> bool:
        """A content control still showing its prompt ("Click or tap here to enter text.")."""
        return (
            element.tag == f"{self.w}sdt" and element.find(f"{self.w}sdtPr/{self.w}showingPlcHdr") is not None
        )

    def _branches(self, element: etree._Element, depth: int) -> list[etree._Element]:
        """The children to read: of an mc:AlternateContent, its first Choice's (else its Fallback's)."""
        if depth > self.max_depth:
            raise too_large(f"nests its XML deeper than {self.max_depth} levels", "MAX_XML_DEPTH")
        if element.tag != f"{_MC}AlternateContent":
            return [child for child in element if not self._placeholder(child)]
        branch = element.find(f"{_MC}Choice")
        if branch is None:
            branch = element.find(f"{_MC}Fallback")
        return [] if branch is None else list(branch)


def extract_docx(package: Package, max_bytes: int) -> Extracted:
    main = next(iter(package.related("", "officeDocument")), "word/document.xml")
    root = package.xml(main)
    body = root.find("{*}body") if root is not None else None
    if body is None:
        raise ValueError("no w:body")
    w = body.tag[: -len("body")]
    parts = package.rels(main)
    reader = _Reader(
        w, package.limits, _notes(package, parts, "footnotes"), _notes(package, parts, "endnotes")
    )

    lines = _marked(package, reader, parts, body, "header")
    lines.extend(reader.blocks(body, 1))
    lines.extend(reader.endnote_lines)
    lines.extend(_marked(package, reader, parts, body, "footer"))
    return Extracted(
        DOCX,
        tidy("\n".join(lines)),
        _pages(package, body, w),
        title(package.core_title() or _heading(package, parts, reader, body)),
    )


def _notes(package: Package, parts: dict[str, tuple[str, str]], kind: str) -> _Notes:
    """Footnotes or endnotes by id, without the separators Word keeps among them."""
    label = kind[:-1].capitalize()
    by_id = {}
    for name in (target for rel_kind, target in parts.values() if rel_kind == kind):
        root = package.xml(name)
        for note in root if root is not None else ():
            if note.get(f"{root.tag[: -len(kind)]}type", "normal") == "normal":
                by_id[note.get(f"{root.tag[: -len(kind)]}id", "")] = note
    return _Notes(label, by_id)


def _marked(
    package: Package, reader: _Reader, parts: dict[str, tuple[str, str]], body: etree._Element, kind: str
) -> list[str]:
    """The headers (or footers) the sections use, each distinct one once, every line marked."""
    seen: list[tuple[str, ...]] = []
    for reference in body.iter(f"{reader.w}{kind}Reference"):
        rel_kind, name = parts.get(rel_id(reference) or "", ("", ""))
        root = package.xml(name) if rel_kind == kind else None
        if root is None:
            continue
        lines = tuple(line for line in reader.blocks(root, 1) if line.strip())
        if lines and lines not in seen:
            seen.append(lines)
    label = f"[{kind.capitalize()}]"
    return [f"{label} {line}" for lines in seen for line in lines]


def _heading(
    package: Package, parts: dict[str, tuple[str, str]], reader: _Reader, body: etree._Element
) -> str | None:
    """The first Title-styled paragraph's text, else the first heading's."""
    names = _style_names(package, parts, reader.w)
    first_heading = None
    for style in body.iter(f"{reader.w}pStyle"):
        style_id = style.get(f"{reader.w}val", "")
        name = names.get(style_id, style_id).casefold().replace(" ", "")
        if name != "title" and not name.startswith("heading"):
            continue
        paragraph = style.getparent().getparent()
        if paragraph is None or paragraph.tag != f"{reader.w}p":
            continue  # a style in a tracked formatting change
        text = "".join(reader.paragraph(paragraph, 1)[:1]).strip()
        if text and name == "title":
            return text
        first_heading = first_heading or text or None
    return first_heading


def _style_names(package: Package, parts: dict[str, tuple[str, str]], w: str) -> dict[str, str]:
    """Style id -> style name ("Titel" -> "Title" in a German document)."""
    names: dict[str, str] = {}
    for name in (target for rel_kind, target in parts.values() if rel_kind == "styles"):
        root = package.xml(name)
        for style in root.iter(f"{w}style") if root is not None else ():
            found = style.find(f"{w}name")
            if found is not None:
                names[style.get(f"{w}styleId", "")] = found.get(f"{w}val", "")
    return names


def _pages(package: Package, body: etree._Element, w: str) -> int:
    """Layout is not computed: the larger of the page count the writing app recorded (Word keeps it
    current, other writers copy a template's) and the hard page breaks + 1."""
    recorded = 0
    for name in package.related("", "extended-properties") or ["docProps/app.xml"]:
        if name in package.names:
            with package.open(name) as stream:
                match = re.search(rb"<(?:\w+:)?Pages>(\d+)<", stream.read(1 << 20))
            recorded = int(match[1]) if match else 0
    breaks = sum(1 for br in body.iter(f"{w}br") if br.get(f"{w}type") == "page")
    return max(recorded, 1 + breaks)
