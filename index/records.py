"""Plain records shared by ingest, index and qa: a decoded document and its chunks."""
from __future__ import annotations

import bisect
import hashlib
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Document:
    """A source file's text. `text` is the original text, never normalized: a text file's
    decoded content, or the text extracted from a PDF, DOCX, EPUB or HTML file (what citations
    quote)."""

    doc: str  # name relative to the ingested root, used as the citation's document
    title: str
    text: str
    encoding: str  # of a text file's bytes; for other formats, how the text was extracted
    sha256: str  # of the file's bytes
    page_starts: tuple[int, ...] = ()  # offset where each page begins; empty when unpaged
    format: str = "text"  # text, pdf, docx, epub or html
    # (start, end, level) of headings the file's markup declares (DOCX styles, HTML h1-h6);
    # plain text leaves this empty and headings are found from their numbering.
    headings: tuple[tuple[int, int, int], ...] = ()
    # the file's path under the ingested root, percent-escaped bytes, when `doc` is not exactly
    # those bytes in UTF-8 (a GBK or Big5 file name, a name with undecodable bytes); else ""
    path_bytes: str = ""

    def page_at(self, offset: int) -> int | None:
        """1-based page holding `offset`, or None for unpaged documents."""
        if not self.page_starts:
            return None
        return max(1, bisect.bisect_right(self.page_starts, offset))


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: `text == document.text[start:end]`, verbatim."""

    id: str
    doc: str
    title: str
    case: str | None
    section: str
    page: int | None
    start: int
    end: int
    text: str
    tags: tuple[str, ...] = ()  # taxonomy tags such as "theme:綠色金融" (ingest/data/taxonomy.json)

    def to_json(self) -> dict:
        data = asdict(self)
        data["tags"] = list(self.tags)
        return data

    @classmethod
    def from_json(cls, data: dict) -> Chunk:
        return cls(**{**data, "tags": tuple(data.get("tags", ()))})


def chunk_id(doc: str, section: str, text: str, occurrence: int) -> str:
    """Content hash: stable across re-ingests as long as the passage itself is unchanged."""
    key = "\x1f".join((doc, section, text, str(occurrence)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
