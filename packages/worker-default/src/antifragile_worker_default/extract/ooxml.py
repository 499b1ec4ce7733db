"""An Office Open XML package (ZIP): its parts parsed safely, and the relationships between them.

Both transitional (schemas.openxmlformats.org) and Strict (purl.oclc.org) packages are read: parts are
found through relationships matched by the type's last segment, and elements by local name or by the
namespace the part itself declares.
"""

import posixpath
import zipfile
from typing import IO

from antifragile_core.errors import CORRUPT_DOCUMENT, bad_input
from lxml import etree

from .base import OfficeLimits

_PLACEHOLDER_TITLES = {"word document", "document", "untitled"}
"""Titles that writing libraries and templates fill in by themselves, not the author's."""
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "huge_tree": False, "load_dtd": False}
"""Entities are never expanded and nothing is fetched; huge_tree off keeps libxml2's own bounds
(nesting depth 256, text nodes of 10 MB)."""


class Package:
    """An opened OOXML package: its parts as parsed XML or streams, and their relationships."""

    def __init__(self, archive: zipfile.ZipFile, limits: OfficeLimits) -> None:
        self.archive = archive
        self.limits = limits
        self.names = set(archive.namelist())

    @property
    def strict(self) -> bool:
        """Saved as Strict Open XML (its relationships use the purl.oclc.org namespaces)."""
        return "_rels/.rels" in self.names and b"purl.oclc.org/ooxml" in self.archive.read("_rels/.rels")

    def open(self, name: str) -> IO[bytes]:
        return self.archive.open(name)

    def xml(self, name: str) -> etree._Element | None:
        """A part parsed safely, or None if the package lacks it."""
        if name not in self.names:
            return None
        with self.archive.open(name) as stream:
            tree = etree.parse(stream, etree.XMLParser(**_PARSER_OPTIONS))
        if tree.docinfo.internalDTD is not None:
            raise bad_input(CORRUPT_DOCUMENT, f"the part {name} declares a DTD, which Office files never do")
        return tree.getroot()

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type's last segment, target part name) for `part` ("" = the package)."""
        folder, base = posixpath.split(part)
        root = self.xml(posixpath.join(folder, "_rels", f"{base}.rels"))
        found: dict[str, tuple[str, str]] = {}
        for rel in root if root is not None else ():
            if rel.get("TargetMode") == "External" or not rel.get("Target"):
                continue
            target = rel.get("Target", "")
            name = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            found[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], posixpath.normpath(name))
        return found

    def related(self, part: str, kind: str) -> list[str]:
        """Target parts of `part`'s relationships of one kind (e.g. "header"), in document order."""
        return [name for rel_kind, name in self.rels(part).values() if rel_kind == kind]

    def core_title(self) -> str | None:
        """The title in the core properties (docProps/core.xml), unless a library or template filled it."""
        for name in self.related("", "core-properties"):
            root = self.xml(name)
            found = root.find(_DC_TITLE) if root is not None else None
            value = (found.text or "").strip() if found is not None else ""
            if value and value.casefold() not in _PLACEHOLDER_TITLES:
                return value
        return None


def local(tag: object) -> str:
    """An element's name without its namespace ("" for comments and processing instructions)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def rel_id(element: etree._Element) -> str | None:
    """The r:id attribute in either the transitional or the Strict relationships namespace."""
    for key, value in element.attrib.items():
        if key.endswith("}id") and "relationships" in key:
            return value
    return None
