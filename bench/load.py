"""App load: a class opening the app at once. N concurrent sessions, one thread each, going
the app's way: one retriever and one `Assistant` per index shared by all (what the app keeps
in `st.cache_resource`), and per question `Assistant.for_session(...).stream(question,
history, filters)` with the session's history, as `app.py` does. Each session asks a mix —
simplified, traditional, English, an unanswerable one, a follow-up; every third session
filters by document — and every answer is checked.

Page rendering is not part of it: Streamlit's AppTest swaps a process-wide Runtime on every
run, so AppTests cannot run concurrently in one process (tried: they fail each other).

Owns the session plans, running them bounded in time, and the figures: answer latency
p50/p95 (question in, final answer out), errors, invalid citations, and the process's peak
resident memory. `python -m bench` reports the figures; `tests/load` asserts no errors and
valid citations (tests never time things).

    python -m bench.load --index DIR [--corpus corpus] [--sessions 30] [--questions 5] [--json]
"""
from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .speed import BenchError, percentile

REPO = Path(__file__).resolve().parent.parent
# Questions over the default corpus (the book's blurb and preface). A follow-up always comes
# right after the question it points back to.
SIMPLIFIED = "数字信贷如何缓解小微企业的资金压力？"
TRADITIONAL = "數字金融如何推動綠色消費？"
ENGLISH = "How does digital finance help small businesses get loans?"
TOPIC, FOLLOW_UP = "数字人民币在哪些领域开展了试点应用？", "谁负责制定它的技术标准？"
COUNT = "這本書一共收錄了多少篇案例？"
UNANSWERABLE = "火星上的银行如何给宇航员发放贷款？"
PLANS = (
    (SIMPLIFIED, TRADITIONAL, TOPIC, FOLLOW_UP, ENGLISH),
    (COUNT, ENGLISH, UNANSWERABLE, TOPIC, FOLLOW_UP),
    (TRADITIONAL, TOPIC, FOLLOW_UP, SIMPLIFIED, COUNT),
)
_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class LoadSettings:
    sessions: int = 30
    questions: int = 5  # per session, from its plan (repeated if longer than a plan)
    filtered_every: int = 3  # every third session filters by document
    passages: int = 5  # the app's default "Sources per answer"
    timeout_s: float = 1200.0  # the whole run; sessions still running then count as errors


@dataclass
class _Session:
    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    answers: int = 0


def _plan(number: int, settings: LoadSettings) -> list[str]:
    plan = PLANS[number % len(PLANS)]
    return [plan[i % len(plan)] for i in range(settings.questions)]


def _check(answer, sources: dict[str, str]) -> list[str]:
    """What is wrong with an answer's citations: a marker without a citation, a found answer
    citing nothing, a citation whose text is not its document's text at its offsets."""
    problems = []
    marks = {int(n) for n in _MARKER.findall(answer.text)}
    numbers = {c.n for c in answer.citations}
    if not marks <= numbers or (answer.found and not marks):
        problems.append(f"{answer.question!r}: markers {sorted(marks)}, citations {sorted(numbers)}")
    for c in answer.citations:
        if sources.get(c.chunk.doc, "")[c.chunk.start : c.chunk.end] != c.chunk.text:
            problems.append(f"{answer.question!r}: citation [{c.n}] is not {c.chunk.doc}[{c.chunk.start}:{c.chunk.end}]")
    return problems


def _run_session(number: int, shared, sources: dict[str, str], settings: LoadSettings, result: _Session) -> None:
    from qa.answer import Answer, Turn
    from qa.assistant import AssistantSettings
    from qa.filters import Filters

    filters = Filters(docs=frozenset(sources)) if number % settings.filtered_every == 0 else None
    history: list[Answer] = []
    try:
        for question in _plan(number, settings):
            start = time.perf_counter()
            assistant = shared.for_session(None, AssistantSettings(passages=settings.passages))
            answer = next(e for e in assistant.stream(question, [Turn(a.question, a.text) for a in history], filters) if isinstance(e, Answer))
            result.latencies_s.append(time.perf_counter() - start)
            history.append(answer)
            result.invalid += _check(answer, sources)
    except Exception as exc:  # any failure of a session is a finding, reported with the others
        result.errors.append(f"session {number}: {type(exc).__name__}: {exc}")
    result.answers = len(history)


def run_sessions(index_dir: Path, corpus: Path, settings: LoadSettings = LoadSettings()) -> dict:
    """Run the sessions at once in this process; the figures as a dict."""
    from ingest.errors import IngestError
    from ingest.loaders import discover, load_document
    from qa.assistant import Assistant
    from qa.retrieve import open_retriever

    shared = Assistant(open_retriever(index_dir))
    indexed = shared.retriever.index.manifest["documents"]
    sources = {}
    for root, file in discover([corpus]):
        try:
            document = load_document(root, file)
        except (IngestError, OSError):  # a file the index holds nothing of
            continue
        if document.doc in indexed:
            sources[document.doc] = document.text
    results = [_Session() for _ in range(settings.sessions)]
    threads = [threading.Thread(target=_run_session, args=(n, shared, sources, settings, r), daemon=True) for n, r in enumerate(results)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for number, thread in enumerate(threads):
        thread.join(max(0.0, settings.timeout_s - (time.perf_counter() - start)))
        if thread.is_alive():
            results[number].errors.append(f"session {number}: still running after {settings.timeout_s} s")
    latencies = sorted(x for r in results for x in r.latencies_s)
    answers = sum(r.answers for r in results)
    missing = settings.sessions * settings.questions - answers
    return {
        "sessions": settings.sessions,
        "questions_per_session": settings.questions,
        "answers": answers,
        "answer_p50_s": round(percentile(latencies, 50), 3) if latencies else None,
        "answer_p95_s": round(percentile(latencies, 95), 3) if latencies else None,
        "wall_s": round(time.perf_counter() - start, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "errors": [e for r in results for e in r.errors] + ([f"{missing} questions unanswered"] if missing else []),
        "invalid_citations": [p for r in results for p in r.invalid],
    }


def measure_load(index_dir: Path, corpus: Path, settings: LoadSettings = LoadSettings()) -> dict:
    """`run_sessions` in a fresh Python, so that its peak memory is the sessions' own."""
    command = [sys.executable, "-m", "bench.load", "--index", str(index_dir), "--corpus", str(corpus),
               "--sessions", str(settings.sessions), "--questions", str(settings.questions), "--json"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=settings.timeout_s + 300)
    if not done.stdout.strip():
        raise BenchError(f"the load run failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    parser.add_argument("--sessions", type=int, default=LoadSettings.sessions)
    parser.add_argument("--questions", type=int, default=LoadSettings.questions)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args(argv)
    figures = run_sessions(args.index.resolve(), args.corpus.resolve(), LoadSettings(sessions=args.sessions, questions=args.questions))
    print(json.dumps(figures, ensure_ascii=False) if args.json else "\n".join(f"{k}: {v}" for k, v in figures.items()))
    return 1 if figures["errors"] or figures["invalid_citations"] else 0


if __name__ == "__main__":
    sys.exit(main())
