"""`python -m bench ranking`: how fusion settings rank, on DRCD questions nobody reports on.

Owns tuning our retriever's fusion. Builds the tuning split (`bench.drcd`: every DRCD dev article
the report set leaves out, 200 of 383, one paragraph of each held out as the calibration split
does; its answerable questions are ranked; no far questions, since ranking needs an answer in
the corpus; the calibration split's 100 articles are among the 200), indexes it with the shipped pipeline (cached), and asks
the retriever once per question for its candidates and each ranker's scores of them
(`Retriever.signals`). Every variant is then a pure re-ranking of those scores (`qa.retrieve.fuse`,
`qa.fusion.rrf`), so a grid costs seconds, not an index per setting. A hit counts as the shared
DRCD scorer counts it (from the question's document, covering its evidence sentence).

Variants, for the questions as DRCD words them and as reworded (`bench.wordings`: a reader's own
words, not the article's): the score fusion over a grid of dense shares and chunk/sentence mixes; reciprocal rank
fusion as shipped before (BM25 counted twice the dense ranking, k 60); each ranker alone over
the same candidates; and a logistic regression over the scaled scores and their ranks,
cross-validated by question, to see whether learned weights beat the plain mix.

The same questions in English (`bench.wordings`): the shipped fusion, and its first N passages
re-ranked with the second model's best-sentence cosine (`qa.rerank`) over a grid of N and
weights, cross-validated by article (the weights of each fold's questions chosen on the other
folds'); and the cost per English question of `search`, side by side with and without it.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from index.embedder import load_embedder
from index.store import open_index
from index.text import TextMatcher
from qa.case_model import CaseModel
from qa.fusion import rrf, scaled
from qa.rerank import rerank
from qa.retrieve import RetrievalSettings, Retriever, Signals, fuse

from .drcd import SplitSettings, build_split
from .wordings import ENGLISH, REWORDED, in_wording
from .indexes import corpus_index
from .quality import load_scorer, read_questions

REPO = Path(__file__).resolve().parent.parent
K = 10
SHARES = (0.35, 0.5, 0.65, 0.8)
WHOLE_CHUNK_WEIGHTS = (0.25, 0.5, 0.75)
TOPS = (10, 20, 30, 50)  # passages re-ranked with the second model (questions without Chinese characters)
TUNING_SPLIT = SplitSettings(articles=None, far_questions=0)

Ranking = Callable[[Signals], list[tuple[int, float]]]


def _log(message: str) -> None:
    print(f"[ranking {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Case:
    """One question's candidates, scores and the ids of the candidates that answer it."""

    question: str
    doc: str  # the question's article
    signals: Signals
    relevant: frozenset[str]


def cases(retriever: Retriever, questions: list[dict], covers: Callable[[str, str], bool]) -> list[Case]:
    """Signals of every answerable question, both rankers run (any share strictly between 0
    and 1 then ranks the same candidates the retriever would)."""
    chunks = retriever.index.chunks
    out = []
    for q in (q for q in questions if q["evidence"]):
        signals = retriever.signals(q["question"], share=0.5)
        relevant = frozenset(
            chunks[r].id for r in signals.rows if chunks[r].doc == q["doc"] and any(covers(chunks[r].text, e) for e in q["evidence"])
        )
        out.append(Case(q["question"], q["doc"], signals, relevant))
    return out


def figures(retriever: Retriever, data: list[Case], ranking: Ranking | list[list[tuple[int, float]]]) -> dict:
    """R@1, R@5 and MRR@10 of a ranking (a function of the signals, or one fused list per case)."""
    r1 = r5 = mrr = 0.0
    for n, case in enumerate(data):
        fused = ranking[n] if isinstance(ranking, list) else ranking(case.signals)
        hits = retriever.hits(fused, K)
        rank = next((h.rank for h in hits if h.chunk.id in case.relevant), None)
        if rank:
            r1, r5, mrr = r1 + (rank == 1), r5 + (rank <= 5), mrr + 1 / rank
    n = max(len(data), 1)
    return {"recall@1": round(r1 / n, 4), "recall@5": round(r5 / n, 4), "mrr@10": round(mrr / n, 4)}


