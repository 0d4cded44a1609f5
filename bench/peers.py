"""Peer pipelines, rebuilt faithfully enough to compare retrieval, with our embedder.

- `langchain_default`: LangChain's RecursiveCharacterTextSplitter at 1000/200 characters,
  FAISS over the raw text (no simplified/traditional conversion).
- `chatchat_style`: Langchain-Chatchat's Chinese recursive splitter (separators 。！？；，,
  kept at the end of each piece) at 250/50, BM25 over `jieba.lcut_for_search` tokens of the
  raw text and FAISS, fused 0.5/0.5 by reciprocal rank fusion as LangChain's EnsembleRetriever does.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import bm25s
import faiss
import numpy as np

from index.embedder import Embedder
from qa.fusion import rrf
from qa.retrieve import top_rows

# Langchain-Chatchat's ChineseRecursiveTextSplitter separators (regular expressions).
CHATCHAT_SEPARATORS = ("\n\n", "\n", "。|！|？", r"\.\s|\!\s|\?\s", "；|;\s", "，|,\s")


def langchain_default_split(text: str) -> list[str]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_text(text)


def chatchat_split(text: str) -> list[str]:
    """Chatchat's splitter: separators kept at the end of a piece, blank runs squeezed."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        separators=list(CHATCHAT_SEPARATORS), is_separator_regex=True, keep_separator="end", chunk_size=250, chunk_overlap=50
    )
    return [re.sub(r"\n{2,}", "\n", piece.strip()) for piece in splitter.split_text(text) if piece.strip()]


def jieba_search_tokens() -> Callable[[str], list[str]]:
    """The tokenizer Chatchat hands to BM25: jieba's default dictionary, search mode, raw text."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    return lambda text: [t for t in tokenizer.lcut_for_search(text) if t.strip()]


@dataclass(frozen=True)
class PeerSettings:
    bm25_weight: float = 0.0  # 0 = dense only
    dense_weight: float = 1.0
    rrf_k: int = 60


class PeerRetriever:
    """Dense (exact inner product over normalized vectors, which ranks as LangChain's FAISS L2
    does) and optionally BM25 over the same chunks, fused by weighted RRF."""

    def __init__(
        self, pieces: Sequence[tuple[str, str]], embedders: tuple[Embedder, Embedder], settings: PeerSettings = PeerSettings(),
        tokenize=None, cache: Path | None = None,
    ):
        """`pieces`: (document, text) pairs; `embedders`: (for passages, for questions), the same
        model as ours uses for each; `cache`: a folder keeping the passage vectors by content."""
        self.pieces = list(pieces)
        texts = [t for _, t in self.pieces]
        passage_embedder, self._embedder = embedders
        self._settings = settings
        self._dense = faiss.IndexFlatIP(passage_embedder.dim)
        self._dense.add(_passage_vectors(texts, passage_embedder, cache))
        self._tokenize = tokenize
        self._bm25 = None
        if settings.bm25_weight > 0:
            self._bm25 = bm25s.BM25()
            self._bm25.index([tokenize(t) for t in texts], show_progress=False)

    def search(self, question: str, k: int) -> list[dict]:
        """The k best pieces, `{"doc", "text"}`, best first."""
        query = self._embedder.embed([question], "query")
        _, rows = self._dense.search(query, min(k, len(self.pieces)))
        dense = [int(r) for r in rows[0] if r >= 0]
        if self._bm25 is None:
            return [self._hit(r) for r in dense]
        tokens = [t for t in self._tokenize(question) if t in self._bm25.vocab_dict]
        sparse = [int(r) for r in top_rows(self._bm25.get_scores(tokens), k)] if tokens else []
        fused = rrf([sparse, dense], [self._settings.bm25_weight, self._settings.dense_weight], k=self._settings.rrf_k)
        return [self._hit(r) for r, _ in fused[:k]]

    def _hit(self, row: int) -> dict:
        doc, text = self.pieces[row]
        return {"doc": doc, "text": text}


def _passage_vectors(texts: list[str], embedder: Embedder, cache: Path | None) -> np.ndarray:
    """The texts' passage vectors, read from `cache` when these texts were embedded before."""
    if cache is None:
        return embedder.embed(texts, "passage")
    key = hashlib.sha256("\x1f".join([embedder.name, *texts]).encode("utf-8")).hexdigest()[:16]
    path = cache / f"{key}.npy"
    if path.exists():
        return np.load(path)
    vectors = np.concatenate([embedder.embed(texts[i : i + 64], "passage") for i in range(0, len(texts), 64)])
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors
