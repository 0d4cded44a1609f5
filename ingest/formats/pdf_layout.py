"""From a PDF's per-page text to one readable text: pure functions, no PDF library.

- Running headers and footers are dropped: a line among the first or last two of a page whose
  digit-blind form also sits at an edge of a page one or two before or after it (book titles,
  chapter titles alternating on odd and even pages, "— 3 —"), and lone page numbers. Section
  headings (一、創新背景) are never taken for running lines, and the first of a run of case
  titles is kept (a case title used as running header still opens its case once).
- Lines wrapped inside a sentence are joined: with nothing between two CJK characters, with a
  space between Latin words. A line stays a paragraph end when it ends a sentence (full- or
  half-width 。．！？!?…), is a heading, or is clearly shorter than the page's typical line.
- Punctuation is quoted as extracted; full- and half-width forms are both recognised here and
  normalised for matching by `index.text`.
"""
from __future__ import annotations

import re
import statistics

from ..structure import heading_level, is_toc_line

_EDGE = 2  # lines at the top and at the bottom of a page that may be running
_NEIGHBOURS = (-2, -1, 1, 2)  # pages compared: books alternate headers on odd and even pages
_PAGE_NUMBER = re.compile(r"^[-–—~·\s]*(?:第\s*)?[\d０-９]+\s*(?:[頁页]|/\s*[\d０-９]+)?[-–—~·\s]*$|^(?:page|p\.)\s*\d+$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")
_SENTENCE_END = re.compile(r"(?:[。．！？!?…；;]|(?<![\d.])\.)[”’」』）)\]\"']*$")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_SHORT = 0.7  # a line under this share of the typical line length ends its paragraph


def page_lines(raw: str) -> list[str]:
    """A page's non-empty lines, stripped, without control characters."""
    text = _CONTROL.sub("", raw.replace("\r\n", "\n").replace("\r", "\n"))
    return [line.strip() for line in text.split("\n") if line.strip()]


def _key(line: str) -> str:
    return re.sub(r"[\d０-９]+", "#", re.sub(r"\s+", "", line))


def _edges(lines: list[str]) -> set[int]:
    return set(range(min(_EDGE, len(lines)))) | set(range(max(0, len(lines) - _EDGE), len(lines)))


def drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    edge_keys = [{_key(p[i]) for i in _edges(p)} for p in pages]

    def near(n: int, offsets: tuple[int, ...]) -> set[str]:
        return set().union(*(edge_keys[n + d] for d in offsets if 0 <= n + d < len(pages)))

    out = []
    for n, lines in enumerate(pages):
        neighbours = near(n, _NEIGHBOURS)
        earlier = near(n, tuple(d for d in _NEIGHBOURS if d < 0))
        kept = []
        for i, line in enumerate(lines):
            if i in _edges(lines):
                if _PAGE_NUMBER.match(line):
                    continue
                key, level = _key(line), heading_level(line)
                if key in neighbours and level < 2 and not (level == 1 and key not in earlier):
                    continue
            kept.append(line)
        out.append(kept)
    return out


def _joiner(line: str, following: str, typical: float) -> str:
    """What goes between two consecutive lines: "" or " " (same paragraph) or "\\n"."""
    if heading_level(line) or heading_level(following) or _SENTENCE_END.search(line) or is_toc_line(line):
        return "\n"
    if len(line) < _SHORT * typical:
        return "\n"
    if _CJK.match(line[-1]) or _CJK.match(following[0]):
        return ""
    return " "


def join_pages(pages: list[list[str]]) -> tuple[str, tuple[int, ...]]:
    """(text, offset where each page starts). Lines are joined across page breaks too, so a
    sentence cut by a page break is whole again; its page is where it starts."""
    lengths = [len(line) for lines in pages for line in lines]
    typical = statistics.median(lengths) if lengths else 0.0
    parts: list[str] = []
    starts: list[int | None] = []  # None for a page without text: it starts where the next does
    offset = 0
    previous: str | None = None
    for lines in pages:
        starts.append(None)
        for line in lines:
            if previous is not None:
                joint = _joiner(previous, line, typical)
                parts.append(joint)
                offset += len(joint)
            if starts[-1] is None:
                starts[-1] = offset
            parts.append(line)
            offset += len(line)
            previous = line
    text = "".join(parts) + ("\n" if parts else "")
    following = len(text)
    for n in range(len(starts) - 1, -1, -1):
        starts[n] = following = following if starts[n] is None else starts[n]
    return text, tuple(starts)
