"""DOCX (WordprocessingML) text."""

import io
import re

import docx
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.table import Table

from .base import DOCX, Extracted, cells_text, tidy, title


def extract_docx(data: bytes) -> Extracted:
    document = docx.Document(io.BytesIO(data))
    lines, heading = [], None
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(cells_text(cell.text for cell in row.cells) for row in block.rows)
            continue
        lines.append(block.text)
        style = block.style.name if block.style is not None else ""
        if heading is None and block.text.strip() and style.startswith(("Title", "Heading")):
            heading = block.text
    return Extracted(
        DOCX,
        tidy("\n".join(lines)),
        _docx_pages(document),
        title(document.core_properties.title or heading),
    )


def _docx_pages(document: DocxDocument) -> int:
    """Layout is not computed: the larger of the page count the writing app recorded (Word keeps it
    current, other writers copy a template's) and the hard page breaks + 1."""
    recorded = 0
    for rel in document.part.package.rels.values():
        if rel.reltype == RELATIONSHIP_TYPE.EXTENDED_PROPERTIES:
            match = re.search(rb"<(?:\w+:)?Pages>(\d+)<", rel.target_part.blob)
            recorded = int(match[1]) if match else 0
    return max(recorded, 1 + len(document.element.body.xpath('.//w:br[@w:type="page"]')))
