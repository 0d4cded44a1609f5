"""Reading one file's bytes into a `Document`, whatever its format.

The extension names the format a user meant; the content must agree (a PNG named .txt or text
named .pdf is an error that says what the file really is). Owns that dispatch, the size limits
and the shape every format module returns (`Extracted`); each format module owns its own
parsing. Scanned pages (image-only PDF pages, page images) are read by OCR (`formats.ocr`),
with one `Ocr` per ingest run (its settings, cache and progress listener). Finding headings by their numbering, chunking and tagging are left to the rest of
`ingest`.
"""
from __future__ import annotations

import hashlib

from index.records import Document

from ..errors import EmptyDocument, EncryptedDocument, TooLarge, UnsupportedFile, WrongContent
from . import docx, epub, html, image, pdf, plain
from .extracted import Extracted, Limits
from .ocr import Ocr, OcrSettings, PageDone

__all__ = ["Extracted", "Limits", "Ocr", "OcrSettings", "PageDone", "SUFFIXES", "read_document", "describe"]

SUFFIXES = {
    ".txt": "text", ".md": "text", ".markdown": "text",
    ".pdf": "pdf", ".docx": "docx", ".epub": "epub",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".png": "image", ".jpg": "image", ".jpeg": "image", ".tif": "image", ".tiff": "image",
}
_EXTRACTORS = {"text": plain.extract, "docx": docx.extract, "epub": epub.extract, "html": html.extract}
_OCR_EXTRACTORS = {"pdf": pdf.extract, "image": image.extract}  # these may need OCR
_ADVICE = {
    ".doc": "an old binary Word file: save it as .docx",
    ".wps": "a WPS file: save it as .docx",
    ".mobi": "a Kindle file: convert it to .epub",
    ".azw3": "a Kindle file: convert it to .epub",
}
# Signatures of what a file really is, checked against what its extension says.
_MAGIC = (
    (b"%PDF-", "pdf", "a PDF"),
    (b"PK\x03\x04", "zip", "a ZIP archive"),
    (b"PK\x05\x06", "zip", "an empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole", "an encrypted Office file or an old binary .doc"),
    (b"\x89PNG", "image", "a PNG image"),
    (b"\xff\xd8\xff", "image", "a JPEG image"),
    (b"GIF8", "image", "a GIF image"),
    (b"II*\x00", "image", "a TIFF image"),
    (b"MM\x00*", "image", "a TIFF image"),
    (b"\x1f\x8b", "archive", "a gzip archive"),
    (b"Rar!", "archive", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "archive", "a 7-Zip archive"),
    (b"\x7fELF", "program", "a program (ELF)"),
)


def _sniff(data: bytes, fmt: str) -> tuple[str, str] | None:
    """(kind, description) of a recognised binary signature, or None (maybe text)."""
    if fmt == "pdf" and b"%PDF-" in data[:1024]:  # a PDF may have junk before its header
        return "pdf", "a PDF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image", "a WebP image"
    for magic, kind, description in _MAGIC:
        if data.startswith(magic):
            return kind, description
    return None


def read_document(name: str, suffix: str, data: bytes, limits: Limits, ocr: Ocr | None = None) -> Document:
    """The document in `data` (a file called `name` with extension `suffix`); scanned pages
    are read by `ocr` (default: no cache, no progress). Raises an IngestError subclass whose
    message tells the user why the file can't be used."""
    suffix = suffix.lower()
    fmt = SUFFIXES.get(suffix)
    if fmt is None:
        advice = _ADVICE.get(suffix)
        raise UnsupportedFile(f"unsupported format {suffix or '(no extension)'}" + (f" ({advice})" if advice else ""))
    if len(data) > limits.max_file_bytes:
        raise TooLarge(f"larger than the {limits.max_file_bytes // 2**20} MB limit")
    if not data.strip():
        raise EmptyDocument("empty file")
    found = _sniff(data, fmt)
    expected = {"pdf": "pdf", "docx": "zip", "epub": "zip", "image": "image"}.get(fmt)
    if expected and (found is None or found[0] != expected):
        if found and found[0] == "ole" and fmt == "docx":
            raise EncryptedDocument("password-protected (encrypted Office file); save an unprotected copy")
        if fmt == "image":
            raise WrongContent(f"named {suffix} but is not an image ({f'it is {found[1]}' if found else 'no image signature'})")
        what = f"it is {found[1]}" if found else "no PDF or ZIP signature; plain text?"
        raise WrongContent(f"named {suffix} but is not {'an' if fmt == 'epub' else 'a'} {fmt.upper()} file ({what})")
    if not expected and found:
        raise WrongContent(f"named {suffix} but is {found[1]}")
    if fmt in _OCR_EXTRACTORS:
        extracted = _OCR_EXTRACTORS[fmt](data, limits, ocr or Ocr(), name)
    else:
        extracted = _EXTRACTORS[fmt](data, limits)
    if not extracted.text.strip():
        raise EmptyDocument("no text in the file")
    stem = name.rsplit("/", 1)[-1]
    stem = stem[: -len(suffix)] if suffix and stem.lower().endswith(suffix) else stem
    return Document(
        doc=name,
        title=extracted.title or stem,
        text=extracted.text,
        encoding=extracted.encoding,
        sha256=hashlib.sha256(data).hexdigest(),
        page_starts=extracted.page_starts,
        format=fmt,
        headings=extracted.headings,
        ocr=extracted.ocr,
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _ocr_notes(document: Document) -> str:
    """", 2 pages by OCR (2.3 s/page); 1 line unsure (marked); page 2 came out simplified …"."""
    notes = document.ocr
    if notes is None:
        return ""
    read = len(notes.pages)
    per_page = f"{notes.seconds / read:.1f} s/page" if notes.seconds else "from the OCR cache"
    text = f", {'all' if read == len(document.page_starts) else read} by OCR ({per_page})"
    if notes.unsure:
        text += f"; {_plural(len(notes.unsure), 'line')} read with low confidence (passages marked)"
    if notes.simplified_pages:
        text += (
            f"; {_plural(len(notes.simplified_pages), 'page').split(' ', 1)[1]} {', '.join(map(str, notes.simplified_pages))} "
            "came out in simplified script in a traditional book (quotes may differ from the print)"
        )
    return text


def describe(document: Document) -> str:
    """What the CLI prints after the chunk count: a text file's encoding, otherwise the format
    (with the page count for paged formats, and what OCR read)."""
    if document.format == "text":
        return document.encoding
    if document.page_starts:
        return f"{document.format}, {_plural(len(document.page_starts), 'page')}{_ocr_notes(document)}"
    if document.format == "html":
        return f"html, {document.encoding}"
    return document.format