def previous_rrf(signals: Signals, settings: RetrievalSettings = RetrievalSettings()) -> list[tuple[int, float]]:
    """The fusion shipped before: ranks fused, BM25 twice the dense ranking, k 60."""
    rows = [int(r) for r in signals.rows]
    dense = [rows[i] for i in np.argsort(-signals.dense(settings.whole_chunk_weight), kind="stable")]
    bm25 = [rows[i] for i in np.argsort(-signals.bm25, kind="stable") if signals.bm25[i] > 0]
    return rrf([dense, bm25], [0.5, 1.0], k=60)


def _features(signals: Signals) -> np.ndarray:
    """Per candidate: scaled chunk cosine, best-sentence cosine and BM25, and the reciprocal
    ranks of the dense and BM25 scores (as rank fusion sees them)."""
    dense = signals.dense(0.5)
    ranks = [np.argsort(np.argsort(-s, kind="stable")) + 1 for s in (dense, signals.bm25)]
    return np.column_stack([
        scaled(signals.chunk_cosine), scaled(signals.sentence_cosine), scaled(signals.bm25, floor=0.0),
        1 / (60 + ranks[0]), np.where(signals.bm25 > 0, 1 / (60 + ranks[1]), 0.0),
    ])


def learned(retriever: Retriever, data: list[Case], folds: int = 5) -> list[list[tuple[int, float]]]:
    """Each case ranked by a logistic regression fitted on the other folds' cases."""
    chunks = retriever.index.chunks
    x = [_features(c.signals) for c in data]
    y = [np.array([chunks[r].id in c.relevant for r in c.signals.rows], dtype=int) for c in data]
    out: list[list[tuple[int, float]]] = [[] for _ in data]
    for train, test in KFold(folds, shuffle=True, random_state=0).split(np.arange(len(data))):
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        model.fit(np.concatenate([x[i] for i in train]), np.concatenate([y[i] for i in train]))
        for i in test:
            score = model.decision_function(x[i])
            rows = data[i].signals.rows
            out[i] = [(int(rows[j]), float(score[j])) for j in np.argsort(-score, kind="stable")]
    return out


def measure(retriever: Retriever, data: list[Case]) -> list[dict]:
    shipped = retriever.settings
    rows = [
        {"fusion": "rrf (before)", **figures(retriever, data, previous_rrf)},
        {"fusion": "bm25 alone", **figures(retriever, data, lambda s: fuse(s, 0.0, shipped.whole_chunk_weight))},
        {"fusion": "dense alone", **figures(retriever, data, lambda s: fuse(s, 1.0, shipped.whole_chunk_weight))},
    ]
    for share in SHARES:
        for w in WHOLE_CHUNK_WEIGHTS:
            mark = " (shipped)" if (share, w) == (shipped.dense_share, shipped.whole_chunk_weight) else ""
            rows.append({"fusion": f"score, dense share {share}, whole chunk {w}{mark}",
                         **figures(retriever, data, lambda s, a=share, b=w: fuse(s, a, b))})
    rows.append({"fusion": "logistic regression (5-fold)", **figures(retriever, data, learned(retriever, data))})
    return rows


@dataclass(frozen=True)
class English:
    """A question without Chinese characters: the shipped fusion's ranking of its candidates,
    and the dense, BM25 and second-model scores of its first `max(TOPS)` passages."""

    case: Case
    fused: list[tuple[int, float]]
    dense: np.ndarray
    bm25: np.ndarray
    second: np.ndarray

    def ranking(self, top: int, weights: tuple[float, float, float]) -> list[tuple[int, float]]:
        return rerank(self.fused, self.dense[:top], self.bm25[:top], self.second[:top], weights)


def english_cases(retriever: Retriever, data: list[Case]) -> list[English]:
    """What re-ranking needs of each case, the second model run once over its first passages."""
    settings = retriever.settings
    out = []
    for case in data:
        s = case.signals
        fused = fuse(s, settings.share(case.question), settings.whole_chunk_weight)
        top = np.array([row for row, _ in fused[: max(TOPS)]], dtype=np.int64)
        at = np.searchsorted(s.rows, top)
        out.append(English(case, fused, s.dense(settings.whole_chunk_weight)[at], s.bm25[at], retriever.second.best(case.question, top)))
    return out


