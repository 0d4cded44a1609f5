"""Large synthetic indexes for speed measurements, built from a real index and cached.

Embedding 100k passages is out of reach on two cores, so an index of N chunks is made by
replicating the real chunks: chunk i >= len(real) copies a random real chunk's vectors (chunk
and sentences) mixed a little with another real chunk and perturbed with Gaussian noise, then
normalized; its BM25 tokens are the real chunk's jieba tokens with 20% dropped and 20% replaced
by words drawn from jieba's dictionary by frequency, so the vocabulary and postings grow as a
real corpus's would. The real chunks stay as rows 0..len(real)-1. Texts are labelled synthetic.
The result is an ordinary index directory (written through `index.store`), cached under its
key: it is rebuilt only when the real index, the generator or the FAISS settings change.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from index.embedder import normalized
from index.records import Chunk
from index.store import FORMAT, DenseSettings, Index, commit_index, read_manifest, write_chunks, write_search_files
from index.text import TextMatcher


@dataclass(frozen=True)
class SyntheticSettings:
    seed: int = 0
    mix: float = 0.3  # the partner chunk's weight is drawn from [0, mix)
    noise: float = 0.02  # per-dimension standard deviation before normalizing
    drop: float = 0.2  # share of tokens dropped
    replace: float = 0.2  # share of tokens replaced by dictionary words


def _dictionary_words() -> tuple[np.ndarray, np.ndarray]:
    """jieba's dictionary words and their frequencies as probabilities."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    words = [(w, f) for w, f in tokenizer.FREQ.items() if f > 0]
    freq = np.array([f for _, f in words], dtype=np.float64)
    return np.array([w for w, _ in words], dtype=object), freq / freq.sum()


def _copy(chunk: Chunk, i: int) -> Chunk:
    text = f"{chunk.text} [synthetic copy {i}]"
    return Chunk(id=f"synthetic-{i}", doc="synthetic", title=chunk.title, case=None, section=chunk.section, page=None, start=0, end=len(text), text=text)


def cache_key(real: Index, size: int, settings: SyntheticSettings, dense: DenseSettings) -> str:
    digest = hashlib.sha256()
    for array in (real.vectors, real.sentence_vectors, real.sentence_offsets):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(Path(__file__).read_bytes())
    digest.update(json.dumps([size, FORMAT, asdict(settings), asdict(dense), real.manifest["dictionary_hash"]]).encode())
    return digest.hexdigest()[:24]


def synthetic_index(
    real: Index, matcher: TextMatcher, size: int, dest: Path,
    settings: SyntheticSettings = SyntheticSettings(), dense: DenseSettings = DenseSettings(),
) -> bool:
    """Make sure `dest` holds the synthetic index of `size` chunks; True when it was (re)built."""
    key = cache_key(real, size, settings, dense)
    manifest = read_manifest(dest)
    if manifest and manifest.get("synthetic", {}).get("key") == key:
        return False
    rng = np.random.default_rng(settings.seed)
    n_real = len(real.chunks)
    source = np.concatenate([np.arange(min(n_real, size)), rng.integers(0, n_real, max(size - n_real, 0))])
    partner = rng.integers(0, n_real, size)
    weight = np.where(np.arange(size) < n_real, 0.0, rng.random(size) * settings.mix).astype(np.float32)[:, None]
    noise = np.where(np.arange(size) < n_real, 0.0, settings.noise).astype(np.float32)[:, None]

    vectors = np.asarray(real.vectors)
    chunk_vectors = normalized(
        (1 - weight) * vectors[source] + weight * vectors[partner] + noise * rng.standard_normal((size, vectors.shape[1]), dtype=np.float32)
    )
    counts = np.diff(real.sentence_offsets)[source]
    rows = np.concatenate([np.arange(real.sentence_offsets[s], real.sentence_offsets[s + 1]) for s in source])
    sentence_noise = np.repeat(noise, counts, axis=0)
    sentences = np.asarray(real.sentence_vectors)[rows]
    sentence_vectors = normalized(sentences + sentence_noise * rng.standard_normal(sentences.shape, dtype=np.float32))
    sentence_offsets = np.concatenate([[0], np.cumsum(counts)])

    words, probabilities = _dictionary_words()
    real_tokens = [np.array(matcher.tokens(c.text), dtype=object) for c in real.chunks]
    replacements = iter(rng.choice(words, int(sum(len(real_tokens[s]) for s in source)), p=probabilities))
    tokens = []
    for i, s in enumerate(source):
        stream = real_tokens[s]
        if i >= n_real and len(stream):
            stream = stream[rng.random(len(stream)) >= settings.drop].copy()
            for j in np.flatnonzero(rng.random(len(stream)) < settings.replace):
                stream[j] = next(replacements)
        tokens.append(stream.tolist())

    chunks = [c if i < n_real else _copy(c, i) for i, c in ((i, real.chunks[s]) for i, s in enumerate(source))]

    def write(folder: Path) -> dict:
        write_chunks(folder, chunks)
        described = write_search_files(folder, chunk_vectors, sentence_vectors, sentence_offsets, tokens, dense)
        return {
            **real.manifest, "chunks": size, "documents": {}, "sources": {}, "dense_index": described,
            "synthetic": {"key": key, "from": str(real.path), **asdict(settings)},
        }

    commit_index(dest, write)
    return True
