"""Which of a question's retrieved sentences holds its answer: a logistic model over features
every candidate sentence already has, fitted on DRCD questions nobody reports on
(`python -m bench calibrate`, labels "this sentence contains DRCD's answer span").

Owns the sentence features and the fitted models (`data/quotes.json`: feature names,
standardization, coefficients, with what they were fitted on and their cross-validated
figures): one for Chinese questions, one for questions without Chinese characters, which also
reads the second model's cosine of each sentence (`qa.rerank.SentenceCosines`).
Scoring the sentences is `qa.evidence`'s job, and so is choosing quotes by these probabilities.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from index.sentences import has_cjk, sentence_spans
from index.text import TextMatcher

from .logistic import StandardizedLogistic
from .questions import FACTOID, holds_answer_kind, question_type

MODEL_PATH = Path(__file__).parent / "data" / "quotes.json"
_SPACE = re.compile(r"\s+")
_WORD_CHAR = re.compile(r"\w")

# The columns of `sentence_features`. Measured on the calibration split and left out (the
# answer sentence ranked first no more often without them): the gap of its cosine to the best
# one's, the lexical share of the sentences before and after it (apart), the number of its
# characters the question lacks, whether the question is factoid or how/why (the same for all
# of a question's sentences).
FEATURE_NAMES = (
    "dense",  # cosine to the question (stored sentence vector)
    "lexical",  # weighted share of the question's informative words in it
    "score_gap",  # its evidence score minus the best sentence's
    "passage_rank",  # rank of its passage
    "position",  # where in its passage: 0 first sentence … 1 last
    "holds_kind",  # holds what a who/when/number/where/which question asks (a name, number, date, place) beyond what the question states
    "log_chars",  # log of its length in word characters
    # Weighted share of the question's words that are specific among the retrieved passages
    # (a word all of them hold, an article's subject, counts little): the fact asked about.
    "specific",
    "novelty",  # share of its characters that are not in the question: a restatement has few
    "next_to_best",  # the sentence just before or after the best-scored one, in its passage
    "order",  # log(1 + its place among the sentences by evidence score)
    "bigrams",  # share of the question's character bigrams in it
    "window_lexical",  # the best lexical share of it and its two neighbours: the answer sits next to a restatement
    "passage_order",  # log(1 + how many sentences of its passage score above it)
)
# The model for questions without Chinese characters adds the second model's view (across
# languages the passage embedder's cosines say less): the sentence's cosine to the question and
# log(1 + its place among the question's sentences by that cosine). Cross-validated on the
# calibration corpora the likeliest sentence held the answer more often with them for English
# questions (0.611 -> 0.676) and no more often for Chinese ones (docs/answerability.md,
# "The second model's view of the best sentences").
SECOND_FEATURES = ("second", "second_order")
MODEL_FEATURES = {"chinese": FEATURE_NAMES, "other": FEATURE_NAMES + SECOND_FEATURES}
MODELS = tuple(MODEL_FEATURES)


def sentence_features(question: str, sentences: Sequence, matcher: TextMatcher, second: np.ndarray | None = None) -> np.ndarray:
    """One row of `FEATURE_NAMES` per sentence of `sentences` (`qa.evidence.Sentence`s of
    `question`, best first by evidence score); with `second` (the second model's cosine of
    each), `SECOND_FEATURES` after them."""
    asked = matcher.normalize(question)
    kind = question_type(asked)
    weights = {token: matcher.term_weight(token) for token in set(matcher.tokens(question))}
    passages = {s.hit.chunk.id: _SPACE.sub("", matcher.normalize(s.hit.chunk.text)) for s in sentences}
    specific = {t: w * sum(t not in text for text in passages.values()) / len(passages) for t, w in weights.items()}
    specific_total = sum(specific.values()) or 1.0
    question_chars = set(_WORD_CHAR.findall(asked))
    bigrams = {asked[i : i + 2] for i in range(len(asked) - 1)}
    by_start = {(s.hit.chunk.doc, s.start): s for s in sentences}
    best = sentences[0]
    above: dict[str, int] = {}  # sentences of each passage seen so far (best first)
    rows = []
    for order, s in enumerate(sentences):
        chunk = s.hit.chunk
        text = _SPACE.sub("", matcher.normalize(s.text))
        starts = [chunk.start + start for start, _ in sentence_spans(chunk.text)]
        at = starts.index(s.start)
        around = [x for i in (at - 1, at + 1) if 0 <= i < len(starts) and (x := by_start.get((chunk.doc, starts[i]))) is not None]
        chars = _WORD_CHAR.findall(text)
        rows.append((
            s.dense, s.lexical, s.score - best.score, s.hit.rank, at / max(len(starts) - 1, 1),
            float(kind in FACTOID and holds_answer_kind(kind, text, asked)), math.log1p(len(chars)),
            sum(w for t, w in specific.items() if t in text) / specific_total,
            sum(c not in question_chars for c in chars) / max(len(chars), 1),
            float(any(x.start == best.start and x.hit.chunk.doc == best.hit.chunk.doc for x in around)),
            math.log1p(order), sum(g in text for g in bigrams) / max(len(bigrams), 1),
            max([s.lexical] + [x.lexical for x in around]), math.log1p(above.get(chunk.id, 0)),
        ))
        above[chunk.id] = above.get(chunk.id, 0) + 1
    x = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(FEATURE_NAMES))
    if second is None:
        return x
    order = np.empty(len(second))
    order[np.argsort(-second, kind="stable")] = np.arange(len(second))
    return np.column_stack([x, second, np.log1p(order)])


@dataclass(frozen=True)
class QuoteModel(StandardizedLogistic):
    """P(a sentence holds the answer) from its row of `sentence_features`."""

    @property
    def reads_second(self) -> bool:
        """Whether its rows need the second model's cosines."""
        return self.names[len(FEATURE_NAMES):] == SECOND_FEATURES


@dataclass(frozen=True)
class QuoteModels:
    """The selector for Chinese questions and the one for questions without Chinese characters."""

    chinese: QuoteModel
    other: QuoteModel

    def for_question(self, question: str) -> QuoteModel:
        return self.chinese if has_cjk(question) else self.other


def load_quote_models(path: Path = MODEL_PATH) -> QuoteModels:
    data = json.loads(path.read_text(encoding="utf-8"))
    models = data.get("models") or {}
    return QuoteModels(*(QuoteModel(**QuoteModel.fields(models.get(name) or {}, MODEL_FEATURES[name], f"{path}'s {name} model")) for name in MODELS))