def weight_grid(step: float = 0.05) -> list[tuple[float, float, float]]:
    """(dense, BM25, second model) weights summing to 1, in steps of `step`, the second model's above 0."""
    n = round(1 / step)
    return [(round(d * step, 2), round((n - d - u) * step, 2), round(u * step, 2)) for u in range(1, n + 1) for d in range(n - u + 1)]


def reciprocal_ranks(retriever: Retriever, data: list[Case], rankings: list[list[tuple[int, float]]]) -> np.ndarray:
    """1/rank of each case's first relevant passage in its top K (0: none there)."""
    out = np.zeros(len(data))
    for n, (case, fused) in enumerate(zip(data, rankings)):
        rank = next((h.rank for h in retriever.hits(fused, K) if h.chunk.id in case.relevant), None)
        out[n] = 1 / rank if rank else 0.0
    return out


def measure_english(retriever: Retriever, english: list[English], folds: int = 8) -> dict:
    """Questions without Chinese characters: the shipped fusion, and its first N passages
    re-ranked with the second model over a grid of N and weights, each point's MRR@10 in
    sample, and out of sample: the articles in `folds` groups (sorted, interleaved), each
    group's questions ranked with the point best on the other groups'."""
    data = [e.case for e in english]
    shipped = retriever.settings
    docs = sorted({case.doc for case in data})
    fold = np.array([docs.index(case.doc) % folds for case in data])
    points = [(top, w) for top in TOPS for w in weight_grid()]
    rr = {p: reciprocal_ranks(retriever, data, [e.ranking(*p) for e in english]) for p in points}
    n = len(english)

    def out_of_sample(allowed: list) -> tuple[float, list]:
        total, picks = 0.0, []
        for f in range(folds):
            best = max(allowed, key=lambda p: (rr[p][fold != f].sum(), -p[0]))
            picks.append(best)
            total += rr[best][fold == f].sum()
        return round(total / n, 4), picks

    rows = [{"variant": "shipped fusion, no second model", **figures(retriever, data, [e.fused for e in english])}]
    for top in TOPS:
        allowed = [p for p in points if p[0] == top]
        best = max(allowed, key=lambda p: rr[p].sum())
        cv, _ = out_of_sample(allowed)
        rows.append({"variant": f"second model over the first {top}, best weights {best[1]}",
                     **figures(retriever, data, [e.ranking(*best) for e in english]), "mrr@10 cross-validated": cv})
    cv, picks = out_of_sample(points)
    chosen = (shipped.second_model_top, tuple(shipped.second_model_weights))
    rows.append({"variant": f"shipped: first {chosen[0]}, weights {chosen[1]}",
                 **figures(retriever, data, [e.ranking(*chosen) for e in english])})
    return {"variants": rows, "cross-validated over N and weights": cv, "folds": folds, "picks": [[p[0], list(p[1])] for p in picks]}


