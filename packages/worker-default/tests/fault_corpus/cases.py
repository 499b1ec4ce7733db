"""The fault corpus: one small file per way a document's text gets lost, garbled or blown up, each with
the expectation that `check` holds the extraction to."""

from collections.abc import Callable
from typing import Any

from .ooxml import cell, docx, note, p, separators, story, table, xlsx

MB = 1 << 20
Case = tuple[str, Callable[[], bytes], dict[str, Any]]


def _accept(kind: str, must: list[str], **more: Any) -> dict[str, Any]:
    return {"kind": kind, "expect": "accept", "must_contain": must, **more}


def _reject(kind: str, error_type: str, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "expect": "reject", "error_type": error_type, **more}


def _textbox(text: str) -> str:
    """A text box as Word 2010+ saves it: the DrawingML shape, and the same text again in VML for
    older readers, inside one mc:AlternateContent."""
    content = f"<w:txbxContent>{p(text)}</w:txbxContent>"
    return (
        '<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic>'
        f"<a:graphicData><wps:wsp><wps:txbx>{content}</wps:txbx></wps:wsp></a:graphicData></a:graphic>"
        "</wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>"
        f"{content}</v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    )


def _sdt(content: str) -> str:
    return f'<w:sdt><w:sdtPr><w:alias w:val="Field"/></w:sdtPr><w:sdtContent>{content}</w:sdtContent></w:sdt>'


def _run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


_LAUGHS = (
    '<!DOCTYPE w:document [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)
_FILLER = b"Ordinary sentences follow, as in any memo. " * 10

CASES: dict[str, Case] = {
    # --- DOCX ---
    "docx_textbox_alternate_content": (
        "box.docx",
        lambda: docx(f"<w:p>{_run('Lead paragraph.')}{_textbox('Box: margin rose to nine percent')}</w:p>"),
        _accept(
            "DOCX text box saved with a VML fallback (mc:AlternateContent)",
            ["Lead paragraph.", "Box: margin rose to nine percent"],
            must_contain_once=["margin rose to nine percent"],
        ),
    ),
    "docx_textbox_in_header": (
        "boxhead.docx",
        lambda: docx(
            p("Body text."),
            parts={"rIdH": ("header", story("hdr", f"<w:p>{_textbox('Header box: Board only')}</w:p>"))},
            section='<w:headerReference w:type="default" r:id="rIdH"/>',
        ),
        _accept(
            "DOCX text box inside a header", ["Body text.", "Board only"], must_contain_once=["Board only"]
        ),
    ),
    "docx_nested_tables": (
        "nested.docx",
        lambda: docx(
            table([[p("Outer A"), p("Outer B") + table([[p("Inner 1"), p("Inner 2")]]) + p("")]])
            + p("After the table.")
        ),
        _accept(
            "DOCX table nested in a table cell",
            ["Outer A\tOuter B", "Inner 1\tInner 2", "After the table."],
            must_contain_once=["Inner 1", "Outer B"],
        ),
    ),
    "docx_content_controls": (
        "controls.docx",
        lambda: docx(
            _sdt(p("Block control: fiscal year 2027"))
            + f"<w:p>{_run('Owner is ')}{_sdt(_run('Dana Reyes'))}{_run(' from finance.')}</w:p>"
            + "<w:tbl><w:tr><w:tc>"
            + p("Budget")
            + "</w:tc>"
            + _sdt("<w:tc>" + p("4.2 million") + "</w:tc>")
            + "</w:tr>"
            + _sdt("<w:tr><w:tc>" + p("Row control") + "</w:tc><w:tc>" + p("approved") + "</w:tc></w:tr>")
            + "</w:tbl>"
        ),
        _accept(
            "DOCX content controls (w:sdt) at block, run, cell and row level",
            [
                "Block control: fiscal year 2027",
                "Owner is Dana Reyes from finance.",
                "Budget\t4.2 million",
                "Row control\tapproved",
            ],
        ),
    ),
    "docx_placeholder_control": (
        "form.docx",
        lambda: docx(
            p("Supplier form")
            + "<w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent>"
            + p("Click or tap here to enter text.")
            + "</w:sdtContent></w:sdt>"
            + "<w:p><w:r><w:ruby><w:rubyPr/><w:rt><w:r><w:t>tōkyō</w:t></w:r></w:rt>"
            + "<w:rubyBase><w:r><w:t>東京</w:t></w:r></w:rubyBase></w:ruby></w:r></w:p>"
        ),
        _accept(
            "DOCX content control showing its prompt, and ruby (phonetic guide) text",
            ["Supplier form", "東京"],
            must_not_contain=["Click or tap here", "tōkyō"],
        ),
    ),
    "docx_smart_tags_custom_xml": (
        "tags.docx",
        lambda: docx(
            f'<w:p><w:smartTag w:uri="urn:schemas-microsoft-com:office:smarttags" w:element="place">'
            f"{_run('Lisbon')}</w:smartTag>{_run(' office opens in ')}"
            f'<w:customXml w:element="date">{_run("May")}</w:customXml></w:p>'
            f'<w:customXml w:element="section">{p("Custom XML block paragraph.")}</w:customXml>'
        ),
        _accept(
            "DOCX smart tags and custom XML at run and block level",
            ["Lisbon office opens in May", "Custom XML block paragraph."],
        ),
    ),
    "docx_tracked_moves_and_fields": (
        "moves.docx",
        lambda: docx(
            f'<w:p><w:moveFrom w:id="1" w:author="A">{_run("Moved sentence.")}</w:moveFrom>'
            f"{_run('Stays here.')}</w:p>"
            f'<w:p><w:moveTo w:id="2" w:author="A">{_run("Moved sentence.")}</w:moveTo></w:p>'
            '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
            f'{_run("Page seven")}<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
            '<w:tbl><w:tr><w:trPr><w:del w:id="3" w:author="A"/></w:trPr>'
            f"<w:tc>{p('Deleted row')}</w:tc></w:tr>"
            f"<w:tr><w:tc>{p('Kept row')}</w:tc></w:tr></w:tbl>"
        ),
        _accept(
            "DOCX tracked move (moveFrom dropped, moveTo kept), a field, a deleted table row",
            ["Stays here.", "Moved sentence.", "Page seven", "Kept row"],
            must_contain_once=["Moved sentence."],
            must_not_contain=["PAGE", "Deleted row"],
        ),
    ),
    "docx_endnotes_footnotes": (
        "notes.docx",
        lambda: docx(
            f'<w:p>{_run("Claim one.")}<w:r><w:footnoteReference w:id="1"/></w:r></w:p>'
            f'<w:p>{_run("Claim two.")}<w:r><w:endnoteReference w:id="1"/></w:r>'
            f'<w:r><w:footnoteReference w:id="1"/></w:r></w:p>' + p("Closing paragraph."),
            parts={
                "rIdF": (
                    "footnotes",
                    story("footnotes", separators("footnote") + note("footnote", 1, "Survey of 300 firms.")),
                ),
                "rIdE": (
                    "endnotes",
                    story("endnotes", separators("endnote") + note("endnote", 1, "Method appendix B.")),
                ),
            },
        ),
        _accept(
            "DOCX footnote cited twice and an endnote",
            ["Claim one.", "Survey of 300 firms.", "Method appendix B.", "Closing paragraph."],
            must_contain_once=["Survey of 300 firms."],
        ),
    ),
    "docx_headers_footers_distinct": (
        "pages.docx",
        lambda: docx(
            p("Body of the report."),
            parts={
                "rIdH1": ("header", story("hdr", p("Northwind strategy 2027"))),
                "rIdH2": ("header", story("hdr", p("Northwind strategy 2027"))),
                "rIdF1": ("footer", story("ftr", p("Confidential - page footer"))),
            },
            section='<w:headerReference w:type="default" r:id="rIdH1"/>'
            '<w:headerReference w:type="first" r:id="rIdH2"/>'
            '<w:footerReference w:type="default" r:id="rIdF1"/>',
        ),
        _accept(
            "DOCX first-page and default headers with the same text, and a footer",
            [
                "[Header] Northwind strategy 2027",
                "[Footer] Confidential - page footer",
                "Body of the report.",
            ],
            must_contain_once=["Northwind strategy 2027"],
        ),
    ),
    "docx_strict_with_header": (
        "strict2.docx",
        lambda: docx(
            p("Strict body: expand to Porto.", "Heading1"),
            parts={"rIdH": ("header", story("hdr", p("Strict header text")))},
            section='<w:headerReference w:type="default" r:id="rIdH"/>',
            strict=True,
        ),
        {
            "kind": "DOCX in Strict Open XML with a header",
            "expect": "accept-or-specific-reject",
            "must_contain": ["Strict body: expand to Porto.", "Strict header text"],
            "reject_message_any": ["strict"],
        },
    ),
    "docx_title_from_core": (
        "titled.docx",
        lambda: docx(p("Some heading", "Heading1") + p("Body."), core_title="Partner Channel Review"),
        _accept("DOCX with a real title in its core properties", ["Body."], title="Partner Channel Review"),
    ),
    "docx_placeholder_core_title": (
        "placeholder.docx",
        lambda: docx(p("Supplier risk review", "Heading1") + p("Body."), core_title="Word Document"),
        _accept(
            "DOCX whose core title is a library's placeholder",
            ["Supplier risk review"],
            title="Supplier risk review",
            title_must_not_contain=["Word Document"],
        ),
    ),
    "docx_control_chars": (
        "control.docx",
        lambda: docx(p("Bell\x9b and delete\x7f gone", "Title") + p("Ordinary text.")),
        _accept(
            "DOCX text holding C1 controls and DEL (legal in XML 1.0, not in a text column)",
            ["Ordinary text.", "Bell and delete gone"],
            must_not_contain=["\x9b", "\x7f"],
            title="Bell and delete gone",
        ),
    ),
    "docx_deep_nesting": (
        "deep.docx",
        lambda: docx("<w:customXml>" * 200 + p("deep text") + "</w:customXml>" * 200),
        _reject("DOCX nested 200 levels deep (custom XML in custom XML)", "DocumentTooLarge"),
    ),
    "docx_entity_expansion": (
        "lol.docx",
        lambda: docx(p("&lol3;"), prolog=_LAUGHS),
        _reject("DOCX whose XML declares nested entities (billion laughs)", "CorruptDocument"),
    ),
    # --- XLSX ---
    "xlsx_million_row_claim": (
        "sparse.xlsx",
        lambda: xlsx(
            {
                "Plan": f'<row r="1">{cell("A1", "Q1 target", kind="inlineStr")}</row>'
                f'<row r="1048576">{cell("C1048576", "Last row note", kind="inlineStr")}</row>'
            },
            dimension="A1:XFD1048576",
        ),
        _accept(
            "XLSX that claims a million rows (dimension A1:XFD1048576) with two cells",
            ["Q1 target", "\t\tLast row note"],
            max_seconds=5,
            max_text_chars=1000,
        ),
    ),
    "xlsx_types_and_sheets": (
        "types.xlsx",
        lambda: xlsx(
            {
                "Summary": '<row r="1">'
                + cell("A1", "0", kind="s")
                + cell("B1", "45292", style=1)
                + "</row>"
                + '<row r="2">'
                + cell("A2", "1", kind="b")
                + cell("B2", "7.25")
                + cell("C2", "#DIV/0!", kind="e")
                + "</row>",
                "Notes": '<row r="3">' + cell("B3", "Second sheet text", kind="inlineStr") + "</row>",
            },
            shared=["Launch date"],
            styles='<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>',
        ),
        _accept(
            "XLSX shared and inline strings, a date, a boolean, an error value, two sheets",
            ["# Summary", "Launch date\t2024-01-01", "TRUE\t7.25\t#DIV/0!", "# Notes", "\tSecond sheet text"],
        ),
    ),
    "xlsx_shared_formula_no_cache": (
        "formulas.xlsx",
        lambda: xlsx(
            {
                "Costs": '<row r="1">'
                + cell("A1", "Total", kind="inlineStr")
                + cell("B1", None, formula="SUM(B2:B9)")
                + cell("C1", None, kind="str", formula='CONCAT("a","b")')
                + "</row>"
            }
        ),
        _accept("XLSX formulas without cached values", ["Total\t=SUM(B2:B9)", '=CONCAT("a","b")']),
    ),
    "xlsx_sheet_names_only": (
        "names.xlsx",
        lambda: xlsx({"Q1": "", "Q2": '<row r="1"></row>'}),
        _reject("XLSX with two named sheets and no cells", "EmptyDocument"),
    ),
    "xlsx_shared_string_amplification": (
        "amp.xlsx",
        lambda: xlsx(
            {
                "S": "".join(
                    f'<row r="{r}">' + cell(f"A{r}", "0", kind="s") + "</row>" for r in range(1, 3001)
                )
            },
            shared=["x" * 10_000],
        ),
        {
            "kind": "XLSX: one 10 kB shared string in 3,000 cells (30 MB of text from a small file)",
            "expect": "reject-or-bounded",
            "error_type": "DocumentTooLarge",
            "max_bytes": MB,
            "max_text_chars": 20 * MB,
            "max_seconds": 10,
        },
    ),
    # --- text ---
    "txt_crlf": (
        "crlf.txt",
        lambda: b"Line one\r\nLine two\r\n",
        _accept("CRLF text", ["Line one\nLine two"], must_not_contain=["\r"]),
    ),
    "md_cr_only": (
        "mac.md",
        lambda: b"# Mac notes\r\rFirst point\rSecond point\r",
        _accept(
            "Markdown with CR-only line endings",
            ["First point\nSecond point"],
            must_not_contain=["\r"],
            title="Mac notes",
            media_type="text/markdown",
        ),
    ),
    "txt_cp1252": (
        "legacy.txt",
        lambda: "Our café’s “quality first” plan — naïve but bold.\n".encode("cp1252"),
        _accept("Windows-1252 text with curly quotes and accents", ["café’s “quality first” plan — naïve"]),
    ),
    "txt_cp1250_czech": (
        "cz.txt",
        lambda: "Strategie společnosti: příliš žluťoučký kůň úpěl ďábelské ódy.\n".encode("cp1250"),
        _accept("Windows-1250 Czech text", ["příliš žluťoučký kůň"]),
    ),
    "txt_cp1251_russian": (
        "ru.txt",
        lambda: "Стратегия компании на следующий год: рост продаж и удержание клиентов.\n".encode("cp1251"),
        _accept("Windows-1251 Russian text", ["рост продаж"]),
    ),
    "txt_shift_jis": (
        "ja.txt",
        lambda: "来年の会社の戦略：売上の成長と顧客の維持。品質を最優先します。\n".encode("shift_jis"),
        _accept("Shift_JIS Japanese text", ["売上の成長と顧客の維持"]),
    ),
    "txt_utf16be_no_bom": (
        "be.txt",
        lambda: "Annual targets by region\nNorth 120\n".encode("utf-16-be"),
        _accept("UTF-16BE without a BOM", ["Annual targets by region"]),
    ),
    "txt_utf16le_bom": (
        "le.txt",
        lambda: "\ufeffÉquipe: Zürich office plan\n".encode("utf-16-le"),
        _accept("UTF-16LE with a BOM", ["Équipe: Zürich office plan"], must_not_contain=["\ufeff"]),
    ),
    "txt_utf8_bad_bytes": (
        "bad.txt",
        lambda: "Crème brûlée — “menu” notes\n".encode() * 20 + b"\xff broken \xc3 end\n",
        _accept(
            "UTF-8 with two stray bytes", ["Crème brûlée — “menu”", "\ufffd broken"], must_not_contain=["Ã"]
        ),
    ),
    "txt_utf16_broken": (
        "broken16.txt",
        lambda: "Plain words here".encode("utf-16-le") + b"\x00\xd8a\x00",
        {
            "kind": "UTF-16LE with a lone surrogate",
            "expect": "accept-or-specific-reject",
            "must_contain": ["Plain words here"],
            "reject_message_any": ["utf-16"],
        },
    ),
    "txt_c1_and_nul": (
        "ctl.txt",
        lambda: "Revenue\x00 grew\x85and\x9b costs\x7f fell.\x0cNext page.\n".encode() + _FILLER,
        _accept(
            "text with NUL, NEL, CSI, DEL and form feed",
            ["Revenue grew\nand costs fell.\nNext page."],
            must_not_contain=["\x00", "\x9b", "\x7f"],
        ),
    ),
    "txt_binary": (
        "blob.txt",
        lambda: bytes(range(256)) * 16,
        _reject("binary bytes named .txt", "UnsupportedDocumentType"),
    ),
    "csv_semicolon_crlf": (
        "eu.csv",
        lambda: "Region;Umsatz;Verantwortlich\r\nSüd;1.200;Jürgen\r\nNord;950;Ana\r\n".encode("cp1252"),
        _accept("semicolon CSV in Windows-1252 with CRLF", ["Süd;1.200;Jürgen\nNord"], media_type="text/csv"),
    ),
    "md_title_control": (
        "ctl.md",
        lambda: b"# Plan\x1b 2028\n\n- grow\n" + _FILLER,
        _accept("Markdown heading with an escape character", ["grow"], title="Plan 2028"),
    ),
    # --- HTML ---
    "html_fragment": (
        "fragment.html",
        lambda: (
            b"<p>Fragment paragraph about pricing.</p><script>var LEAK_91=1</script><div>Second block</div>"
        ),
        _accept(
            "HTML fragment without html/head/body",
            ["Fragment paragraph about pricing.", "Second block"],
            must_not_contain=["LEAK_91", "<p>"],
            media_type="text/html",
        ),
    ),
    "html_template_noscript": (
        "app.html",
        lambda: (
            b"<!doctype html><html><head><title>App shell</title><style>.x{color:blue}</style></head>"
            b"<body><template><p>TEMPLATE-LEAK</p></template><noscript>NOSCRIPT-LEAK</noscript>"
            b"<main><h1>Welcome</h1><p>Visible copy.</p></main></body></html>"
        ),
        _accept(
            "HTML with template, noscript and style",
            ["Welcome", "Visible copy."],
            must_not_contain=["TEMPLATE-LEAK", "NOSCRIPT-LEAK", "color:blue"],
            title="App shell",
        ),
    ),
    "html_heading_title_cp1252": (
        "legacy.html",
        lambda: (
            '<html><head><meta charset="windows-1252"></head><body><h2>Résumé of the year</h2>'
            "<p>Profit rose.</p></body></html>".encode("cp1252")
        ),
        _accept(
            "HTML in Windows-1252 declared by meta charset, title from its first heading",
            ["Résumé of the year", "Profit rose."],
            title="Résumé of the year",
        ),
    ),
    "html_comment_then_xhtml": (
        "page.xhtml",
        lambda: (
            b'<?xml version="1.0"?>\n<!-- exported -->\n<html xmlns="http://www.w3.org/1999/xhtml"><body>'
            b"<p>XHTML body text.</p><script>SCRIPT_LEAK_2</script></body></html>"
        ),
        _accept(
            "XHTML with a prolog and a comment before the root",
            ["XHTML body text."],
            must_not_contain=["SCRIPT_LEAK_2", "<p>"],
            media_type="text/html",
        ),
    ),
}
