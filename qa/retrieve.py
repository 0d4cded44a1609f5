"""Hybrid retrieval: dense (FAISS) and BM25 rankings fused by reciprocal rank fusion."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import faiss
import numpy as np

from index.embedder import Embedder, configured_model, load_embedder
from index.records import Chunk
from index.sentences import has_cjk
from index.store import Index, default_index_dir, open_index
from index.text import TextMatcher

from .fusion import rrf


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
    candidates: int = 50  # taken from each ranking before fusion
    rrf_k: int = 60
    # BM25 counts twice the dense ranking: on DRCD dev questions outside the report set
    # (`python -m bench calibrate`'s split, 454 answerable) MRR@10 was dense alone 0.952, BM25
    # alone 0.961, fused 1:1 0.960 (no better than BM25), 0.7:1 0.967, 0.5:1 0.968, 1.5:1 0.957
    # (`python -m bench quality --set calib=var/bench/calibration/corpus,var/bench/calibration/questions.jsonl
    # --configs ours --dense-weight W`).
    dense_weight: float = 0.5
    bm25_weight: float = 1.0
    # A question without Chinese characters meets a Chinese corpus's BM25 only through the
    # glossary's translations: there the dense ranking keeps its full weight.
    dense_weight_cross_language: float = 1.0
    # dense score of a chunk = w·cos(question, chunk) + (1-w)·max cos(question, its sentences)
    whole_chunk_weight: float = 0.5


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


class Retriever:
    """Ranks an index's chunks for a question. Settings at construction, questions at call time."""

    def __init__(self, index: Index, embedder: Embedder, matcher: TextMatcher, settings: RetrievalSettings = RetrievalSettings()):
        self.index = index
        self.embedder = embedder
        self._matcher = matcher
        self._settings = settings
        self._sentence_owner = index.sentence_owner
        # A question is embedded once however many steps (ranking, evidence, answerability) ask.
        self._question_vectors = functools.lru_cache(maxsize=256)(self._embed_question)

    @property
    def matcher(self) -> TextMatcher:
        return self._matcher

    @property
    def settings(self) -> RetrievalSettings:
        return self._settings

    def question_vector(self, question: str) -> np.ndarray:
        """The question's embedding, shape (1, dim), L2-normalized (read-only: it is cached)."""
        return self._question_vectors(question)

    def _embed_question(self, question: str) -> np.ndarray:
        vector = self.embedder.embed([self._matcher.normalize(question)], "query")
        vector.setflags(write=False)
        return vector

    def dense_ranking(self, question: str, n: int, rows: np.ndarray | None = None) -> list[int]:
        """Candidates from the chunk and sentence FAISS indexes (with `rows`: exactly those
        chunks, scored exhaustively), ranked by the mixed score."""
        index = self.index
        query = self.question_vector(question)
        if rows is None:
            _, chunk_rows = index.dense.search(query, min(n, index.dense.ntotal))
            _, sentence_rows = index.sentence_dense.search(query, min(n, index.sentence_dense.ntotal))
            candidates = np.unique(np.concatenate([
                chunk_rows[0][chunk_rows[0] >= 0],
                self._sentence_owner[sentence_rows[0][sentence_rows[0] >= 0]],
            ]))
        else:
            candidates = rows
        q = query[0]
        w = self._settings.whole_chunk_weight
        scores = w * (index.vectors[candidates] @ q) + (1 - w) * self._best_sentence(q, candidates)
        order = np.argsort(-scores, kind="stable")[:n]
        return [int(candidates[i]) for i in order]

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

    def bm25_ranking(self, question: str, n: int, rows: np.ndarray | None = None) -> list[int]:
        tokens = self._matcher.tokens(question)
        if not tokens:
            return []
        scores = self.index.bm25.get_scores(tokens)
        if rows is not None:
            accepted = np.zeros_like(scores)
            accepted[rows] = scores[rows]
            scores = accepted
        return [int(r) for r in top_rows(scores, n)]

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
        n = self._settings.candidates
        fused = rrf(
            [self.dense_ranking(question, n, rows), self.bm25_ranking(question, n, rows)],
            [self._settings.dense_weight if has_cjk(question) else self._settings.dense_weight_cross_language, self._settings.bm25_weight],
            k=self._settings.rrf_k,
        )
        hits: list[Hit] = []
        seen_texts: set[str] = set()
        for row, score in fused:
            chunk = self.index.chunks[row]
            if chunk.text in seen_texts:  # the same passage in two files
                continue
            seen_texts.add(chunk.text)
            hits.append(Hit(rank=len(hits) + 1, chunk=chunk, score=score))
            if len(hits) == k:
                break
        return hits


def open_retriever(index_dir: Path | None = None) -> Retriever:
    """The retriever over `index_dir` (default: $INDEX_DIR or var/index) with the configured
    embedder. Raises IndexUnavailable or EmbedderError with a message for the user.

    Searching is single-threaded: one query is too small to share, and on a small busy machine
    FAISS's OpenMP threads spin and take the CPU from the query model (measured by `bench`)."""
    faiss.omp_set_num_threads(1)
    matcher = TextMatcher()
    index = open_index(index_dir or default_index_dir(), configured_model(), matcher)
    return Retriever(index, load_embedder(), matcher)