def english_latency(retriever: Retriever, questions: list[str], second_model: CaseModel) -> dict:
    """Median milliseconds of `search` per question without Chinese characters, side by side,
    each on a fresh retriever (nothing cached: the question embedded, and its passages'
    sentences with the second model): the shipped fusion alone, and re-ranking the first N
    with the second model for each N of `TOPS`; and the shipped N on one retriever asked every
    question in turn (passages read for an earlier question are cached, as in a session)."""
    index, embedder, matcher, settings = retriever.index, retriever.embedder, retriever.matcher, retriever.settings
    second_model.embed(["warm"])  # its weights load once per process, not per question
    variants = {"shipped fusion alone": dataclasses.replace(settings, second_model_top=0)}
    variants.update({f"second model over the first {top}": dataclasses.replace(settings, second_model_top=top) for top in TOPS})
    in_turn = f"second model over the first {settings.second_model_top}, one retriever for all"
    times: dict[str, list[float]] = {name: [] for name in [*variants, in_turn]}
    session = Retriever(index, embedder, matcher, settings, second_model)
    for question in questions:
        for name, variant in variants.items():
            fresh = Retriever(index, embedder, matcher, variant, second_model)
            started = time.perf_counter()
            fresh.search(question, k=5)
            times[name].append(time.perf_counter() - started)
        started = time.perf_counter()
        session.search(question, k=5)
        times[in_turn].append(time.perf_counter() - started)
    medians = {name: round(1000 * float(np.median(t)), 1) for name, t in times.items()}
    return {"questions": len(questions), "median ms": medians, "load average": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    shared = REPO.parent / "shared" / "eval"
    parser = argparse.ArgumentParser(prog="python -m bench ranking", description=__doc__.splitlines()[0])
    parser.add_argument("--drcd", type=Path, default=shared / "drcd" / "DRCD_dev.json", help="DRCD dev split (default ../shared/eval/drcd/DRCD_dev.json)")
    parser.add_argument("--report-set", type=Path, default=shared / "drcd" / "questions.jsonl", help="questions never tuned on (their articles are left out)")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench", help="split, index and caches (default var/bench)")
    parser.add_argument("--latency-questions", type=int, default=50, help="English questions timed side by side (default 50)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    corpus, question_file = build_split(args.drcd, args.report_set, args.work / "tuning", TUNING_SPLIT)
    index_dir = corpus_index(corpus, args.work, _log)
    matcher, embedder, second_model = TextMatcher(), load_embedder(), CaseModel()
    retriever = Retriever(open_index(index_dir, embedder.name, matcher), embedder, matcher, second_model=second_model)
    covers = load_scorer(shared / "score.py").covers
    questions = read_questions(question_file)
    data = cases(retriever, questions, covers)
    _log(f"signals of {len(data)} answerable questions over {len(list(corpus.iterdir()))} articles")
    rows = measure(retriever, data)
    reworded = measure(retriever, cases(retriever, in_wording(questions, REWORDED), covers))
    english_data = cases(retriever, in_wording(questions, ENGLISH), covers)
    _log(f"second model over the first {max(TOPS)} passages of {len(english_data)} questions in English")
    english = measure_english(retriever, english_cases(retriever, english_data))
    _log("latency of questions in English")
    english["latency"] = english_latency(retriever, [c.question for c in english_data[: args.latency_questions]], second_model)
    result = {"command": "python -m bench ranking", "questions": len(data), "index": index_dir.name, "variants": rows, "reworded": reworded, "english": english}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"{len(data)} answerable DRCD questions, articles disjoint from the report set's (`python -m bench ranking`)\n")
        print("| fusion | R@1 | R@5 | MRR@10 | reworded: R@1 | R@5 | MRR@10 |\n|---|---|---|---|---|---|---|")
        for row, other in zip(rows, reworded):
            print(f"| {row['fusion']} | {row['recall@1']:.3f} | {row['recall@5']:.3f} | {row['mrr@10']:.3f} "
                  f"| {other['recall@1']:.3f} | {other['recall@5']:.3f} | {other['mrr@10']:.3f} |")
        print(f"\nThe same {len(english_data)} questions in English (`bench.wordings`); MRR@10 cross-validated: "
              f"{english['folds']}-fold by article, weights chosen on the other folds\n")
        print("| English | R@1 | R@5 | MRR@10 | MRR@10 cross-validated |\n|---|---|---|---|---|")
        for row in english["variants"]:
            print(f"| {row['variant']} | {row['recall@1']:.3f} | {row['recall@5']:.3f} | {row['mrr@10']:.3f} | {row.get('mrr@10 cross-validated', '')} |")
        print(f"\nN and weights both chosen per fold: MRR@10 {english['cross-validated over N and weights']} (picks {english['picks']})")
        latency = english["latency"]
        print(f"search, median ms per English question ({latency['questions']}, load average {latency['load average']}): "
              + ", ".join(f"{name} {ms}" for name, ms in latency["median ms"].items()))
    return 0
