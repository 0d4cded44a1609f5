"""What a question asks for: its kind (who / when / number / where / which / reason / what) and
whether a sentence holds that kind of thing (a number or date, a person's name, a place).

Owns the question-word patterns (over the matching form: simplified script, lower case) and the
part-of-speech test behind "holds a name". A feature of the quote selector (`qa.selector`) and of
answerability (`qa.answerability`).
"""
from __future__ import annotations

import functools
import re

QUESTION_TYPES = ("who", "when", "number", "where", "which", "reason", "what")
FACTOID = frozenset({"who", "when", "number", "where", "which"})
# The first pattern that matches decides.
_TYPE_PATTERNS = (
    ("when", re.compile(r"何时|什么时|哪一?年|哪一?天|哪一?月|几月|几年|几日|何年|年份|日期|多久|什么年代|哪一?个朝代|哪一?个时期|when", re.I)),
    ("number", re.compile(r"多少|几|多大|多长|多高|多远|多重|多深|多宽|比例|how (?:many|much)", re.I)),
    ("who", re.compile(r"谁|何人|哪一?位|哪些人|什么人|哪一?个人|\bwho\b", re.I)),
    ("where", re.compile(r"哪里|哪儿|何处|何地|什么地方|哪一?个地方|哪一?个城市|哪一?个国家|在哪|\bwhere\b", re.I)),
    ("reason", re.compile(r"为什么|为何|如何|怎么|怎样|原因|\bwhy\b|\bhow\b", re.I)),
    ("which", re.compile(r"哪|何|\bwhich\b", re.I)),
)
_COUNTED = r"[一二三四五六七八九十百千万亿两〇零]+[年月日号个位名次%％万亿千百元人倍]"  # a numeral with its unit: 三年, 第二次
_NUMBER = re.compile(rf"[0-9０-９]|{_COUNTED}|世纪|年代")
# What a question states as a number: runs of digits or numerals, and a numeral with its unit.
_NUMBER_RUN = re.compile(rf"[0-9０-９][0-9０-９.,%％]*|[一二三四五六七八九十百千万亿两〇零]{{2,}}|{_COUNTED}")
# jieba part-of-speech tags: person names (nr), places (ns), organizations (nt), other proper nouns (nz).
_NAME_TAGS = {"who": ("nr", "nt"), "where": ("ns",), "which": ("nr", "ns", "nt", "nz")}


def question_type(normalized_question: str) -> str:
    """The kind of answer asked for, from the question's matching form."""
    return next((kind for kind, pattern in _TYPE_PATTERNS if pattern.search(normalized_question)), "what")


@functools.lru_cache(maxsize=1)
def _pos_tokenizer():
    import jieba.posseg

    return jieba.posseg.POSTokenizer()


def holds_answer_kind(kind: str, normalized_text: str, normalized_question: str = "") -> bool:
    """Whether the text (matching form) holds what a question of `kind` asks for: a number or
    date for when/number questions, a person's or organization's name for who, a place for
    where, a proper noun or number for which. Other kinds ask for nothing this can see: True.
    What the question itself states is not its answer: the question's numbers and names in
    the text do not count (「2025年的净利润是多少」 is not answered by a sentence about 2025)."""
    for given in sorted(set(_NUMBER_RUN.findall(normalized_question)), key=len, reverse=True):
        normalized_text = normalized_text.replace(given, " ")
    if kind in ("when", "number") or (kind == "which" and _NUMBER.search(normalized_text)):
        return bool(_NUMBER.search(normalized_text))
    if kind in _NAME_TAGS:
        return any(pair.flag.startswith(_NAME_TAGS[kind]) and pair.word not in normalized_question for pair in _pos_tokenizer().lcut(normalized_text))
    return True
