"""What every format module returns, the limits they honour, and the assembly of extracted
lines into one text with heading offsets."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Size caps that keep one hostile file from exhausting the machine."""

    max_file_bytes: int = 50 * 2**20
    max_unzipped_bytes: int = 200 * 2**20  # a DOCX or EPUB's total uncompressed size
    max_zip_members: int = 10_000
    max_pdf_pages: int = 2_000  # the whole book is a few hundred


@dataclass(frozen=True)
class Extracted:
    """Text extracted from one file. `text` is what citations quote; `headings` are
    (start, end, level) of lines the file's markup declares as headings."""

    text: str
    encoding: str
    title: str | None = None
    page_starts: tuple[int, ...] = ()
    headings: tuple[tuple[int, int, int], ...] = ()

    @classmethod
    def from_lines(cls, lines: list[tuple[str, int]], encoding: str, title: str | None = None) -> Extracted:
        """One line per (text, heading level) pair, level 0 for body text; blank lines dropped."""
        parts: list[str] = []
        headings: list[tuple[int, int, int]] = []
        offset = 0
        for text, level in lines:
            text = text.strip()
            if not text:
                continue
            if level:
                headings.append((offset, offset + len(text), level))
            parts.append(text)
            offset += len(text) + 1
        return cls(text="\n".join(parts) + ("\n" if parts else ""), encoding=encoding, title=title, headings=tuple(headings))
