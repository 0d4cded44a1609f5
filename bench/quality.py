"""Retrieval quality of our pipeline, its halves and the peers, scored exactly as the shared
`score.py` scores (it is imported, not copied), with one embedder and one k for all."""
from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable, Sequence

from index.embedder import Embedder
from index.records import Chunk, Document
from index.store import build_index
from index.text import TextMatcher
from ingest.chunker import ChunkSettings, chunk_document
from ingest.loaders import discover, load_document
from qa.retrieve import Retriever

from .peers import PeerRetriever, PeerSettings, chatchat_split, jieba_search_tokens, langchain_default_split

K = 10  # hits kept per question: MRR@10 needs ten
TOP_CHARS = 5  # avg_hit_chars averages the length of the top five hits

Ranker = Callable[[str], list[str]]  # question -> hit texts, best first


def load_scorer(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("shared_eval_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_questions(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def score_hits(scorer: ModuleType, questions: Sequence[dict], hits: dict[str, list[str]]) -> tuple[dict, list[str]]:
    """`{"recall@1", "recall@5", "mrr@10", "avg_hit_chars"}` for hit texts per question, and
    the ids of the questions whose evidence is not in the top ten."""
    rows = [{"question": q, "hits": [{"text": t} for t in texts]} for q, texts in hits.items()]
    scored = scorer.score_search(list(questions), rows)
    top = [len(t) for texts in hits.values() for t in texts[:TOP_CHARS]]
    figures = {
        "recall@1": round(scored["recall@1"], 4),
        "recall@5": round(scored["recall@5"], 4),
        "mrr@10": round(scored["mrr@10"], 4),
        "avg_hit_chars": round(sum(top) / max(len(top), 1), 1),
    }
    return figures, scored["misses"]


def load_corpus(corpus: Path) -> tuple[list[Document], list[Chunk]]:
    documents = [load_document(root, f) for root, f in discover([corpus])]
    chunks = [c for d in documents for c in chunk_document(d, ChunkSettings())]
    return documents, chunks


def build_corpus_index(corpus: Path, dest: Path, embedder: Embedder, matcher: TextMatcher) -> None:
    """The shipped ingest pipeline into `dest` (embeddings already there are reused)."""
    documents, chunks = load_corpus(corpus)
    build_index(documents, chunks, embedder, matcher, ChunkSettings().to_json(), dest, {d.doc: d.sha256 for d in documents})


def configurations(retriever: Retriever, documents: Sequence[Document], embedders: tuple[Embedder, Embedder]) -> dict[str, Ranker]:
    """Every configuration the issue names, each a question -> hit texts function. `embedders`
    are the ones our pipeline uses (for passages, for questions); the peers get the same."""
    chunks = retriever.index.chunks
    texts = [d.text for d in documents]
    langchain = PeerRetriever([p for t in texts for p in langchain_default_split(t)], embedders)
    chatchat = PeerRetriever(
        [p for t in texts for p in chatchat_split(t)], embedders, PeerSettings(bm25_weight=0.5, dense_weight=0.5), jieba_search_tokens()
    )
    return {
        "ours": lambda q: [h.chunk.text for h in retriever.search(q, k=K)],
        "bm25": lambda q: [chunks[r].text for r in retriever.bm25_ranking(q, K)],
        "dense": lambda q: [chunks[r].text for r in retriever.dense_ranking(q, K)],
        "langchain_default": lambda q: langchain.search(q, K),
        "chatchat_style": lambda q: chatchat.search(q, K),
    }


@dataclass(frozen=True)
class QualityResult:
    scores: dict[str, dict]
    misses: dict[str, list[str]]  # question ids not found in the top ten, per configuration


def measure_quality(rankers: dict[str, Ranker], questions: Sequence[dict], scorer: ModuleType) -> QualityResult:
    scores, misses = {}, {}
    for name, rank in rankers.items():
        hits = {q["question"]: rank(q["question"]) for q in questions}
        scores[name], misses[name] = score_hits(scorer, questions, hits)
    return QualityResult(scores, misses)
