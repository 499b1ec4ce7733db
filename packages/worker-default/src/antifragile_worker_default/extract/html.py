"""HTML text through selectolax (lexbor): script, style, template and noscript never reach the text."""

from selectolax.lexbor import LexborHTMLParser

from .base import HTML, Extracted, tidy, title

_BLOCK_TAGS = "p,div,br,li,tr,h1,h2,h3,h4,h5,h6,section,article,header,footer,blockquote,pre,table,dt,dd"


def extract_html(markup: str) -> Extracted:
    """Visible text, one line per block; the title from <title>, else the first heading."""
    tree = LexborHTMLParser(markup)
    for node in tree.css("script,style,noscript,template"):
        node.decompose()
    titles = (node.text(strip=True) for node in tree.css("title,h1,h2,h3,h4,h5,h6"))
    doc_title = next((text for text in titles if text), None)
    for node in tree.css(_BLOCK_TAGS):
        node.insert_after("\n")
    root = tree.body or tree.root
    text = root.text(deep=True, separator="", strip=False) if root is not None else ""
    return Extracted(HTML, tidy(text.replace("\t", " ")), 1, title(doc_title))
