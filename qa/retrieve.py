"""Hybrid retrieval: dense (FAISS) and BM25 rankings fused by reciprocal rank fusion."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.embedder import Embedder
from index.records import Chunk
from index.store import Index
from index.text import TextMatcher

from .fusion import rrf


@dataclass(frozen=True)
class RetrievalSettings:
    candidates: int = 50  # taken from each ranking before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0


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
        }


class Retriever:
    """Ranks an index's chunks for a question. Settings at construction, questions at call time."""

    def __init__(self, index: Index, embedder: Embedder, matcher: TextMatcher, settings: RetrievalSettings = RetrievalSettings()):
        self.index = index
        self._embedder = embedder
        self._matcher = matcher
        self._settings = settings

    def dense_ranking(self, question: str, n: int) -> list[int]:
        query = self._embedder.embed([self._matcher.normalize(question)], "query")
        _, rows = self.index.dense.search(query, min(n, len(self.index.chunks)))
        return [int(r) for r in rows[0] if r >= 0]

    def bm25_ranking(self, question: str, n: int) -> list[int]:
        tokens = self._matcher.tokens(question)
        if not tokens:
            return []
        scores = self.index.bm25.get_scores(tokens)
        top = np.argsort(-scores, kind="stable")[:n]
        return [int(r) for r in top if scores[r] > 0]

    def search(self, question: str, k: int = 5) -> list[Hit]:
        n = self._settings.candidates
        fused = rrf(
            [self.dense_ranking(question, n), self.bm25_ranking(question, n)],
            [self._settings.dense_weight, self._settings.bm25_weight],
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
