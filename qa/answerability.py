"""Whether the corpus answers a question: a logistic model over features of the retrieval and of
the best sentences, fitted on many questions (`python -m bench calibrate`), not a hand-set cosine.

Owns the features the decision uses, and the fitted model (`data/answerability.json`: feature names,
standardization, coefficients and the operating point, with what it was fitted on). Scoring
sentences is `qa.evidence`'s job; retrieval is `qa.retrieve`'s. Two models with the same
features: one for Chinese questions, one for questions without Chinese characters (fitted on
English translations of the same calibration questions; cross-language cosines run lower and
closer together, and the lexical features mostly stay at zero).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from index.sentences import has_cjk

from .evidence import Sentence
from .logistic import ModelMismatch, StandardizedLogistic  # noqa: F401 (ModelMismatch: raised by load_answerability)
from .questions import holds_answer_kind, question_type
from .retrieve import Retriever

MODEL_PATH = Path(__file__).parent / "data" / "answerability.json"


@dataclass(frozen=True)
class Features:
    """The decision's inputs for one question; `vector()` is in `FEATURE_NAMES` order."""

    best_dense: float  # cosine of the best sentence (by evidence score)
    best_lexical: float  # share of the question's informative words in that sentence
    passage_lexical: float  # the share in the best sentence's whole passage
    hits_lexical: float  # the share found anywhere in the retrieved passages
    missing: float  # the weight of the most informative question word the best passage lacks, over the largest weight
    vocabulary: float  # weighted share of the question's words the corpus has at all
    bm25_peak: float  # top BM25 score over the mean of the top ten (how much one passage stands out)
    expects_number_found: float  # when/number questions: 1 when the best sentence holds a number or date
    question_chars: float  # log of the question's length
    # The weighted share in the best sentence of the question's words that are specific among
    # the retrieved passages: a word's weight falls with the share of them holding it, so the
    # topic every passage shares (an article's subject) counts little and the fact asked about
    # counts most. A question about an article the corpus has, asking what it does not say,
    # matches the topic but not the fact.
    specific_lexical: float
    passage_bigrams: float  # share of the question's character bigrams found in the best passage
    # How far the best cosines stand out of what any text of this index scores for this
    # question (`Retriever.cosine_spread`): in standard deviations, for sentences and passages,
    # and the best sentence cosine's lead over the tenth. Cross-language cosines are lower and
    # closer together than Chinese ones; how far the best stands out says more than its value.
    sentence_z: float
    passage_z: float
    sentence_lead: float

    def vector(self) -> list[float]:
        return [getattr(self, name) for name in FEATURE_NAMES]


# Measured and left out (cross-validated ROC AUC did not rise with them, docs/answerability.md):
# the question's type, dense/BM25 agreement on the top passage, the gap to the next sentence.
FEATURE_NAMES = (
    "best_dense", "best_lexical", "passage_lexical", "hits_lexical", "missing", "vocabulary",
    "bm25_peak", "expects_number_found", "question_chars", "specific_lexical", "passage_bigrams",
    "sentence_z", "passage_z", "sentence_lead",
)


def features(question: str, sentences: Sequence[Sentence], retriever: Retriever) -> Features:
    """The features of `question` given its scored sentences (best first, from
    `EvidenceFinder.sentences`) and the retriever that found them."""
    matcher = retriever.matcher
    normalized = matcher.normalize(question)
    kind = question_type(normalized)
    tokens = matcher.tokens(question)
    weights = {t: matcher.term_weight(t) for t in set(tokens)}
    total = sum(weights.values()) or 1.0
    index = retriever.index
    vocabulary = sum(w for t, w in weights.items() if t in index.bm25.vocab_dict) / total
    known = [t for t in tokens if t in index.bm25.vocab_dict]
    scores = index.bm25.get_scores(known) if known else np.zeros(len(index.chunks))
    top = np.sort(scores)[::-1][:10]
    bm25_peak = float(top[0] / (top.mean() or 1.0)) if top.size and top[0] > 0 else 0.0
    length = math.log1p(len(question))
    (sentence_mean, sentence_std), (passage_mean, passage_std) = retriever.cosine_spread(question)
    vector = retriever.question_vector(question)
    best_sentences = index.sentence_dense.search(vector, min(10, index.sentence_dense.ntotal))[0][0]
    best_passage = float(index.dense.search(vector, 1)[0][0][0]) if index.dense.ntotal else 0.0
    spread = dict(
        sentence_z=(float(best_sentences[0]) - sentence_mean) / sentence_std if best_sentences.size else 0.0,
        passage_z=(best_passage - passage_mean) / passage_std,
        sentence_lead=float(best_sentences[0] - best_sentences[-1]) if best_sentences.size else 0.0,
    )
    if not sentences:
        return Features(0.0, 0.0, 0.0, 0.0, 1.0, vocabulary, bm25_peak, 0.0, length, 0.0, 0.0, **spread)
    best = sentences[0]

    def matching(text: str) -> str:
        return re.sub(r"\s+", "", matcher.normalize(text))

    passage = matching(best.hit.chunk.text)
    retrieved = [matching(h.chunk.text) for h in dict.fromkeys(s.hit for s in sentences)]
    passages = "\n".join(retrieved)
    largest = max(weights.values(), default=0.0) or 1.0
    specific = {t: w * sum(t not in text for text in retrieved) / len(retrieved) for t, w in weights.items()}
    sentence = matching(best.text)
    asked = "".join(re.findall(r"\w", matcher.normalize(question)))
    bigrams = {asked[i : i + 2] for i in range(len(asked) - 1)}
    return Features(
        best_dense=best.dense, best_lexical=best.lexical,
        passage_lexical=sum(w for t, w in weights.items() if t in passage) / total,
        hits_lexical=sum(w for t, w in weights.items() if t in passages) / total,
        missing=max((w for t, w in weights.items() if t not in passage), default=0.0) / largest,
        vocabulary=vocabulary, bm25_peak=bm25_peak,
        expects_number_found=float(kind in ("when", "number") and holds_answer_kind(kind, matcher.normalize(best.text), matcher.normalize(question))),
        question_chars=length,
        specific_lexical=sum(w for t, w in specific.items() if t in sentence) / (sum(specific.values()) or 1.0),
        passage_bigrams=sum(g in passage for g in bigrams) / (len(bigrams) or 1),
        **spread,
    )


@dataclass(frozen=True)
class AnswerabilityModel(StandardizedLogistic):
    """P(answerable) of a question's `Features`; the corpus answers when P reaches `threshold`."""

    threshold: float

    def probability(self, found: Features) -> float:
        return float(self.probabilities(np.asarray([found.vector()]))[0])

    def to_json(self) -> dict:
        return {**super().to_json(), "threshold": self.threshold}


@dataclass(frozen=True)
class Answerability:
    """The model for Chinese questions and the one for questions without Chinese characters."""

    chinese: AnswerabilityModel
    other: AnswerabilityModel

    def model_for(self, question: str) -> AnswerabilityModel:
        return self.chinese if has_cjk(question) else self.other


MODELS = ("chinese", "other")


def load_answerability(path: Path = MODEL_PATH) -> Answerability:
    data = json.loads(path.read_text(encoding="utf-8"))
    models = []
    for name in MODELS:
        model = data.get(name, {}).get("model") or {}
        models.append(AnswerabilityModel(**StandardizedLogistic.fields(model, FEATURE_NAMES, f"{path}'s {name} model"), threshold=float(model["threshold"])))
    return Answerability(*models)
