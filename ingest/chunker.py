"""Chunking: sentences grouped into passages of about `target`–`max_chars` characters.

A chunk never crosses a section; it prefers to end at a paragraph end, cuts inside a sentence
only when that sentence alone exceeds `max_chars`, and a heading-only line joins the text under
it. Every chunk is `document.text[start:end]`, verbatim.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from index.records import Chunk, Document, chunk_id

from index.sentences import sentence_spans

from .structure import Block, blocks, heading_title

_SOFT_BREAK = re.compile(r"[，,、：:]")


@dataclass(frozen=True)
class ChunkSettings:
    target: int = 220  # stop growing a chunk once it is this long
    max_chars: int = 350
    min_chars: int = 120  # a paragraph end closes a chunk only past this length
    overlap: int = 60  # carry trailing sentences up to this length into the next chunk

    def __post_init__(self):
        if not 0 < self.min_chars <= self.target <= self.max_chars:
            raise ValueError("chunk settings need 0 < min_chars <= target <= max_chars")
        if not 0 <= self.overlap < self.min_chars:
            raise ValueError("chunk overlap must be >= 0 and below min_chars")

    def to_json(self) -> dict:
        return asdict(self)


def _pieces(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Split one over-long sentence at clause marks (，、：) or, failing that, hard."""
    out = []
    while end - start > max_chars:
        window = text[start : start + max_chars]
        breaks = [m.end() for m in _SOFT_BREAK.finditer(window) if m.end() >= max_chars // 2]
        cut = start + (breaks[-1] if breaks else max_chars)
        out.append((start, cut))
        start = cut
    out.append((start, end))
    return out


@dataclass(frozen=True)
class _Unit:
    """A sentence (or piece of one) with the section it sits in and its paragraph number."""

    start: int
    end: int
    section: tuple[str, ...]
    paragraph: int
    case: str | None = None


def _units(text: str, found: list[Block], max_chars: int) -> list[_Unit]:
    """Sentence units in order. Heading lines glue onto the first sentence after them, so a
    heading always opens the chunk holding its first text."""
    units: list[_Unit] = []
    path: list[tuple[int, str, bool]] = []  # (level, title, opens a case) of open headings
    pending: int | None = None  # start of heading lines not yet followed by text
    for number, block in enumerate(found):
        if block.is_heading:
            title = heading_title(text[block.start : block.end])
            path = [entry for entry in path if entry[0] < block.level] + [(block.level, title, block.opens_case)]
            pending = block.start if pending is None else pending
            continue
        section = tuple(t for _, t, _ in path)
        case = next((t for _, t, opens in path if opens), None)
        spans = sentence_spans(text, block.start, block.end)
        if pending is not None:
            spans[0] = (pending, spans[0][1])
            pending = None
        for s, e in spans:
            units.extend(_Unit(ps, pe, section, number, case) for ps, pe in _pieces(text, s, e, max_chars))
    return units


@dataclass(frozen=True)
class Span:
    """Where a chunk lies, the heading path above it and the case it belongs to."""

    start: int
    end: int
    section: tuple[str, ...]
    case: str | None


def chunk_spans(text: str, settings: ChunkSettings, headings: tuple[tuple[int, int, int], ...] = ()) -> list[Span]:
    """The chunks of `text`; `headings` as in `structure.blocks`."""
    units = _units(text, blocks(text, headings), settings.max_chars)
    spans: list[Span] = []
    current: list[_Unit] = []
    carried = 0  # how many units at the head of `current` repeat the previous chunk's tail

    def flush(carry: bool) -> None:
        nonlocal current, carried
        if len(current) <= carried:  # nothing new since the last chunk
            current, carried = [], 0
            return
        spans.append(Span(current[0].start, current[-1].end, current[0].section, current[0].case))
        kept: list[_Unit] = []
        if carry:
            for unit in reversed(current[1:]):
                if sum(u.end - u.start for u in kept) + unit.end - unit.start > settings.overlap:
                    break
                kept.insert(0, unit)
        current, carried = kept, len(kept)

    for i, unit in enumerate(units):
        if current and unit.section != current[-1].section:
            flush(carry=False)
        elif current and unit.end - current[0].start > settings.max_chars:
            flush(carry=unit.paragraph == current[-1].paragraph)
            if current and unit.end - current[0].start > settings.max_chars:
                current, carried = [], 0  # the overlap would push this chunk past the limit
        current.append(unit)
        length = unit.end - current[0].start
        next_unit = units[i + 1] if i + 1 < len(units) else None
        paragraph_ends = next_unit is None or next_unit.paragraph != unit.paragraph
        if length >= settings.target or (paragraph_ends and length >= settings.min_chars):
            flush(carry=not paragraph_ends)
    flush(carry=False)
    return _merge_short_tails(spans, settings)


def _merge_short_tails(spans: list[Span], settings: ChunkSettings) -> list[Span]:
    """A short last chunk of a section joins the one before it when both fit in max_chars."""
    merged: list[Span] = []
    for span in spans:
        if merged:
            previous = merged[-1]
            if (
                previous.section == span.section
                and span.end - span.start < settings.min_chars
                and span.end - previous.start <= settings.max_chars
                and span.start >= previous.start
            ):
                merged[-1] = Span(previous.start, max(previous.end, span.end), span.section, span.case)
                continue
        merged.append(span)
    return merged


def chunk_document(document: Document, settings: ChunkSettings) -> list[Chunk]:
    """The chunks of one document, with content-hash ids and verbatim text."""
    chunks: list[Chunk] = []
    seen: dict[tuple[str, str], int] = {}
    for span in chunk_spans(document.text, settings, document.headings):
        start, end = span.start, span.end
        text = document.text[start:end]
        section_path = " > ".join(span.section)
        occurrence = seen.get((section_path, text), 0)
        seen[(section_path, text)] = occurrence + 1
        ocr, unsure = document.ocr.marks(start, end) if document.ocr else (False, False)
        chunks.append(
            Chunk(
                id=chunk_id(document.doc, section_path, text, occurrence),
                doc=document.doc,
                title=document.title,
                case=span.case,
                section=section_path,
                page=document.page_at(start),
                start=start,
                end=end,
                text=text,
                ocr=ocr,
                ocr_unsure=unsure,
            )
        )
    return chunks

