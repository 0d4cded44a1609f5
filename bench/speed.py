"""Speed: query embedding, search latency by index size, memory, app start (ingest: `bench.ingest`).

Latency at each size is measured in a fresh process (spawned), so its resident memory is that
index's alone; inside it, each question's embedding and full search are timed back to back, so
the ratio of the two does not depend on how busy the shared machine is at that moment.
"""
from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from qa.retrieve import open_retriever

ANN_DEPTH = 50  # candidates the retriever takes from each FAISS index


class BenchError(Exception):
    """A measurement could not be taken; the message says which and why."""


def percentile(values: Sequence[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values), q)), 3)


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
