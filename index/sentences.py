"""Sentence splitting and CJK detection, for the whole project: chunking, the index's sentence
vectors, evidence, answer checking and display all split text here, so their sentences agree.

`SPLITTER_VERSION` is recorded in the index manifest: sentence vectors are stored per sentence
of each chunk, so an index built with another splitter no longer lines up with these spans and
must be rebuilt (`index.store.check_compatible` says so). Bump it whenever `sentence_spans`
would split any text differently.
"""
from __future__ import annotations

import re

SPLITTER_VERSION = 2

# Han ideographs: extension A, the unified block and the compatibility block.
CJK_CHARS = "\u3400-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{CJK_CHARS}]")

_CLOSERS = "”’」』）)\\]\"'"
# A sentence ends at Chinese or English end punctuation (and any closing quotes), or a line end.
_SENTENCE_END = re.compile(rf"(?:[。！？!?；;…]+|\.(?=\s|$))[{_CLOSERS}]*|\n")
# Text that ends as a sentence does (a label or a heading does not).
_ENDS_SENTENCE = re.compile(rf"[。！？!?；;.…][{_CLOSERS}]*\s*$")
# End punctuation at the very end of a text (possibly none).
_TRAILING_STOP = re.compile(r"[。！？!?；;.…]*$")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans inside text[start:end], whitespace trimmed; together they cover all of
    its non-space text."""
    end = len(text) if end is None else end
    spans = []
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append((cursor, match.end()))
        cursor = match.end()
    spans.append((cursor, end))
    joined: list[tuple[int, int]] = []
    for s, e in spans:
        if not (trimmed := _trim(text, s, e)):
            continue
        # Punctuation alone (the 。 after 」 in `……」。`) is the end of the sentence before it, not a
        # sentence: on its own its vector is near every question's and it wins as the "best sentence".
        if joined and not any(ch.isalnum() for ch in text[trimmed[0]:trimmed[1]]):
            trimmed = (joined.pop()[0], trimmed[1])
        joined.append(trimmed)
    return joined


def ends_as_sentence(text: str) -> bool:
    """Whether `text` ends with sentence punctuation (headings, labels and names do not)."""
    return bool(_ENDS_SENTENCE.search(text))


def trailing_stop(text: str) -> int:
    """Where `text`'s closing end punctuation begins (len(text) when it has none)."""
    return _TRAILING_STOP.search(text).start()


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None
