"""Matching text: one normalization and one tokenizer for documents and questions alike.

Display and citations always use the original text; this module only derives the form used
for BM25 tokens and embeddings (NFKC, traditional→simplified with mainland vocabulary,
lower case), so a simplified question finds traditional text and the reverse.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Iterable

import jieba
import opencc

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_USER_DICT = DATA_DIR / "finance_dict.txt"
DEFAULT_STOPWORDS = DATA_DIR / "stopwords.txt"
DEFAULT_GLOSSARY = DATA_DIR / "glossary_en_zh.tsv"

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


_CJK = "\u3400-\u9fff\uf900-\ufaff"
# Typesetting spaces between CJK characters ("序 言", PDF extraction) split words for jieba.
_CJK_SPACE = re.compile(f"(?<=[{_CJK}])[ \t\u3000]+(?=[{_CJK}])")


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def _read_glossary(path: Path) -> dict[str, str]:
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            english, chinese = line.split("\t")
            entries[english.strip().lower()] = chinese.strip()
    return entries


class TextMatcher:
    """Normalizes and tokenizes text for matching. Settings at construction."""

    def __init__(
        self,
        user_dict: Path = DEFAULT_USER_DICT,
        stopwords: Path = DEFAULT_STOPWORDS,
        glossary: Path = DEFAULT_GLOSSARY,
    ):
        self._converter = opencc.OpenCC("tw2sp")
        self._jieba = jieba.Tokenizer()
        self._jieba.tmp_dir = tempfile.gettempdir()  # where jieba caches its parsed dictionary
        self._jieba.load_userdict(str(user_dict))
        self._stopwords = frozenset(stopwords.read_text(encoding="utf-8").split())
        self._glossary = _read_glossary(glossary)
        # Longest phrases first, whole words only: "green finance" before "green".
        phrases = sorted(self._glossary, key=len, reverse=True)
        self._glossary_pattern = re.compile(
            r"(?<![a-z0-9])(" + "|".join(re.escape(p) for p in phrases) + r")(?![a-z0-9])"
        )
        self.dictionary_hash = hashlib.sha256(
            b"\0".join(p.read_bytes() for p in (user_dict, stopwords, glossary))
        ).hexdigest()[:16]

    def normalize(self, text: str) -> str:
        """NFKC, traditional→simplified (mainland phrases), lower case, no spaces between CJK
        characters. Length may change."""
        text = _CJK_SPACE.sub("", unicodedata.normalize("NFKC", text))
        return self._converter.convert(text).lower()

    def term_weight(self, token: str) -> float:
        """How informative a token is in general language: log(total / frequency) from jieba's
        dictionary; words it doesn't know (names, English, rare terms) weigh the most."""
        self._jieba.check_initialized()
        return math.log(self._jieba.total / (self._jieba.FREQ.get(token) or 1))

    @functools.cached_property
    def _extractors(self) -> dict:
        import jieba.analyse  # loads its IDF table: only once key terms are asked for
        import jieba.posseg

        tfidf, textrank = jieba.analyse.TFIDF(), jieba.analyse.TextRank()
        tfidf.tokenizer = self._jieba
        textrank.tokenizer = textrank.postokenizer = jieba.posseg.POSTokenizer(self._jieba)
        for extractor in (tfidf, textrank):
            extractor.stop_words = extractor.stop_words | self._stopwords
        return {"tfidf": tfidf, "textrank": textrank}

    def key_terms(self, text: str, k: int = 10, method: str = "tfidf", exclude: Iterable[str] = ()) -> list[str]:
        """The k most characteristic words of `text`, in matching form: jieba.analyse TF-IDF
        (jieba's IDF table) or TextRank, over this matcher's dictionary; stopwords, words in
        `exclude` (any script), numbers and one-character words left out."""
        if method not in self._extractors:
            raise ValueError(f"unknown key-term method {method!r}; use {' or '.join(self._extractors)}")
        excluded = {self.normalize(w) for w in exclude}
        terms = self._extractors[method].extract_tags(self.normalize(text), topK=k + len(excluded) + 10)
        return [t for t in terms if _is_word(t) and not t.isdigit() and t not in excluded][:k]

    def words(self, text: str) -> list[str]:
        """jieba's words of the normalized `text` (precise mode, nothing dropped): for rules
        that must see a word as a word, e.g. "其" the pronoun and not "其" inside "其他"."""
        return [w for w in (w.strip() for w in self._jieba.lcut(self.normalize(text))) if w]

    def tokens(self, text: str) -> list[str]:
        """BM25 tokens of `text` (original or normalized: normalizing twice is harmless).
        jieba's search mode also emits the words inside compounds (演变成 → 演变, 变成), so a
        question and a passage that phrase a term differently still share tokens. English
        terms found in the glossary add their Chinese tokens, so English questions meet the
        Chinese text on the sparse side as well."""
        normalized = self.normalize(text)
        translations = " ".join(self._glossary[m] for m in self._glossary_pattern.findall(normalized))
        words = self._jieba.lcut_for_search(f"{normalized} {translations}" if translations else normalized)
        return [w for w in (w.strip() for w in words) if _is_word(w) and w not in self._stopwords]
