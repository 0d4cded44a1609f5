"""`python -m bench calibrate`: fit the answerability model on DRCD questions nobody reports on.

Builds the calibration splits (`bench.drcd`: articles disjoint from the report set's; three
corpora of different sizes, `CALIBRATION_SPLITS`), indexes each with the shipped pipeline
(cached: a re-run embeds nothing unless a corpus, chunking or model changed), runs every
question through retrieval and evidence as the assistant does, fits a standardized logistic
regression on the features of `qa.answerability` over the questions of all corpora pooled,
picks the operating point, and writes `qa/data/answerability.json` (committed; the assistant
loads it). Two models: one on the Chinese questions (with `--reworded`, on their rewordings
too, `bench.wordings`: measured and not shipped, docs/answerability.md), one on their English
translations for questions without Chinese characters. Prints each one's ROC
(cross-validated on the calibration questions, folds grouped by DRCD question), operating
point by kind and by corpus, how a model fitted on some corpus sizes carries over to another,
and a feature ablation. Then fits the quote selector (`bench.quotes`, `qa.selector`) on the
answerable questions of the same corpora and writes `qa/data/quotes.json`. Deterministic: same data, same file.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from index.embedder import load_embedder
from index.store import open_index
from index.text import TextMatcher
from qa.answerability import FEATURE_NAMES, MODEL_PATH, MODELS, AnswerabilityModel, features
from qa.assistant import AssistantSettings
from qa.case_model import CaseModel
from qa.evidence import EvidenceFinder
from qa.retrieve import Retriever
from qa.selector import MODEL_PATH as QUOTES_PATH

from .drcd import SplitSettings, build_split
from .wordings import ENGLISH, REWORDED, drcd_id, in_wording
from .indexes import corpus_index
from .quotes import Case, cases, fit_quotes

REPO = Path(__file__).resolve().parent.parent
# The operating point: the highest probability threshold at which at most this share of the
# calibration set's answerable questions is refused (cross-validated). The product's goal
# allows 3% false refusals; the rest of the error budget goes to answering unanswerables. One
# budget for both models: English questions over Chinese text separate far less well (ROC AUC
# 0.79 against 0.99), so there most unanswerable questions are answered with quotes. (Youden's
# J, tried for English, refused 73% of the English report set's answerable questions: the
# report corpus is four times the calibration corpus, and the features shift with its size.)
MAX_FALSE_REFUSALS = 0.03
# The corpora questions are asked over: seeded samples of the 200 non-report articles, of three
# sizes, each with two paragraphs held out of every article that has three or more (one of one
# that has two). Features such as how far the best cosine stands out of the index or leads the
# tenth move with the corpus (the report corpus is 383 articles, the book 28 passages): with
# one 100-article corpus, the English operating point refused 3% of its answerable questions
# and 10% of the report set's (Youden's J: 44% and 73%). Pooled over sizes, no feature's scale
# is tied to one; `transfer` shows how a fit carries over to a size it did not see. Two
# paragraphs held out, over three samples, ask five times as many near unanswerable questions
# (about an article the corpus has) as one paragraph over one corpus did.
CALIBRATION_SPLITS = (
    SplitSettings(articles=50, held_out=2, seed=1),
    SplitSettings(articles=100, held_out=2, seed=0),
    SplitSettings(articles=150, held_out=2, seed=2),
)


def _log(message: str) -> None:
    print(f"[calibrate {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def question_features(retriever: Retriever, questions: list[dict], passages: int) -> np.ndarray:
    """One row of features per question, computed exactly as the assistant computes them."""
    finder = EvidenceFinder(retriever)
    rows = []
    for n, q in enumerate(questions):
        hits = retriever.search(q["question"], k=passages)
        rows.append(features(q["question"], finder.sentences(q["question"], hits), retriever).vector())
        if n % 200 == 199:
            _log(f"{n + 1}/{len(questions)} questions")
    return np.asarray(rows, dtype=np.float64)


def _model(C: float = 1.0):
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))


def kind(question: dict) -> str:
    return question.get("unanswerable", "answerable")


def balanced_weights(kinds: list[str]) -> np.ndarray:
    """Row weights under which every kind of unanswerable question (near: about an article the
    corpus has; far: about one it lacks) counts as much as the other, their total unchanged;
    answerable rows weigh 1."""
    counts = Counter(k for k in kinds if k != "answerable")
    unanswerable = sum(counts.values())
    return np.asarray([1.0 if k == "answerable" else unanswerable / (len(counts) * counts[k]) for k in kinds])


def _fitted(x: np.ndarray, y: np.ndarray, weights: np.ndarray):
    return _model().fit(x, y, logisticregression__sample_weight=weights)


def cross_validated(x: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None, weights: np.ndarray | None = None) -> np.ndarray:
    """P(answerable) of every row from a model fitted without its fold (5 folds, stratified; a
    group, one DRCD question asked over several corpora, stays in one fold)."""
    groups = np.arange(len(y)) if groups is None else groups
    weights = np.ones(len(y)) if weights is None else weights
    held_out = np.empty(len(y))
    for train, test in StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0).split(x, y, groups):
        held_out[test] = _fitted(x[train], y[train], weights[train]).predict_proba(x[test])[:, 1]
    return held_out


def threshold_for(probability: np.ndarray, y: np.ndarray) -> float:
    """The highest threshold that refuses at most `MAX_FALSE_REFUSALS` of the answerable rows,
    rounded down to six decimals (rounding up could refuse the answerable question it sits on)."""
    answerable = np.sort(probability[y == 1])
    return math.floor(float(answerable[int(np.floor(MAX_FALSE_REFUSALS * len(answerable)))]) * 1e6) / 1e6


def fit(x: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None, weights: np.ndarray | None = None) -> tuple[AnswerabilityModel, np.ndarray]:
    """The model fitted on all rows, with its threshold chosen on cross-validated probabilities
    (returned too)."""
    held_out = cross_validated(x, y, groups, weights)
    pipeline = _fitted(x, y, np.ones(len(y)) if weights is None else weights)
    return AnswerabilityModel.from_pipeline(pipeline, FEATURE_NAMES, threshold=threshold_for(held_out, y)), held_out


def ablation(x: np.ndarray, y: np.ndarray, groups: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """Cross-validated ROC AUC with all features and with each one left out: which help."""

    def auc(columns: list[int]) -> float:
        return round(float(roc_auc_score(y, cross_validated(x[:, columns], y, groups, weights))), 4)

    everything = list(range(x.shape[1]))
    out = {"all": auc(everything)}
    for i, name in enumerate(FEATURE_NAMES):
        out[f"without {name}"] = auc([c for c in everything if c != i])
    out["best_dense alone"] = auc([FEATURE_NAMES.index("best_dense")])
    return out


def operating_point(questions: list[dict], probability: np.ndarray, threshold: float) -> dict:
    answered = probability >= threshold
    kinds: dict[str, list[int]] = {}
    for q, said in zip(questions, answered):
        tally = kinds.setdefault(kind(q), [0, 0])
        tally[0] += bool(said) if q["evidence"] else not said
        tally[1] += 1
    return {k: f"{a}/{b}" for k, (a, b) in kinds.items()}


def by_wording(questions: list[dict], probability: np.ndarray, threshold: float) -> dict:
    """`operating_point` for each wording of the questions (DRCD's own: "drcd")."""
    wordings = np.asarray([q.get("wording", "drcd") for q in questions])
    return {w: operating_point([q for q, mine in zip(questions, wordings == w) if mine], probability[wordings == w], threshold)
            for w in dict.fromkeys(wordings)}


def roc_table(y: np.ndarray, probability: np.ndarray, points: int = 12) -> list[dict]:
    fpr, tpr, thresholds = roc_curve(y, probability)
    picks = sorted({int(round(i)) for i in np.linspace(1, len(fpr) - 1, points)})
    return [{"threshold": round(float(thresholds[i]), 4), "unanswerable_answered": round(float(fpr[i]), 4),
             "answerable_answered": round(float(tpr[i]), 4)} for i in picks]


@dataclass(frozen=True, eq=False)
class Asked:
    """The questions asked over one calibration corpus, with their features (rows in order;
    equal only to itself)."""

    corpus: str  # e.g. "100 articles"
    questions: list[dict]
    x: np.ndarray


def pooled(parts: Sequence[Asked]) -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Questions, features, labels, groups (DRCD question) and weights of `parts` together."""
    questions = [q for part in parts for q in part.questions]
    y = np.asarray([1 if q["evidence"] else 0 for q in questions])
    groups = np.asarray([drcd_id(q["id"]) for q in questions])
    return questions, np.vstack([part.x for part in parts]), y, groups, balanced_weights([kind(q) for q in questions])


def transfer(parts: Sequence[Asked]) -> dict[str, dict[str, dict]]:
    """How a model and its operating point carry over to a corpus of another size: fitted (and
    its threshold chosen, cross-validated) on one corpus, or on all but one, then applied to
    each corpus it did not see."""
    out = {}
    trainings = [[part] for part in parts] + ([[p for p in parts if p is not left] for left in parts] if len(parts) > 2 else [])
    for train in trainings:
        _, x, y, groups, weights = pooled(train)
        model, _ = fit(x, y, groups, weights)
        out[f"fitted on {' + '.join(p.corpus for p in train)}"] = {
            f"applied to {p.corpus}": operating_point(p.questions, model.probabilities(p.x), model.threshold)
            for p in parts if p not in train
        }
    return out


def calibrated(parts: Sequence[Asked], fitted_on: dict) -> dict:
    """The model fitted on the questions of every corpus pooled, with what it was fitted on and
    its cross-validated figures."""
    questions, x, y, groups, weights = pooled(parts)
    model, held_out = fit(x, y, groups, weights)
    rows = np.cumsum([0] + [len(p.questions) for p in parts])
    return {
        "fitted_on": {
            "questions": len(questions), "answerable": int(y.sum()),
            "unanswerable": {k: sum(1 for q in questions if kind(q) == k) for k in ("same-article", "other-article")},
            "corpora": {p.corpus: dict(Counter(kind(q) for q in p.questions)) for p in parts},
            "weights": "near and far unanswerable questions count equally (balanced_weights)",
            **fitted_on,
        },
        "cross_validated": {
            "roc_auc": round(float(roc_auc_score(y, held_out)), 4),
            "roc": roc_table(y, held_out),
            "operating_point": {
                "threshold": model.threshold, "max_false_refusals": MAX_FALSE_REFUSALS,
                "answerable answered, unanswerable refused": operating_point(questions, held_out, model.threshold),
                "by corpus": {p.corpus: operating_point(p.questions, held_out[a:b], model.threshold) for p, a, b in zip(parts, rows, rows[1:])},
                "by wording": by_wording(questions, held_out, model.threshold),
            },
            "across corpus sizes": transfer(parts),
            "ablation_roc_auc": ablation(x, y, groups, weights),
        },
        "model": model.to_json(),
    }


@dataclass(frozen=True)
class Calibration:
    """What one calibration corpus gives: each model's questions with their features, the
    quote selector's cases, and the retriever over its index."""
    asked: dict[str, Asked]
    quote_cases: list[Case]
    retriever: Retriever
    index_name: str


def calibration_over(split: SplitSettings, args: argparse.Namespace, embedder, matcher: TextMatcher) -> Calibration:
    """The calibration questions of one split, in Chinese and in English, with their features
    over its corpus, and the quote selector's cases of its answerable ones."""
    corpus, question_file = build_split(args.drcd, args.report_set, args.work / f"calibration-{split.articles}", split)
    index_dir = corpus_index(corpus, args.work, _log)
    retriever = Retriever(open_index(index_dir, embedder.name, matcher), embedder, matcher, second_model=CaseModel())  # as shipped
    questions = [json.loads(line) for line in question_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    label = f"{split.articles} articles"
    english = in_wording(questions, ENGLISH)
    by_model = dict(zip(MODELS, (questions + (in_wording(questions, REWORDED) if args.reworded else []), english)))
    asked = {}
    for name, rows in by_model.items():
        _log(f"{label}, {name} model: features of {len(rows)} questions")
        asked[name] = Asked(label, rows, question_features(retriever, rows, AssistantSettings().passages))
    quote_cases = cases(retriever, dict(zip(MODELS, (questions, english))), _log)
    return Calibration(asked, quote_cases, retriever, index_dir.name)


def selector_fit(calibrations: Sequence[Calibration], embedder) -> dict:
    """The quote selector fitted on the answerable questions of every calibration corpus, with
    its figures (folds grouped by article, so an article in two corpora stays in one fold)."""
    data = [case for c in calibrations for case in c.quote_cases]
    questions = {language: sum(1 for case in data if case.language == language) for language in MODELS}
    return {"command": "python -m bench calibrate", "fitted_on": {
        "questions": questions,
        "rows": "every sentence of the passages the assistant retrieves for an answerable question; label: it contains one of DRCD's answer spans",
        "corpus": f"{len(CALIBRATION_SPLITS)} corpora of DRCD dev articles disjoint from the report set's; splits {list(CALIBRATION_SPLITS)}",
        "embedding_model": embedder.name, "indexes": [c.index_name for c in calibrations],
    }, **fit_quotes(data)}


def main(argv: list[str] | None = None) -> int:
    shared = REPO.parent / "shared" / "eval" / "drcd"
    parser = argparse.ArgumentParser(prog="python -m bench calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--drcd", type=Path, default=shared / "DRCD_dev.json", help="DRCD dev split (default ../shared/eval/drcd/DRCD_dev.json)")
    parser.add_argument("--report-set", type=Path, default=shared / "questions.jsonl", help="questions never fitted on (their articles are left out)")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench", help="splits, indexes and caches (default var/bench)")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help=f"model file (default {MODEL_PATH.relative_to(REPO)})")
    parser.add_argument("--reworded", action="store_true",
                        help="fit the Chinese model on the questions' rewordings too (not shipped: docs/answerability.md)")
    parser.add_argument("--quotes-out", type=Path, default=QUOTES_PATH, help=f"quote selector file (default {QUOTES_PATH.relative_to(REPO)})")
    args = parser.parse_args(argv)
    matcher = TextMatcher()
    embedder = load_embedder()
    calibrations = [calibration_over(split, args, embedder, matcher) for split in CALIBRATION_SPLITS]
    parts = {name: [c.asked[name] for c in calibrations] for name in MODELS}
    indexes = [c.index_name for c in calibrations]
    result = {"command": "python -m bench calibrate"}
    for name in MODELS:
        _log(f"{name} model: fitting")
        result[name] = calibrated(parts[name], {
            "corpus": f"{len(CALIBRATION_SPLITS)} corpora of DRCD dev articles disjoint from the report set's; splits {list(CALIBRATION_SPLITS)}",
            "embedding_model": embedder.name, "indexes": indexes,
            "questions_in": ("Chinese (a third simplified)" + (" and each reworded (bench/data/drcd_questions_zh_reworded.jsonl)" if args.reworded else ""))
                            if name == "chinese" else "English (bench/data/drcd_questions_en.jsonl)",
        })
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    _log(f"model written to {args.out}")
    quotes = selector_fit(calibrations, embedder)
    args.quotes_out.write_text(json.dumps(quotes, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    _log(f"quote selector written to {args.quotes_out}")
    print(json.dumps({**{name: result[name]["cross_validated"] for name in MODELS}, "quotes": quotes["cross_validated"]}, ensure_ascii=False, indent=1))
    return 0
