"""`python -m bench calibrate`: fit the answerability model on DRCD questions nobody reports on.

Builds the calibration split (`bench.drcd`: articles disjoint from the report set's), indexes
it with the shipped pipeline (cached: a re-run embeds nothing unless the corpus, chunking or
model changed), runs every question through retrieval and evidence as the assistant does,
fits a standardized logistic regression on the features of `qa.answerability`, picks the
operating point, and writes `qa/data/answerability.json` (committed; the assistant loads it).
Then fits the quote selector (`bench.quotes`, `qa.selector`) on the same split's answerable
questions and writes `qa/data/quotes.json`.
Two models: one on the Chinese questions, one on their English translations (`bench.english`)
for questions without Chinese characters. Prints each one's ROC (cross-validated on the
calibration questions), operating point and feature ablation. Deterministic: same data, same file.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from index.embedder import load_embedder
from index.store import open_index
from index.text import TextMatcher
from qa.answerability import FEATURE_NAMES, MODEL_PATH, MODELS, AnswerabilityModel, features
from qa.assistant import AssistantSettings
from qa.evidence import EvidenceFinder
from qa.retrieve import Retriever
from qa.selector import MODEL_PATH as QUOTES_PATH

from .drcd import SplitSettings, build_split
from .english import in_english
from .indexes import corpus_index
from .quotes import cases, fit_quotes

REPO = Path(__file__).resolve().parent.parent
# The operating point: the highest probability threshold at which at most this share of the
# calibration set's answerable questions is refused (cross-validated). The product's goal
# allows 3% false refusals; the rest of the error budget goes to answering unanswerables. One
# budget for both models: English questions over Chinese text separate far less well (ROC AUC
# 0.79 against 0.99), so there most unanswerable questions are answered with quotes. (Youden's
# J, tried for English, refused 73% of the English report set's answerable questions: the
# report corpus is four times the calibration corpus, and the features shift with its size.)
MAX_FALSE_REFUSALS = 0.03


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


def fit(x: np.ndarray, y: np.ndarray) -> tuple[AnswerabilityModel, np.ndarray]:
    """The model fitted on all rows, with its threshold chosen on 5-fold cross-validated
    probabilities (returned too)."""
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    held_out = cross_val_predict(_model(), x, y, cv=folds, method="predict_proba")[:, 1]
    answerable = np.sort(held_out[y == 1])
    # Rounded down to six decimals: rounding up could refuse the answerable question it sits on.
    threshold = math.floor(float(answerable[int(np.floor(MAX_FALSE_REFUSALS * len(answerable)))]) * 1e6) / 1e6
    pipeline = _model().fit(x, y)
    scaler, regression = pipeline.steps[0][1], pipeline.steps[1][1]
    model = AnswerabilityModel(
        names=FEATURE_NAMES, mean=tuple(float(v) for v in scaler.mean_), scale=tuple(float(v) for v in scaler.scale_),
        coef=tuple(float(v) for v in regression.coef_[0]), intercept=float(regression.intercept_[0]), threshold=threshold,
    )
    return model, held_out


def ablation(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Cross-validated ROC AUC with all features and with each one left out: which help."""
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)

    def auc(columns: list[int]) -> float:
        p = cross_val_predict(_model(), x[:, columns], y, cv=folds, method="predict_proba")[:, 1]
        return round(float(roc_auc_score(y, p)), 4)

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
        kind = kinds.setdefault(q.get("unanswerable", "answerable"), [0, 0])
        kind[0] += bool(said) if q["evidence"] else not said
        kind[1] += 1
    return {k: f"{a}/{b}" for k, (a, b) in kinds.items()}


def roc_table(y: np.ndarray, probability: np.ndarray, points: int = 12) -> list[dict]:
    fpr, tpr, thresholds = roc_curve(y, probability)
    picks = sorted({int(round(i)) for i in np.linspace(1, len(fpr) - 1, points)})
    return [{"threshold": round(float(thresholds[i]), 4), "unanswerable_answered": round(float(fpr[i]), 4),
             "answerable_answered": round(float(tpr[i]), 4)} for i in picks]


