"""A second model's opinion on a question's best passages, for questions without Chinese characters.

A question in English meets a Chinese corpus through the passage embedder alone (BM25 sees only
the glossary's translations), and that embedder ranks such questions far worse than Chinese ones.
A second, independent multilingual model — the case model, Google's Universal Sentence Encoder
(`qa.case_model`) — finds their answer sentences more often. Embedding a whole corpus with it at
ingest costs too much, so it reads only the sentences of the few passages the shipped fusion
ranks first, at question time.

Owns the second model's question-time vectors (`SentenceCosines`: one matrix per passage, its
sentences in matching form, kept in an LRU so overlapping candidates and repeated questions cost
nothing) and the re-ranking itself (`rerank`, pure). `qa.retrieve.Retriever` decides when.
The same cosines, per sentence, feed the English quote selector (`SentenceCosines.of_sentences`).
"""
from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Sequence

import numpy as np

from index.sentences import sentence_spans
from index.store import Index, passage_layout
from index.text import TextMatcher

from .fusion import scaled, score_fusion

if TYPE_CHECKING:
    from .case_model import CaseModel
    from .evidence import Sentence  # its module loads scikit-learn: not for Chinese-only use

Ranking = list[tuple[int, float]]


def rerank(fused: Ranking, dense: np.ndarray, bm25: np.ndarray, second: np.ndarray, weights: Sequence[float]) -> Ranking:
    """`fused` (row, score; best first) with its first `len(second)` rows re-ranked by
    weights · (dense, BM25, second model), each scaled to [0, 1] over those rows as the fusion
    scales them (BM25 from 0: no word in common). `dense`, `bm25` and `second` hold one score
    per re-ranked row, in `fused`'s order. The rows after them keep their order, their scores
    capped at the lowest re-ranked one, so scores still fall along the ranking."""
    n = len(second)
    if not (len(dense) == len(bm25) == n <= len(fused)):
        raise ValueError(f"rerank needs one dense, BM25 and second-model score per re-ranked row ({n} of {len(fused)})")
    if n == 0:
        return list(fused)
    mixed = score_fusion([row for row, _ in fused[:n]], [scaled(dense), scaled(bm25, floor=0.0), scaled(second)], weights)
    low = mixed[-1][1]
    return mixed + [(row, min(score, low)) for row, score in fused[n:]]


class SentenceCosines:
    """The second model's cosines between a question and the sentences of some passages of one
    index (the best one per passage for re-ranking). A passage's sentences are those the dense ranker scores
    (`index.store.passage_layout`, matching form); a passage without any is read whole."""

    def __init__(self, index: Index, matcher: TextMatcher, model: CaseModel, passages: int = 4096):
        if passages < 1:
            raise ValueError(f"passages must be at least 1, not {passages}")
        self._index = index
        self._matcher = matcher
        self.model = model
        # the sentence vectors of the `passages` passages used last (~5 sentences × 512 float32
        # each: 4096 passages take some 40 MB)
        self._passages = passages
        self._vectors: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # the server answers on threads when an LLM writes the answers
        self._question = functools.lru_cache(maxsize=256)(self._question_vector)

    def best(self, question: str, rows: Sequence[int]) -> np.ndarray:
        """For each passage row, the highest cosine of `question` with one of its sentences."""
        return np.array([float(cosines.max()) for cosines in self.cosines(question, rows)])

    def cosines(self, question: str, rows: Sequence[int]) -> list[np.ndarray]:
        """For each passage row, the cosine of `question` with each of its sentences, in their
        order (`index.sentences.sentence_spans` of the passage's text; one for a passage read
        whole). The English quote selector reads them for the retrieved passages."""
        rows = [int(r) for r in rows]
        with self._lock:
            return self._cosines(question, rows)

    def of_sentences(self, question: str, sentences: Sequence[Sentence]) -> np.ndarray:
        """The cosine of `question` with each of `sentences` (sentences of passages of this
        index, as `qa.evidence` scores them)."""
        chunks = {s.hit.chunk.id: s.hit.chunk for s in sentences}
        by_chunk = dict(zip(chunks, self.cosines(question, [self._index.row_of[i] for i in chunks])))
        # where each sentence is among its passage's sentences (`sentence_spans` order), split once per passage
        starts = {i: {chunk.start + start: n for n, (start, _) in enumerate(sentence_spans(chunk.text))} for i, chunk in chunks.items()}
        return np.array([by_chunk[s.hit.chunk.id][starts[s.hit.chunk.id][s.start]] for s in sentences], dtype=np.float64)

    def _cosines(self, question: str, rows: list[int]) -> list[np.ndarray]:
        missing = [r for r in dict.fromkeys(rows) if r not in self._vectors]
        if missing:  # one call to the model for every passage not read yet
            texts = [self._sentences(r) for r in missing]
            vectors = self.model.embed([t for sentences in texts for t in sentences])
            at = np.cumsum([0] + [len(t) for t in texts])
            self._vectors.update((row, vectors[at[i] : at[i + 1]]) for i, row in enumerate(missing))
        for row in rows:
            self._vectors.move_to_end(row)
        q = self._question(question)
        cosines = [self._vectors[r] @ q for r in rows]
        while len(self._vectors) > max(self._passages, len(set(rows))):
            self._vectors.popitem(last=False)
        return cosines

    def _question_vector(self, question: str) -> np.ndarray:
        return self.model.embed([self._matcher.normalize(question)])[0]

    def _sentences(self, row: int) -> list[str]:
        text, spans = passage_layout(self._index.chunks[row], self._matcher)
        return [text[start:end] for start, end in spans] or [text]
