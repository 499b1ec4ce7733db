"""Minimal but valid DOCX and XLSX packages from raw XML, so each fault is written exactly as Word or
Excel (or a script) would leave it, down to the element that causes it."""

import io
import zipfile

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_STRICT = "http://purl.oclc.org/ooxml/wordprocessingml/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
R_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships"
S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_WML = "application/vnd.openxmlformats-officedocument.wordprocessingml"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_NS = (
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml" mc:Ignorable="wps"'
)
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _zip(parts: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name, xml)
    return out.getvalue()


def _rels(rels: list[tuple[str, str, str]]) -> str:
    items = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{target}"/>' for i, t, target in rels)
    return f'{_DECL}<Relationships xmlns="{_PKG}">{items}</Relationships>'


def _types(overrides: dict[str, str]) -> str:
    items = "".join(f'<Override PartName="/{name}" ContentType="{ct}"/>' for name, ct in overrides.items())
    return (
        f'{_DECL}<Types xmlns="{_CT}"><Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>{items}</Types>'
    )


def _core(title: str) -> str:
    return (
        f'{_DECL}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{title}</dc:title></cp:coreProperties>"
    )


def p(text: str, style: str | None = None) -> str:
    """A paragraph of one run."""
    props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f'<w:p>{props}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def table(rows: list[list[str]]) -> str:
    """A table whose cells hold block XML (use `p(...)`, or another `table(...)`)."""
    body = "".join("<w:tr>" + "".join(f"<w:tc>{cell}</w:tc>" for cell in row) + "</w:tr>" for row in rows)
    return f"<w:tbl>{body}</w:tbl>"


def docx(
    body: str,
    *,
    parts: dict[str, tuple[str, str]] | None = None,
    section: str = "",
    core_title: str | None = None,
    strict: bool = False,
    prolog: str = "",
) -> bytes:
    """A DOCX whose body is `body`; `parts` maps a relationship id to (kind, XML) of a part such as
    "header", "footer", "footnotes", "endnotes" or "styles", each saved as word/<kind><n>.xml."""
    w, r = (W_STRICT, R_STRICT) if strict else (W, R)
    rel_base = R_STRICT if strict else f"{R}"
    files: dict[str, str] = {}
    rels, overrides = [], {"word/document.xml": f"{_WML}.document.main+xml"}
    for n, (rel_id, (kind, xml)) in enumerate((parts or {}).items()):
        name = f"{kind}{n}.xml"
        files[f"word/{name}"] = xml.replace("{W}", w).replace("{R}", r)
        rels.append((rel_id, f"{rel_base}/{kind}", name))
        overrides[f"word/{name}"] = f"{_WML}.{kind}+xml"
    document = (
        f'{_DECL}{prolog}<w:document xmlns:w="{w}" xmlns:r="{r}" {_NS}>'
        f"<w:body>{body}<w:sectPr>{section}</w:sectPr></w:body></w:document>"
    )
    package_rels = [("rId1", f"{rel_base}/officeDocument", "word/document.xml")]
    if core_title is not None:
        files["docProps/core.xml"] = _core(core_title)
        package_rels.append(("rId2", f"{_PKG}/metadata/core-properties", "docProps/core.xml"))
        overrides["docProps/core.xml"] = "application/vnd.openxmlformats-package.core-properties+xml"
    return _zip(
        {
            "[Content_Types].xml": _types(overrides),
            "_rels/.rels": _rels(package_rels),
            "word/document.xml": document,
            "word/_rels/document.xml.rels": _rels(rels),
            **files,
        }
    )


def story(kind: str, body: str) -> str:
    """A header ("hdr"), footer ("ftr") part, or footnotes/endnotes part holding `body`."""
    return f'{_DECL}<w:{kind} xmlns:w="{{W}}" xmlns:r="{{R}}" {_NS}>{body}</w:{kind}>'


def note(kind: str, note_id: int, text: str) -> str:
    """One footnote or endnote ("footnote"/"endnote") with its reference mark and text."""
    return (
        f'<w:{kind} w:id="{note_id}"><w:p><w:r><w:{kind}Ref/></w:r>'
        f'<w:r><w:t xml:space="preserve"> {text}</w:t></w:r></w:p></w:{kind}>'
    )


def separators(kind: str) -> str:
    """The separator notes Word writes at the start of every footnotes/endnotes part."""
    return (
        f'<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>'
        f'<w:{kind} w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r>'
        f"</w:p></w:{kind}>"
    )


def cell(
    ref: str, value: str | None = None, *, kind: str | None = None, formula: str | None = None, style: int = 0
) -> str:
    """A worksheet cell as Excel or a script writes it; `value` None leaves out the cached <v>."""
    attrs = f' r="{ref}"' + (f' t="{kind}"' if kind else "") + (f' s="{style}"' if style else "")
    if kind == "inlineStr":
        return f"<c{attrs}><is><t>{value}</t></is></c>"
    inner = (f"<f>{formula}</f>" if formula else "") + (f"<v>{value}</v>" if value is not None else "")
    return f"<c{attrs}>{inner}</c>"


def xlsx(
    sheets: dict[str, str],
    *,
    dimension: str | None = None,
    shared: list[str] | None = None,
    styles: str | None = None,
) -> bytes:
    """An XLSX; `sheets` maps a sheet name to its <sheetData> rows XML."""
    files: dict[str, str] = {}
    rels = []
    overrides = {"xl/workbook.xml": f"{_SML}.sheet.main+xml"}
    entries = []
    for n, (name, rows) in enumerate(sheets.items(), start=1):
        dim = f'<dimension ref="{dimension}"/>' if dimension else ""
        files[f"xl/worksheets/sheet{n}.xml"] = (
            f'{_DECL}<worksheet xmlns="{S}" xmlns:r="{R}">{dim}<sheetData>{rows}</sheetData></worksheet>'
        )
        rels.append((f"rId{n}", f"{R}/worksheet", f"worksheets/sheet{n}.xml"))
        overrides[f"xl/worksheets/sheet{n}.xml"] = f"{_SML}.worksheet+xml"
        entries.append(f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>')
    if shared is not None:
        items = "".join(f"<si><t>{text}</t></si>" for text in shared)
        files["xl/sharedStrings.xml"] = f'{_DECL}<sst xmlns="{S}" count="{len(shared)}">{items}</sst>'
        rels.append(("rIdS", f"{R}/sharedStrings", "sharedStrings.xml"))
        overrides["xl/sharedStrings.xml"] = f"{_SML}.sharedStrings+xml"
    if styles is not None:
        files["xl/styles.xml"] = f'{_DECL}<styleSheet xmlns="{S}">{styles}</styleSheet>'
        rels.append(("rIdT", f"{R}/styles", "styles.xml"))
        overrides["xl/styles.xml"] = f"{_SML}.styles+xml"
    workbook = f'{_DECL}<workbook xmlns="{S}" xmlns:r="{R}"><sheets>{"".join(entries)}</sheets></workbook>'
    return _zip(
        {
            "[Content_Types].xml": _types(overrides),
            "_rels/.rels": _rels([("rId1", f"{R}/officeDocument", "xl/workbook.xml")]),
            "xl/workbook.xml": workbook,
            "xl/_rels/workbook.xml.rels": _rels(rels),
            **files,
        }
    )
