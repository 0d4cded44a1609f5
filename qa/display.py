"""Showing source text to people: script conversion for display, Markdown-safe text, and
the formatted reference of a passage. Conversion never touches what is stored or cited."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

import opencc

from index.records import Chunk

DisplayScript = Literal["original", "simplified", "traditional"]
DISPLAY_SCRIPTS: tuple[DisplayScript, ...] = ("original", "simplified", "traditional")
_CONFIGS = {"simplified": "t2s", "traditional": "s2t"}
# Every character CommonMark or Streamlit's Markdown gives a meaning to.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:&])")


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
    """`text` shown literally by Markdown: no emphasis, links, headings or HTML from a document."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


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
