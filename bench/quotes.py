"""The quote selector's fit (`qa.selector`), part of `python -m bench calibrate`.

Owns its labels ("the sentence contains one of DRCD's answer spans", matching form), fitting
the logistic models on every retrieved sentence of the calibration corpora's answerable
questions (`FITTED_ON`: the Chinese one on the Chinese questions and their English translations,
the English one on the translations with the second model's cosines), and their
cross-validated figures (5 folds by article — an article keeps its file name in every corpus —
so no article is both fitted and scored): how
often the likeliest sentence holds the answer, against the evidence score's best, and what the
quotes hold, and how long they are, for a few values of `EvidenceSettings.quote_share` and
`neighbour_share`. Deterministic.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Callable

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from index.text import TextMatcher
from qa.assistant import AssistantSettings
from qa.evidence import EvidenceFinder, EvidenceSettings, Sentence
from qa.retrieve import Retriever
from qa.selector import MODEL_FEATURES, QuoteModel, QuoteModels, sentence_features

FOLDS = 5
SHARES = (0.8, 0.7, 0.6, 0.5)  # quote_share values whose cross-validated quotes are reported
# neighbour_share values reported too, with the shipped quote_share (inf: no neighbour but the
# one holding what a factoid question asks)
NEIGHBOUR_SHARES = (float("inf"), 0.45, 0.3, 0.2)
_SPACE = re.compile(r"\s+")


@dataclasses.dataclass(frozen=True)
class Case:
    question: dict
    language: str  # the model it is for: "chinese", or "other" (its English translation)
    sentences: list[Sentence]
    x: np.ndarray
    y: np.ndarray  # 1 where the sentence holds an answer span
    retriever: Retriever  # over the corpus it was asked of (quoting an English question reads its second model)


def cases(retriever: Retriever, questions: dict[str, list[dict]], log: Callable[[str], None]) -> list[Case]:
    """Every answerable question's retrieved sentences (as the assistant scores them), their
    features and labels; `questions`: the model they are for ("chinese", "other") -> question rows."""
    finder = EvidenceFinder(retriever)
    matcher = retriever.matcher
    out = []
    for language, rows in questions.items():
        for q in (q for q in rows if q["evidence"]):
            hits = retriever.search(q["question"], k=AssistantSettings().passages)
            sentences = finder.sentences(q["question"], hits)
            if sentences:
                y = np.asarray([float(holds_answer(matcher, q["answers"], s.text)) for s in sentences])
                second = finder.second_cosines(q["question"], sentences) if language == "other" else None
                out.append(Case(q, language, sentences, sentence_features(q["question"], sentences, matcher, second), y, retriever))
        log(f"quote selector: sentences of {language} questions")
    return out


def holds_answer(matcher: TextMatcher, answers: list[str], text: str) -> bool:
    """Whether `text` contains one of the answer spans (matching form, spaces removed, as the
    shared scorer compares them in simplified script)."""
    squashed = _SPACE.sub("", matcher.normalize(text))
    return any(_SPACE.sub("", matcher.normalize(a)) in squashed for a in answers)


# The cases each model is fitted on. The Chinese model: every case, Chinese questions and their
# English translations, with the shared features (fitted on the Chinese ones alone, the quotes
# held the answer less often: 0.906 against 0.917 cross-validated). The English model: the
# English cases, with the second model's cosines too.
FITTED_ON = {"chinese": ("chinese", "other"), "other": ("other",)}


def _models(data: list[Case]) -> dict[str, QuoteModel]:
    models = {}
    for name, names in MODEL_FEATURES.items():
        mine = [c for c in data if c.language in FITTED_ON[name]]
        x, y = np.vstack([c.x[:, : len(names)] for c in mine]), np.concatenate([c.y for c in mine])
        models[name] = QuoteModel.from_pipeline(make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)).fit(x, y), names)
    return models


def fit_quotes(data: list[Case]) -> dict:
    """The models fitted on all of `data`, with their cross-validated figures (each case
    scored by the model for its language fitted without its fold)."""
    held_out: list[QuoteModel | None] = [None] * len(data)
    for train, test in GroupKFold(n_splits=FOLDS).split(np.zeros(len(data)), groups=[c.question["doc"] for c in data]):
        models = _models([data[i] for i in train])
        for i in test:
            held_out[i] = models[data[i].language]
    figures = {}
    matcher = data[0].retriever.matcher
    for language in MODEL_FEATURES:
        mine = [(c, m) for c, m in zip(data, held_out) if c.language == language]
        row = {"questions": len(mine), "evidence_best_holds_answer": _share(c.y[_first_quotable(c, np.arange(len(c.y)))] for c, _ in mine),
               "likeliest_holds_answer": _share(c.y[_first_quotable(c, np.argsort(-m.probabilities(c.x[:, : len(m.names)]), kind="stable"))] for c, m in mine)}
        for name, settings in [(f"quote_share {share}", EvidenceSettings(quote_share=share)) for share in SHARES] + [
                (f"neighbour_share {share}", EvidenceSettings(neighbour_share=share)) for share in NEIGHBOUR_SHARES]:
            quoted = [EvidenceFinder(c.retriever, settings, QuoteModels(m, m)).quotes(c.question["question"], c.sentences) for c, m in mine]
            row[name] = {
                "quotes_hold_answer": _share(holds_answer(matcher, c.question["answers"], "".join(s.text for s in q)) for (c, _), q in zip(mine, quoted)),
                "quoted_chars": round(float(np.mean([sum(len(s.text) for s in q) for q in quoted])), 1),
                "quoted_sentences": round(float(np.mean([len(q) for q in quoted])), 2),
            }
        figures[language] = row
    return {"cross_validated": figures, "models": {name: model.to_json() for name, model in _models(data).items()}}


def _first_quotable(case: Case, order: np.ndarray) -> int:
    return next((int(i) for i in order if case.sentences[i].quotable), int(order[0]))


def _share(values) -> float:
    values = [float(v) for v in values]
    return round(sum(values) / len(values), 4)
