"""Matching text: one normalization and one tokenizer for documents and questions alike.

Display and citations always use the original text; this module only derives the form used
for BM25 tokens and embeddings (NFKC, traditional→simplified with mainland vocabulary,
lower case), so a simplified question finds traditional text and the reverse.
"""
from __future__ import annotations

import hashlib
import logging
import math
import re
import tempfile
import unicodedata
from pathlib import Path

import jieba
import opencc

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_USER_DICT = DATA_DIR / "finance_dict.txt"
DEFAULT_STOPWORDS = DATA_DIR / "stopwords.txt"

jieba.setLogLevel(logging.WARNING)

# A sentence ends at Chinese or English end punctuation (and any closing quotes), or a line end.
_SENTENCE_END = re.compile(r"(?:[。！？!?；;…]+|\.(?=\s|$))[”’」』）)\]\"']*|\n")


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
    return [trimmed for s, e in spans if (trimmed := _trim(text, s, e))]


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


class TextMatcher:
    """Normalizes and tokenizes text for matching. Settings at construction."""

    def __init__(self, user_dict: Path = DEFAULT_USER_DICT, stopwords: Path = DEFAULT_STOPWORDS):
        self._converter = opencc.OpenCC("tw2sp")
        self._jieba = jieba.Tokenizer()
        # jieba caches its parsed dictionary in the temp dir; keep it there, but per user.
        self._jieba.tmp_dir = tempfile.gettempdir()
        self._jieba.load_userdict(str(user_dict))
        self._stopwords = frozenset(stopwords.read_text(encoding="utf-8").split())
        self.dictionary_hash = hashlib.sha256(
            user_dict.read_bytes() + b"\0" + stopwords.read_bytes()
        ).hexdigest()[:16]

    def normalize(self, text: str) -> str:
        """NFKC, traditional→simplified (mainland phrases), lower case. Length may change."""
        return self._converter.convert(unicodedata.normalize("NFKC", text)).lower()

    def term_weight(self, token: str) -> float:
        """How informative a token is in general language: log(total / frequency) from jieba's
        dictionary; words it doesn't know (names, English, rare terms) weigh the most."""
        self._jieba.check_initialized()
        return math.log(self._jieba.total / (self._jieba.FREQ.get(token) or 1))

    def tokens(self, text: str) -> list[str]:
        """BM25 tokens of `text` (original or normalized: normalizing twice is harmless).
        jieba's search mode also emits the words inside compounds (演变成 → 演变, 变成), so a
        question and a passage that phrase a term differently still share tokens."""
        words = self._jieba.lcut_for_search(self.normalize(text))
        return [w for w in (w.strip() for w in words) if _is_word(w) and w not in self._stopwords]
