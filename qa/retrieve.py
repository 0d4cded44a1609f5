"""Hybrid retrieval: dense (FAISS, chunk and sentence vectors) and BM25 scores of the candidates
of either, fused by a weighted mix of the scores scaled to [0, 1] (`qa.fusion`); for a question
without Chinese characters, the best of them re-ranked with a second model's sentence cosines
(`qa.rerank`)."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import faiss
import numpy as np

from index.embedder import Embedder, configured_model, load_embedder
from index.records import Chunk
from index.sentences import has_cjk
from index.store import Index, default_index_dir, open_index
from index.text import TextMatcher

from .fusion import scaled, score_fusion
from .rerank import SentenceCosines, rerank

if TYPE_CHECKING:
    from .case_model import CaseModel


def top_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """Rows of the `n` highest positive scores, best first, ties in row order: the same as a
    stable argsort of all scores, but linear in their number (argpartition, then a small sort)."""
    rows = np.flatnonzero(scores > 0)
    if len(rows) > n:
        kth = np.partition(scores[rows], len(rows) - n)[len(rows) - n]
        rows = rows[scores[rows] >= kth]  # every row tied with the n-th, in row order
    return rows[np.argsort(-scores[rows], kind="stable")][:n]


@dataclass(frozen=True)
class RetrievalSettings:
    candidates: int = 50  # taken from each of the chunk vectors, the sentence vectors and BM25
    # A candidate's score is share·dense + (1 - share)·BM25, each scaled to [0, 1] over the
    # candidates (`qa.fusion.score_fusion`), which keeps how far apart candidates are where
    # rank fusion only kept their order. On 876 answerable DRCD questions whose articles the
    # report set never uses (`python -m bench ranking`), MRR@10: the previous rank fusion (BM25
    # counted twice) 0.962; score fusion at share 0.35 0.967, 0.5 0.968, 0.65 0.970, 0.8 0.972
    # (0.65 was chosen on the 762 of 175 articles, before the split took all 200; 0.65-0.8 is
    # a plateau, 2 questions apart); BM25 alone 0.956, dense alone 0.955. A logistic regression
    # over the scaled scores and their ranks (cross-validated) reached 0.969: learned weights
    # add nothing to the plain mix.
    dense_share: float = 0.65
    # A question without Chinese characters meets a Chinese corpus's BM25 only through the
    # glossary's translations: there dense counts for more (the same doubling of its odds
    # against BM25 as the rank fusion gave it before; no English question set to fit it on).
    dense_share_cross_language: float = 0.8
    # dense score of a chunk = w·cos(question, chunk) + (1-w)·max cos(question, its sentences)
    whole_chunk_weight: float = 0.5
    # A question without Chinese characters: its first `second_model_top` passages (0: none) are
    # re-ranked by weights · (dense, BM25, the second model's best-sentence cosine), each scaled
    # over them (`qa.rerank`). `python -m bench ranking`, the 876 tuning questions in English,
    # MRR@10 8-fold cross-validated by article (weights chosen on the other folds): the fusion
    # alone 0.722; re-ranking the first 10 / 20 / 30 / 50: 0.781 / 0.789 / 0.792 / 0.801; choosing
    # N too picks 50 with these weights in 7 folds of 8. Cost per question, nothing cached: about
    # 0.15 s per 10 passages (their sentences embedded; cached for later questions).
    second_model_top: int = 50
    second_model_weights: tuple[float, float, float] = (0.35, 0.15, 0.5)

    def __post_init__(self):
        for name in ("dense_share", "dense_share_cross_language", "whole_chunk_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"retrieval setting {name} must lie in [0, 1], got {getattr(self, name)}")
        if self.candidates < 1:
            raise ValueError(f"retrieval setting candidates must be at least 1, got {self.candidates}")
        if self.second_model_top < 0:
            raise ValueError(f"retrieval setting second_model_top must be at least 0, got {self.second_model_top}")
        if len(self.second_model_weights) != 3 or min(self.second_model_weights) < 0 or sum(self.second_model_weights) <= 0:
            raise ValueError(f"retrieval setting second_model_weights must be three weights, none negative, got {self.second_model_weights}")

    def share(self, question: str) -> float:
        """The dense ranker's share of the fused score for `question`."""
        return self.dense_share if has_cjk(question) else self.dense_share_cross_language


@dataclass(frozen=True)
class Signals:
    """What each ranker says of a question's candidate chunks (`rows`, ascending): the
    cosine with the whole chunk, the best cosine with one of its sentences (-1: it has none)
    and the BM25 score (0: no word in common). A ranker left out scores every candidate 0."""

    rows: np.ndarray
    chunk_cosine: np.ndarray
    sentence_cosine: np.ndarray
    bm25: np.ndarray

    def dense(self, whole_chunk_weight: float) -> np.ndarray:
        """The dense score of each candidate: its chunk cosine and best sentence cosine mixed."""
        return whole_chunk_weight * self.chunk_cosine + (1 - whole_chunk_weight) * self.sentence_cosine