def main(argv: list[str] | None = None) -> int:
    shared = REPO.parent / "shared" / "eval" / "drcd"
    parser = argparse.ArgumentParser(prog="python -m bench calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--drcd", type=Path, default=shared / "DRCD_dev.json", help="DRCD dev split (default ../shared/eval/drcd/DRCD_dev.json)")
    parser.add_argument("--report-set", type=Path, default=shared / "questions.jsonl", help="questions never fitted on (their articles are left out)")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench", help="split, index and caches (default var/bench)")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help=f"model file (default {MODEL_PATH.relative_to(REPO)})")
    parser.add_argument("--quotes-out", type=Path, default=QUOTES_PATH, help=f"quote selector file (default {QUOTES_PATH.relative_to(REPO)})")
    args = parser.parse_args(argv)
    split = SplitSettings()
    corpus, question_file = build_split(args.drcd, args.report_set, args.work / "calibration", split)
    index_dir = corpus_index(corpus, args.work, _log)
    matcher = TextMatcher()
    embedder = load_embedder()
    retriever = Retriever(open_index(index_dir, embedder.name, matcher), embedder, matcher)
    questions = [json.loads(line) for line in question_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    result = {"command": "python -m bench calibrate"}
    for name, asked in zip(MODELS, (questions, in_english(questions))):
        _log(f"{name} model: features of {len(asked)} questions")
        result[name] = calibrated(retriever, asked, {
            "corpus": f"{len(list(corpus.iterdir()))} DRCD dev articles disjoint from the report set's; split {split}",
            "embedding_model": embedder.name, "index": index_dir.name,
            "questions_in": "Chinese (a third simplified)" if name == "chinese" else "English (bench/data/drcd_questions_en.jsonl)",
        })
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    _log(f"model written to {args.out}")
    english = in_english(questions)
    quotes = {"command": "python -m bench calibrate", "fitted_on": {
        "questions": {"chinese": sum(1 for q in questions if q["evidence"]), "english": sum(1 for q in english if q["evidence"])},
        "rows": "every sentence of the passages the assistant retrieves for an answerable question; label: it contains one of DRCD's answer spans",
        "corpus": f"the answerability model's ({len(list(corpus.iterdir()))} articles)", "embedding_model": embedder.name, "index": index_dir.name,
    }, **fit_quotes(retriever, cases(retriever, {"chinese": questions, "english": english}, _log))}
    args.quotes_out.write_text(json.dumps(quotes, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    _log(f"quote selector written to {args.quotes_out}")
    print(json.dumps({**{name: result[name]["cross_validated"] for name in MODELS}, "quotes": quotes["cross_validated"]}, ensure_ascii=False, indent=1))
    return 0


def calibrated(retriever: Retriever, questions: list[dict], fitted_on: dict) -> dict:
    """The model fitted on `questions`, with what it was fitted on and its cross-validated figures."""
    x = question_features(retriever, questions, AssistantSettings().passages)
    y = np.asarray([1 if q["evidence"] else 0 for q in questions])
    model, held_out = fit(x, y)
    return {
        "fitted_on": {
            "questions": len(questions), "answerable": int(y.sum()),
            "unanswerable": {k: sum(1 for q in questions if q.get("unanswerable") == k) for k in ("same-article", "other-article")},
            **fitted_on,
        },
        "cross_validated": {
            "roc_auc": round(float(roc_auc_score(y, held_out)), 4),
            "roc": roc_table(y, held_out),
            "operating_point": {"threshold": model.threshold, "max_false_refusals": MAX_FALSE_REFUSALS,
                                "answerable answered, unanswerable refused": operating_point(questions, held_out, model.threshold)},
            "ablation_roc_auc": ablation(x, y),
        },
        "model": model.to_json(),
    }
