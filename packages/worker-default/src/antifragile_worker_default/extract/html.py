"""HTML text through selectolax (lexbor): script, style and templates never reach the text."""

from selectolax.lexbor import LexborHTMLParser

from .base import HTML, Extracted, tidy, title

_BLOCK_TAGS = "p,div,br,li,tr,h1,h2,h3,h4,h5,h6,section,article,header,footer,blockquote,pre,table,dt,dd"


def extract_html(markup: str) -> Extracted:
    tree = LexborHTMLParser(markup)
    title_node = tree.css_first("title") or tree.css_first("h1")
    doc_title = title_node.text(strip=True) if title_node is not None else None
    for node in tree.css("script,style,noscript,template"):
        node.decompose()
    for node in tree.css(_BLOCK_TAGS):
        node.insert_after("\n")
    root = tree.body or tree.root
    text = root.text(deep=True, separator="", strip=False) if root is not None else ""
    return Extracted(HTML, tidy(text.replace("\t", " ")), 1, title(doc_title))
