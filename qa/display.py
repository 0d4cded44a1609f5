"""Showing source text to people: script conversion for display, Markdown-safe text, and
the formatted reference of a passage. Conversion never touches what is stored or cited."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

import opencc

from index.records import Chunk
from index.text import sentence_spans

DisplayScript = Literal["original", "simplified", "traditional"]
DISPLAY_SCRIPTS: tuple[DisplayScript, ...] = ("original", "simplified", "traditional")
_CONFIGS = {"simplified": "t2s", "traditional": "s2t"}
# Every character CommonMark or Streamlit's Markdown gives a meaning to.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-=.!|~<>$:&])")
# GFM links bare URLs, www. names and e-mail addresses found in text after escapes are read,
# so escaping cannot stop them: an invisible word joiner inside "://", "www." and "@" does.
_AUTOLINK_LITERAL = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)


@lru_cache(maxsize=None)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def in_script(text: str, script: DisplayScript) -> str:
    """`text` converted for display; "original" returns it unchanged."""
    if script == "original":
        return text
    if script not in _CONFIGS:
        raise ValueError(f"unknown display script {script!r}; use one of {', '.join(DISPLAY_SCRIPTS)}")
    return _converter(_CONFIGS[script]).convert(text)


def escape_markdown(text: str) -> str:
    """`text` shown literally by Markdown: no emphasis, links, headings or HTML from a document,
    a model or a server. The one escape for all such text on the page."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _AUTOLINK_LITERAL.sub("\u2060", text)).replace("\n", "  \n")


def outline_markdown(text: str) -> str:
    """Model-written Markdown shown safely: headings become bold lines and "- " bullets stay
    bullets; everything else on each line is escaped (no links, HTML or emphasis)."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            lines.append(f"**{escape_markdown(stripped.lstrip('#').strip())}**")
        elif stripped.startswith(("- ", "* ")):
            lines.append(f"- {escape_markdown(stripped[2:].strip())}")
        else:
            lines.append(escape_markdown(stripped))
    return "\n".join(lines)


def tag_label(tag: str) -> str:
    """"theme:綠色金融" → "綠色金融 (theme)": a tag as people read it."""
    kind, _, value = tag.partition(":")
    return f"{value} ({kind.replace('_', ' ')})" if value else tag


def reference(chunk: Chunk) -> str:
    """A full reference: title, case, section, page, file and character offsets."""
    parts = [f"《{chunk.title}》"]
    if chunk.case and chunk.case not in chunk.section:
        parts.append(chunk.case)
    if chunk.section:
        parts.append(chunk.section)
    if chunk.page:
        parts.append(f"p. {chunk.page}")
    parts.append(f"{chunk.doc}, characters {chunk.start}–{chunk.end}")
    return " · ".join(parts)


def _bigrams(text: str) -> set[str]:
    squashed = re.sub(r"\W+", "", text)
    return {squashed[i : i + 2] for i in range(len(squashed) - 1)}


def supporting_span(passage: str, answer_text: str, n: int) -> tuple[int, int] | None:
    """The sentence of `passage` that best supports what `answer_text` says before each `[n]`,
    as offsets into `passage`; None when nothing overlaps."""
    claims = [m.group(1) for m in re.finditer(rf"([^\[\]]*?)\[{n}\]", answer_text)]
    claim_grams = set().union(*(_bigrams(c) for c in claims)) if claims else set()
    best, best_overlap = None, 0
    for start, end in sentence_spans(passage):
        overlap = len(_bigrams(passage[start:end]) & claim_grams)
        if overlap > best_overlap:
            best, best_overlap = (start, end), overlap
    return best