def fuse(signals: Signals, share: float, whole_chunk_weight: float) -> list[tuple[int, float]]:
    """(row, score) of every candidate, best first: `share` of the dense score (cosines mixed
    by `whole_chunk_weight`) plus the rest of BM25's, each scaled to [0, 1] over the candidates.
    The lowest cosine among candidates says nothing on its own, so dense is scaled from it;
    BM25's 0 means no word in common, so BM25 is scaled from 0."""
    return score_fusion(
        [int(r) for r in signals.rows], [scaled(signals.dense(whole_chunk_weight)), scaled(signals.bm25, floor=0.0)], [share, 1 - share]
    )


@dataclass(frozen=True)
class Hit:
    rank: int
    chunk: Chunk
    score: float

    def to_json(self) -> dict:
        c = self.chunk
        return {
            "rank": self.rank,
            "chunk_id": c.id,
            "doc": c.doc,
            "title": c.title,
            "case": c.case,
            "section": c.section,
            "page": c.page,
            "start": c.start,
            "end": c.end,
            "text": c.text,
            "score": round(self.score, 6),
            "tags": list(c.tags),
            "ocr": c.ocr,
            "ocr_unsure": c.ocr_unsure,
        }


_MOMENT_ROWS = 20_000  # rows the cosine spread is taken from (a large index's first call stays fast)


