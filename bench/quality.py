"""Quality of our pipeline, its halves and the peers, for search and for offline answers, on
any corpus folder + question file, scored by the shared scorers (run as they are, never copied).

Owns the configurations compared (`ours`, `bm25`, `dense`, `langchain_default`,
`chatchat_style`; one embedder and one k for all), running a question set through each, and
the figures the scorers print. Question files have the format of
`../shared/eval/drcd/questions.jsonl` (or the book's `dev.jsonl`); each set names the scorer
script that scores it; a row with a `history` (earlier questions, oldest first) is asked as a
follow-up to them (`bench.followups`). Indexes come from `bench.indexes` (cached by corpus content).
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable, Sequence

from index.embedder import Embedder
from index.records import Chunk, Document
from index.store import build_index, open_index
from index.text import TextMatcher
from ingest.chunker import ChunkSettings, chunk_document
from ingest.loaders import discover, load_document
from qa.answer import Turn
from qa.assistant import Assistant
from qa.case_model import CaseModel
from qa.retrieve import RetrievalSettings, Retriever

from .indexes import corpus_index
from .peers import PeerRetriever, PeerSettings, chatchat_split, jieba_search_tokens, langchain_default_split

K = 10  # hits kept per question: MRR@10 needs ten
TOP_CHARS = 5  # avg_hit_chars averages the length of the top five hits
CONFIGURATIONS = ("ours", "bm25", "dense", "langchain_default", "chatchat_style")

Ranker = Callable[[str], list[str]]  # question -> hit texts, best first
HitRanker = Callable[[str], list[dict]]  # question -> hits {"doc", "text"}, best first
AnswerFn = Callable[[str, Sequence[str]], dict]  # question, earlier questions -> the `qa ask --json` object


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


def peer_retrievers(documents: Sequence[Document], embedders: tuple[Embedder, Embedder], cache: Path | None = None) -> dict[str, PeerRetriever]:
    """The LangChain-default and Chatchat-style pipelines over `documents`, with our embedders
    (for passages, for questions); their vectors cached under `cache` by content."""
    pieces = {
        "langchain_default": [(d.doc, p) for d in documents for p in langchain_default_split(d.text)],
        "chatchat_style": [(d.doc, p) for d in documents for p in chatchat_split(d.text)],
    }
    return {
        "langchain_default": PeerRetriever(pieces["langchain_default"], embedders, cache=cache),
        "chatchat_style": PeerRetriever(
            pieces["chatchat_style"], embedders, PeerSettings(bm25_weight=0.5, dense_weight=0.5), jieba_search_tokens(), cache=cache
        ),
    }


def one_sided(retriever: Retriever, side: str) -> Retriever:
    """Our retriever ranking by one side only (`bm25` or `dense`, never re-ranked by the second
    model), everything else as shipped (answerability and quotes read the second model's cosines)."""
    share = {"bm25": 0.0, "dense": 1.0}[side]
    settings = dataclasses.replace(retriever.settings, dense_share=share, dense_share_cross_language=share, second_model_top=0)
    return Retriever(retriever.index, retriever.embedder, retriever.matcher, settings, None if retriever.second is None else retriever.second.model)


def configurations(retriever: Retriever, peers: dict[str, PeerRetriever]) -> dict[str, tuple[HitRanker, AnswerFn]]:
    """Every configuration the issue names: how it searches, and how it answers offline. Our
    halves answer with our answer stage over their own ranking; the peers have no offline
    answer of their own and never refuse (see DESIGN.md), so theirs quotes their top passage."""
    out = {}
    for name, ranked in (("ours", retriever), ("bm25", one_sided(retriever, "bm25")), ("dense", one_sided(retriever, "dense"))):
        assistant = Assistant(ranked)
        out[name] = (
            lambda q, r=ranked: [{"doc": h.chunk.doc, "text": h.chunk.text} for h in r.search(q, k=K)],
            lambda q, earlier, a=assistant: a.ask(q, [Turn(e) for e in earlier]).to_json(),
        )
    for name, peer in peers.items():
        out[name] = (lambda q, p=peer: p.search(q, K), lambda q, earlier, p=peer: _quote_top(q, p.search(q, 1)))
    return out


def _quote_top(question: str, hits: list[dict]) -> dict:
    citations = [{"n": 1, **hits[0]}] if hits else []
    return {"question": question, "found": bool(hits), "answer": f"「{hits[0]['text']}」[1]" if hits else "", "citations": citations, "mode": "extractive"}


def run_scorer(scorer: Path, mode: str, questions: Path, rows: Sequence[dict], scratch: Path) -> dict:
    """The shared scorer's figures for `rows` (what `qa search/ask --batch --json` prints)."""
    scratch.parent.mkdir(parents=True, exist_ok=True)
    scratch.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    done = subprocess.run([sys.executable, str(scorer), mode, str(questions), str(scratch)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class QuestionSet:
    name: str
    corpus: Path
    questions: Path
    scorer: Path  # a shared scorer script: `score.py` or `score_drcd.py`

    @classmethod
    def parse(cls, spec: str) -> "QuestionSet":
        """`NAME=CORPUS,QUESTIONS[,SCORER]`; the scorer defaults to the DRCD one (it scores any
        question file of that format)."""
        name, _, paths = spec.partition("=")
        parts = [Path(p) for p in paths.split(",") if p]
        if not name or len(parts) not in (2, 3):
            raise ValueError(f"question set {spec!r}: use NAME=CORPUS,QUESTIONS[,SCORER]")
        default = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "drcd" / "score_drcd.py"
        return cls(name, parts[0], parts[1], parts[2] if len(parts) == 3 else default)


def _selected(questions: list[dict], limit: int | None) -> list[dict]:
    """The first `limit` answerable and the first `limit` unanswerable questions (all: None)."""
    if limit is None:
        return questions
    answerable = [q for q in questions if q["evidence"]][:limit]
    return answerable + [q for q in questions if not q["evidence"]][:limit]


def measure_set(
    qset: QuestionSet, work: Path, embedders: tuple[Embedder, Embedder], matcher: TextMatcher,
    names: Sequence[str] = CONFIGURATIONS, limit: int | None = None, log=lambda message: None,
    retrieval: RetrievalSettings = RetrievalSettings(), second_model: CaseModel | None = None,
) -> dict:
    """`{configuration: {"search": scorer figures, "ask": scorer figures}}` on one question set;
    `retrieval`: our retriever's settings (the shipped ones by default); `second_model`: ours
    re-ranks questions without Chinese characters with it, as shipped (its halves never do)."""
    index_dir = corpus_index(qset.corpus, work, log)
    retriever = Retriever(open_index(index_dir, embedders[1].name, matcher), embedders[1], matcher, retrieval, second_model)
    questions = _selected(read_questions(qset.questions), limit)
    scratch = work / "runs" / qset.name
    scratch.mkdir(parents=True, exist_ok=True)
    selected = scratch / "questions.jsonl"
    selected.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    peers = {}
    if any(name in names for name in ("langchain_default", "chatchat_style")):
        documents, _ = load_corpus(qset.corpus)
        peers = {k: v for k, v in peer_retrievers(documents, embedders, work / "peer-vectors").items() if k in names}
    results = {}
    for name, (search, answer) in configurations(retriever, peers).items():
        if name not in names:
            continue
        log(f"{qset.name}: {name}")
        hits = [{"question": q["question"], "hits": search(q["question"])} for q in questions]
        answers = [answer(q["question"], q.get("history", ())) for q in questions]
        results[name] = {
            "search": _rounded(run_scorer(qset.scorer, "search", selected, hits, scratch / f"{name}-hits.jsonl")),
            "ask": _rounded(run_scorer(qset.scorer, "ask", selected, answers, scratch / f"{name}-answers.jsonl")),
        }
    return results


def _rounded(figures: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items() if k not in ("bad",)}


# The book's dev set as `python -m bench` scores retrieval (texts only, score.py imported).
def rankers(retriever: Retriever, peers: dict[str, PeerRetriever]) -> dict[str, Ranker]:
    return {name: (lambda q, s=search: [h["text"] for h in s(q)]) for name, (search, _) in configurations(retriever, peers).items()}


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
