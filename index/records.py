"""Plain records shared by ingest, index and qa: a decoded document and its chunks."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Document:
    """A decoded source file. `text` is the original text, never normalized."""

    doc: str  # name relative to the ingested root, used as the citation's document
    title: str
    text: str
    encoding: str
    sha256: str  # of the file's bytes
    page_starts: tuple[int, ...] = ()  # offset where each page begins; empty when unpaged

    def page_at(self, offset: int) -> int | None:
        """1-based page holding `offset`, or None for unpaged documents."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
        return page + 1


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

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Chunk:
        return cls(**data)


def chunk_id(doc: str, section: str, text: str, occurrence: int) -> str:
    """Content hash: stable across re-ingests as long as the passage itself is unchanged."""
    key = "\x1f".join((doc, section, text, str(occurrence)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
