"""EPUB: the chapters in spine order (container.xml → package document → spine), each read as
XHTML by `formats.html`, so chapter headings are h1–h6. DRM-encrypted chapters are refused."""
from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from urllib.parse import unquote

from ..errors import CorruptDocument, EncryptedDocument
from .archive import open_zip, read_member
from .extracted import Extracted, Limits
from .html import decode_html, html_lines

_CHAPTER_TYPES = frozenset({"application/xhtml+xml", "text/html"})
_FONT_OBFUSCATION = frozenset({"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"})


def _xml(data: bytes, name: str) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise CorruptDocument(f"damaged EPUB: {name} is not valid XML ({exc})") from exc


def _check_not_encrypted(archive, names: set[str]) -> None:
    """encryption.xml also lists obfuscated fonts, which are harmless; anything else is DRM."""
    if "META-INF/encryption.xml" not in names:
        return
    root = _xml(read_member(archive, "META-INF/encryption.xml", "EPUB"), "META-INF/encryption.xml")
    for method in root.findall(".//{*}EncryptionMethod"):
        if method.get("Algorithm") not in _FONT_OBFUSCATION:
            raise EncryptedDocument("encrypted EPUB (DRM): its chapters cannot be read")


def extract(data: bytes, limits: Limits) -> Extracted:
    archive = open_zip(data, limits, "EPUB")
    names = set(archive.namelist())
    if "META-INF/container.xml" not in names:
        raise CorruptDocument("not an EPUB: a ZIP without META-INF/container.xml")
    _check_not_encrypted(archive, names)
    container = _xml(read_member(archive, "META-INF/container.xml", "EPUB"), "container.xml")
    rootfile = container.find(".//{*}rootfile")
    opf_path = rootfile.get("full-path") if rootfile is not None else None
    if not opf_path:
        raise CorruptDocument("damaged EPUB: container.xml names no package document")
    package = _xml(read_member(archive, opf_path, "EPUB"), opf_path)
    base = posixpath.dirname(opf_path)
    manifest = {
        item.get("id"): (item.get("href") or "", item.get("media-type") or "")
        for item in package.findall(".//{*}item")
    }
    title_element = package.find(".//{*}metadata/{*}title")
    title = (title_element.text or "").strip() if title_element is not None else None
    lines: list[tuple[str, int]] = []
    for itemref in package.findall(".//{*}itemref"):
        href, media_type = manifest.get(itemref.get("idref"), ("", ""))
        if media_type not in _CHAPTER_TYPES or not href:
            continue
        path = posixpath.normpath(posixpath.join(base, unquote(href)))
        chapter, _ = decode_html(read_member(archive, path, "EPUB"))
        lines.extend(html_lines(chapter)[0])
    return Extracted.from_lines(lines, encoding="epub", title=title or None)
