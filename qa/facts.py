"""Whether a statement keeps the facts of its sources that word overlap cannot see: its
numbers (三分钟 is not 三十分钟; 3 minutes is 三分钟) and its negation (推动 is not 未推动).

Owns reading quantities from Chinese numerals (cn2an) and English number words (text2num),
and finding the source sentence a statement restates. Whether the rest of the statement is
supported is `qa.evidence`'s question; `qa.verify` asks both.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Sequence

import cn2an
from text_to_num import alpha2digit

from index.text import TextMatcher, sentence_spans

from .retrieve import Hit

# Arabic numbers (a thousands separator only before three digits: "，" reads as "," too).
_ARABIC = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
# A word's leading Chinese numeral (百分之三十 is thirty).
_CHINESE = re.compile(r"^(?:百分之)?([零〇一二两三四五六七八九十百千万亿]+)")
_MULTIPLIER = {"万": 1e4, "亿": 1e8}
# A bare unit (万家, 百姓) or a bare 一 (一些, 一是, 一站式) is rarely a count: not read as one.
_NOT_A_QUANTITY = re.compile(r"^[百千万亿]+$|^一$")
_NEGATIONS = frozenset("不 没 没有 未 未能 并未 无 无法 无需 非 并非 不是 不能 不会 不再 不得 并不 从未 尚未 别 勿".split())
# jieba keeps some negated verbs as one word (未推动 = 未 + 推动); words that merely start
# with such a character (不良, 未来, 无论, 非常: one character left) are not negations.
_NEGATION_START = ("不", "未", "没", "无", "非")
_ENGLISH_NEGATION = re.compile(r"\b(?:not|no|never|none|neither|nor|without|cannot)\b|n't\b", re.IGNORECASE)
_LATIN = re.compile(r"[A-Za-z]")
_PERCENT_AFTER = re.compile(r"\s*(?:%|percent\b|per cent\b)", re.IGNORECASE)


@dataclass(frozen=True)
class FactSettings:
    # A statement restates the source sentence sharing this share of its character bigrams;
    # below it no sentence is its counterpart and negation is not compared.
    min_counterpart_overlap: float = 0.5


class FactCheck:
    """Compares a statement's numbers and negation with its cited passages."""

    def __init__(self, matcher: TextMatcher, settings: FactSettings = FactSettings()):
        self._matcher = matcher
        self.settings = settings

    def quantities(self, text: str) -> set[str]:
        """The numbers `text` states, as values ("3", "30%"; a number before 万/亿 also
        multiplied out). A percentage is not the same number as a count."""
        text = self._matcher.normalize(text)
        if _LATIN.search(text):
            text = alpha2digit(text, "en")
        values: set[str] = set()
        for match in _ARABIC.finditer(text):
            after = text[match.end() :]
            values |= _forms(float(match.group().replace(",", "")), after[:1], bool(_PERCENT_AFTER.match(after)))
        words = self._matcher.words(text)
        for word, following in zip(words, [*words[1:], ""]):
            match = _CHINESE.match(word)
            if match and not _NOT_A_QUANTITY.match(match.group(1)) and (value := _value(match.group(1))) is not None:
                values |= _forms(value, word[match.end() : match.end() + 1] or following[:1], word.startswith("百分之"))
        return values

    def negated(self, text: str) -> bool:
        return bool(_ENGLISH_NEGATION.search(text)) or any(
            word in _NEGATIONS or (word.startswith(_NEGATION_START) and len(word) > 2 and self._known(word[1:]))
            for word in self._matcher.words(text)
        )

    def _known(self, word: str) -> bool:
        """In jieba's dictionary: lighter than a word that cannot exist."""
        return self._matcher.term_weight(word) < self._matcher.term_weight("\0")

    def agrees(self, statement: str, hits: Sequence[Hit]) -> bool:
        """Every number of `statement` is stated by one of the passages, and the sentence it
        restates (when one clearly does) is negated exactly when `statement` is."""
        sources = [hit.chunk.text for hit in hits]
        if not self.quantities(statement) <= set().union(set(), *(self.quantities(text) for text in sources)):
            return False
        counterpart = self._counterpart(statement, sources)
        return counterpart is None or self.negated(counterpart) == self.negated(statement)

    def _counterpart(self, statement: str, sources: Sequence[str]) -> str | None:
        grams = _bigrams(self._matcher.normalize(statement))
        best, best_share = None, self.settings.min_counterpart_overlap
        for text in sources:
            for start, end in sentence_spans(text):
                sentence = text[start:end]
                share = len(grams & _bigrams(self._matcher.normalize(sentence))) / (len(grams) or 1)
                if share >= best_share:
                    best, best_share = sentence, share
        return best


def _forms(value: float, unit: str, percent: bool) -> set[str]:
    if percent:
        return {f"{value:g}%"}
    return {f"{value:g}", f"{value * _MULTIPLIER.get(unit, 1.0):g}"}


def _value(numeral: str) -> float | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cn2an warns about forms it cannot read (十四五)
        try:
            return float(cn2an.cn2an(numeral, "smart"))
        except (ValueError, KeyError):
            return None


def _bigrams(text: str) -> set[str]:
    chars = re.sub(r"\W+", "", text)
    return {chars[i : i + 2] for i in range(len(chars) - 1)}