class Retriever:
    """Ranks an index's chunks for a question. Settings at construction, questions at call time.
    With `second_model`, questions without Chinese characters get its re-ranking (its weights
    load on the first such question)."""

    def __init__(
        self, index: Index, embedder: Embedder, matcher: TextMatcher, settings: RetrievalSettings = RetrievalSettings(),
        second_model: CaseModel | None = None,
    ):
        self.index = index
        self.embedder = embedder
        self._matcher = matcher
        self._settings = settings
        self.second = None if second_model is None else SentenceCosines(index, matcher, second_model)
        self._sentence_owner = index.sentence_owner
        # A question is embedded once however many steps (ranking, evidence, answerability) ask.
        self._question_vectors = functools.lru_cache(maxsize=256)(self._embed_question)
        self._moments = functools.cache(self._vector_moments)

    @property
    def matcher(self) -> TextMatcher:
        return self._matcher

    @property
    def settings(self) -> RetrievalSettings:
        return self._settings

    def question_vector(self, question: str) -> np.ndarray:
        """The question's embedding, shape (1, dim), L2-normalized (read-only: it is cached)."""
        return self._question_vectors(question)

    def cosine_spread(self, question: str) -> tuple[tuple[float, float], tuple[float, float]]:
        """(mean, standard deviation) of the question's cosines with every sentence vector of
        the index, and with every passage vector: what an unrelated text scores here, for this
        question (answerability's null distribution). Exact for the rows the moments were taken
        from: up to `_MOMENT_ROWS` evenly spaced rows of each, once per index."""
        q = self.question_vector(question)[0].astype(np.float64)
        return tuple(  # type: ignore[return-value]
            (float(q @ mean), float(np.sqrt(max(q @ covariance @ q, 1e-12)))) for mean, covariance in self._moments()
        )

    def _vector_moments(self) -> list[tuple[np.ndarray, np.ndarray]]:
        moments = []
        for vectors in (self.index.sentence_vectors, self.index.vectors):
            rows = np.asarray(vectors[np.linspace(0, len(vectors) - 1, min(len(vectors), _MOMENT_ROWS)).astype(int)], dtype=np.float64)
            moments.append((rows.mean(axis=0), np.cov(rows, rowvar=False) if len(rows) > 1 else np.zeros((rows.shape[1],) * 2)))
        return moments

    def _embed_question(self, question: str) -> np.ndarray:
        vector = self.embedder.embed([self._matcher.normalize(question)], "query")
        vector.setflags(write=False)
        return vector

    def signals(self, question: str, rows: np.ndarray | None = None, share: float | None = None) -> Signals:
        """The candidates for `question` and each ranker's scores of them. Candidates: the
        best `candidates` chunks of each ranker (with `rows`: among exactly those chunks, the
        dense side scored exhaustively). A ranker whose `share` (default: the settings' for
        this question) leaves it no weight is not run and brings no candidates."""
        share = self._settings.share(question) if share is None else share
        n = self._settings.candidates
        found, bm25 = [], None
        if share < 1 and (tokens := self._matcher.tokens(question)):
            bm25 = self.index.bm25.get_scores(tokens)
            if rows is not None:
                bm25 = np.where(self._accepted(rows), bm25, 0.0)
            found.append(top_rows(bm25, n))
        query = self.question_vector(question)[0] if share > 0 else None
        if query is not None:
            found.append(self._dense_candidates(query, n, rows))
        candidates = np.unique(np.concatenate(found)).astype(np.int64) if found else np.zeros(0, dtype=np.int64)
        zeros = np.zeros(len(candidates))
        return Signals(
            rows=candidates,
            chunk_cosine=zeros if query is None else self.index.vectors[candidates] @ query,
            sentence_cosine=zeros if query is None else self._best_sentence(query, candidates),
            bm25=zeros if bm25 is None else bm25[candidates],
        )

    def _dense_candidates(self, q: np.ndarray, n: int, rows: np.ndarray | None) -> np.ndarray:
        """The top `n` chunks of the chunk FAISS index and the chunks of the top `n` sentences;
        with `rows`, the top `n` of exactly those chunks by the mixed dense score."""
        index = self.index
        if rows is None:
            _, chunk_rows = index.dense.search(q[None, :], min(n, index.dense.ntotal))
            _, sentence_rows = index.sentence_dense.search(q[None, :], min(n, index.sentence_dense.ntotal))
            return np.concatenate([chunk_rows[0][chunk_rows[0] >= 0], self._sentence_owner[sentence_rows[0][sentence_rows[0] >= 0]]])
        w = self._settings.whole_chunk_weight
        scores = w * (index.vectors[rows] @ q) + (1 - w) * self._best_sentence(q, rows)
        return rows[np.argsort(-scores, kind="stable")[:n]]

    def _best_sentence(self, q: np.ndarray, chunks: np.ndarray) -> np.ndarray:
        """For each of `chunks`, the highest cosine of `q` with one of its sentences (-1: none).
        Only those chunks' sentences are scored, so the cost follows the candidates, not the index."""
        offsets = self.index.sentence_offsets
        starts = offsets[chunks]
        lengths = offsets[chunks + 1] - starts
        best = np.full(len(chunks), -1.0, dtype=np.float32)
        has = lengths > 0
        if has.any():
            starts, lengths = starts[has], lengths[has]
            first = np.concatenate([[0], np.cumsum(lengths)[:-1]])  # where each chunk's run begins
            rows = np.repeat(starts - first, lengths) + np.arange(lengths.sum())
            best[has] = np.maximum.reduceat(self.index.sentence_vectors[rows] @ q, first)
        return best

    def _accepted(self, rows: np.ndarray) -> np.ndarray:
        accepted = np.zeros(len(self.index.chunks), dtype=bool)
        accepted[rows] = True
        return accepted

    def rows(self, where: Callable[[Chunk], bool]) -> np.ndarray:
        """Row numbers of the chunks `where` accepts."""
        return np.array([row for row, chunk in enumerate(self.index.chunks) if where(chunk)], dtype=np.int64)

    def search(self, question: str, k: int = 5, where: Callable[[Chunk], bool] | None = None) -> list[Hit]:
        """The k best passages; with `where`, the ranking runs over only the chunks it accepts
        (filtering happens before ranking, so a narrow filter still gets its k passages; none
        accepted: an empty list)."""
        rows = None if where is None else self.rows(where)
        if rows is not None and rows.size == 0:
            return []
        settings = self._settings
        signals = self.signals(question, rows)
        return self.hits(self.second_opinion(question, signals, fuse(signals, settings.share(question), settings.whole_chunk_weight)), k)

    def second_opinion(self, question: str, signals: Signals, fused: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """`fused` with its first `second_model_top` rows re-ranked by the second model when
        the question has no Chinese characters (as it is without a second model, or for Chinese)."""
        settings = self._settings
        if self.second is None or has_cjk(question) or not settings.second_model_top:
            return fused
        top = np.array([row for row, _ in fused[: settings.second_model_top]], dtype=np.int64)
        at = np.searchsorted(signals.rows, top)
        return rerank(fused, signals.dense(settings.whole_chunk_weight)[at], signals.bm25[at], self.second.best(question, top), settings.second_model_weights)

    def hits(self, fused: list[tuple[int, float]], k: int) -> list[Hit]:
        """The first `k` distinct passages of a fused ranking (the same text in two files once)."""
        hits: list[Hit] = []
        seen_texts: set[str] = set()
        for row, score in fused:
            chunk = self.index.chunks[row]
            if chunk.text in seen_texts:
                continue
            seen_texts.add(chunk.text)
            hits.append(Hit(rank=len(hits) + 1, chunk=chunk, score=score))
            if len(hits) == k:
                break
        return hits


def open_retriever(index_dir: Path | None = None) -> Retriever:
    """The retriever over `index_dir` (default: $INDEX_DIR or var/index) with the configured
    embedder and the second model for questions without Chinese characters. Raises IndexUnavailable or EmbedderError with a message for the user.

    Searching is single-threaded: one query is too small to share, and on a small busy machine
    FAISS's OpenMP threads spin and take the CPU from the query model (measured by `bench`)."""
    from .case_model import CaseModel  # its weights load on the first question without Chinese characters

    faiss.omp_set_num_threads(1)
    matcher = TextMatcher()
    index = open_index(index_dir or default_index_dir(), configured_model(), matcher)
    return Retriever(index, load_embedder(), matcher, second_model=CaseModel())
