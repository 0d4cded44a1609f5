"""`python -m bench [--json] [--report FILE] [--parts retrieval,cases,ocr]`: quality against
peers, speed, comparable cases and OCR, in one run.

Progress goes to stderr; with `--json` the last line of stdout is one JSON object
(`quality`, `speed` (the retrieval part), `cases`, `ocr`, `goals`, `machine`; a part not run is
absent); `--report` also writes the Markdown report.

`python -m bench quality [--set NAME=CORPUS,QUESTIONS[,SCORER] ...] [--limit N] [--json] [--report FILE]`:
search and offline-answer quality of ours and the peers on question sets side by side (default:
the book's dev set and the DRCD dev set). `python -m bench calibrate`: fits the answerability
model (see `bench.calibrate`). `python -m bench ranking`: our fusion's settings compared on DRCD
questions disjoint from the report set (see `bench.ranking`).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from index.cpus import usable_cpus
from index.embedder import EmbedderError, load_embedder
from index.store import IndexUnavailable
from index.text import TextMatcher
from qa.case_model import CaseModel
from qa.retrieve import RetrievalSettings, open_retriever

from . import ocr
from .api import corpus_texts, measure_api
from .cases import LabelsError, measure_cases
from .followups import build_english_after_chinese, build_followups
from .integrity import measure_checks
from .limits import measure_limits
from .load import LoadSettings, measure_load
from .ingest import CONFIGS, DEFAULT_CONFIGS, Corpus, drcd_slice, measure_ingest
from .wordings import ENGLISH, REWORDED, question_file
from .quality import CONFIGURATIONS, QuestionSet, build_corpus_index, measure_set, load_corpus, load_scorer, measure_quality, peer_retrievers, rankers, read_questions, score_hits
from .report import markdown, quality_markdown
from .speed import BenchError, measure_app_first_render, measure_latency
from .synthetic import synthetic_index

REPO = Path(__file__).resolve().parent.parent
PEERS = ("langchain_default", "chatchat_style")
MRR_MARGIN = 0.03
PARTS = ("retrieval", "cases", "ocr")  # retrieval: quality on the dev set and speed
CASES_P5, CASES_MARGIN = 0.72, 0.05


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object (last line of stdout)")
    parser.add_argument("--report", type=Path, help="also write a Markdown report here")
    parser.add_argument("--dev", type=Path, default=REPO.parent / "shared" / "eval" / "dev.jsonl", help="question set (default ../shared/eval/dev.jsonl)")
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench", help="indexes and caches (default var/bench)")
    parser.add_argument("--sizes", default="1000,10000,100000", help="index sizes for search latency, in chunks")
    parser.add_argument("--repeats", type=int, default=4, help="passes over the questions per size")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"which figures to measure, comma-separated (default: all of {','.join(PARTS)})")
    parser.add_argument(
        "--cases", type=Path, default=REPO.parent / "shared" / "eval" / "cases",
        help="labelled folder for comparable cases: corpus/ (one case per file) and labels.jsonl (default ../shared/eval/cases)",
    )
    parser.add_argument("--limits-repeats", type=int, default=3, help="passes of the question-limits timing (default 3)")
    parser.add_argument("--api-users", type=int, default=50, help="concurrent users of the HTTP API (default 50)")
    parser.add_argument("--api-seconds", type=float, default=20.0, help="seconds of load, for one user and for --api-users (default 20)")
    parser.add_argument("--ocr-full", action="store_true", help="OCR on whole book pages, more DRCD pages and articles, and PP-OCRv4 for comparison")
    parser.add_argument("--ingest-repeats", type=int, default=1, help="index builds per ingest configuration (the best counts)")
    parser.add_argument("--ingest-configs", default=",".join(DEFAULT_CONFIGS), help=f"ingest configurations, of {','.join(CONFIGS)}")
    parser.add_argument("--drcd", type=Path, default=REPO.parent / "shared" / "eval" / "drcd", help="the DRCD dev folder (default ../shared/eval/drcd)")
    parser.add_argument("--drcd-files", default="20", help="DRCD articles to ingest and score per configuration: a number, or `all` (383, as `make bench`)")
    parser.add_argument("--load-sessions", type=int, default=LoadSettings.sessions, help="concurrent app sessions of the load run (0: none)")
    return parser.parse_args(argv)


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _engine(embedder) -> str:
    return embedder.describe() if hasattr(embedder, "describe") else type(embedder).__name__


INGEST_GOALS = {"drcd": 90.0, "corpus": 5.0}  # seconds for a whole build
QUALITY_MARGIN = 0.01  # of the baseline pipeline's DRCD figures


def ingest_goals(ingest: dict) -> dict:
    """The ingest issue's goals: the whole DRCD dev corpus and the default corpus built in time
    by the shipped configuration, at the baseline's quality."""
    found = {}
    for corpus, limit in INGEST_GOALS.items():
        row = ingest["corpora"].get(corpus, {}).get("shipped")
        if row:
            found[f"ingest_{corpus}_s"] = {"target": f"<= {limit} s (shipped)", "measured": row["seconds"], "holds": row["seconds"] <= limit}
    for corpus, rows in ingest["corpora"].items():
        shipped, base = rows.get("shipped", {}), rows.get("baseline-c-2-processes", {})
        for key in ("mrr@10", "cited_evidence", "answer_has_text"):
            if key in shipped and key in base:
                change = round(shipped[key] - base[key], 4)
                found[f"{corpus}_{key}_vs_baseline"] = {"target": f">= -{QUALITY_MARGIN}", "measured": change, "holds": change >= -QUALITY_MARGIN}
    return found


def cases_goals(cases: dict) -> dict:
    ours = cases["ours_cross_validated"]["precision@5"]
    # Parts of ours measured alone (the two models' centered vectors mixed, the blend before the
    # graph) are not baselines; every single signal is.
    parts = ("centered_both_models", "centered_and_lexical_without_neighbourhoods", "ours")
    baselines = [name for name in cases["methods"] if name not in parts]
    best = max(baselines, key=lambda name: cases["methods"][name]["precision@5"])
    margin = round(ours - cases["methods"][best]["precision@5"], 4)
    return {
        "cases_precision@5": {"target": f">= {CASES_P5} (cross-validated)", "measured": ours, "holds": ours >= CASES_P5},
        "cases_margin_over_best_baseline": {"target": f">= {CASES_MARGIN} over {best}", "measured": margin, "holds": margin >= CASES_MARGIN},
    }


def goals(quality: dict, speed: dict, api: dict) -> dict:
    best_peer = max(PEERS, key=lambda name: quality[name]["mrr@10"])
    margin = round(quality["ours"]["mrr@10"] - quality[best_peer]["mrr@10"], 4)
    largest = speed["by_size"][max(speed["by_size"], key=int)]
    budget = round(1.5 * largest["query_embed_p50_ms"] + 2, 3)
    return {
        "mrr_margin_over_best_peer": {"target": f">= {MRR_MARGIN} over {best_peer}", "measured": margin, "holds": margin >= MRR_MARGIN},
        f"search_p50_at_{largest['chunks']}": {
            "target": f"<= 1.5 x query embed + 2 ms = {budget} ms", "measured": largest["search_p50_ms"], "holds": largest["search_p50_ms"] <= budget,
        },
        "api_throughput_ratio": {
            "target": ">= 1.5 x one user at a time", "measured": api["throughput_ratio"], "holds": (api["throughput_ratio"] or 0) >= 1.5,
        },
        "api_p99_ms": {"target": "<= 2000", "measured": api["concurrent"]["p99_ms"], "holds": (api["concurrent"]["p99_ms"] or 1e9) <= 2000},
        "api_errors": {"target": "0", "measured": api["concurrent"]["errors"] + api["one_user"]["errors"], "holds": api["concurrent"]["errors"] + api["one_user"]["errors"] == 0},
        "ingest_passages_per_s": {"target": ">= 20", "measured": speed["ingest_passages_per_s"], "holds": speed["ingest_passages_per_s"] >= 20},
        **ingest_goals(speed["ingest"]),
    }


def run(args: argparse.Namespace) -> dict:
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if not parts or set(parts) - set(PARTS):
        raise BenchError(f"--parts takes a comma-separated choice of {', '.join(PARTS)}, not {args.parts!r}")
    started, load_before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), _load()
    results: dict = {"goals": {}}
    if "retrieval" in parts:
        results.update(_retrieval(args))
    if "cases" in parts:
        _log(f"comparable cases on {args.cases}")
        try:
            results["cases"] = measure_cases(args.cases, args.work)
        except LabelsError as exc:
            raise BenchError(str(exc)) from None
        results["goals"].update(cases_goals(results["cases"]))
    if "ocr" in parts:
        scorer = load_scorer(args.dev.parent / "score.py")
        results["ocr"] = ocr.run(args.corpus, args.drcd, args.work / "ocr", scorer.covers, ocr.Sizes.full() if args.ocr_full else ocr.Sizes(), log=_log)
    return {
        **results,
        "command": "python -m bench " + " ".join(sys.argv[1:]),
        "machine": {"cores": os.cpu_count(), "usable_cpus": usable_cpus(), "device": results.get("speed", {}).get("ingest", {}).get("device"),
                    "started": started, "load_before": load_before, "load_after": _load()},
    }


def _retrieval(args: argparse.Namespace) -> dict:
    """Quality against the peers on the dev set, and speed."""
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    matcher = TextMatcher()
    questions = read_questions(args.dev)
    scorer = load_scorer(args.dev.parent / "score.py")

    corpus_index = args.work / "corpus-index"
    _log(f"indexing {args.corpus} into {corpus_index}")
    passage_embedder = load_embedder(batch=True)  # as `python -m ingest` embeds
    build_corpus_index(args.corpus, corpus_index, passage_embedder, matcher)
    retriever = open_retriever(corpus_index)  # as `python -m qa` and the app search
    documents, _ = load_corpus(args.corpus)

    _log("quality: ours, bm25, dense, langchain_default, chatchat_style")
    peers = peer_retrievers(documents, (passage_embedder, retriever.embedder))
    quality = measure_quality(rankers(retriever, peers), questions, scorer)
    engines = f"{retriever.embedder.name} (passages: {_engine(passage_embedder)}, questions: {_engine(retriever.embedder)})"
    getattr(passage_embedder, "close", lambda: None)()

    _log("ingest: configurations side by side")
    names = [n for n in args.ingest_configs.split(",") if n]
    if unknown := set(names) - set(CONFIGS):
        raise BenchError(f"unknown ingest configuration(s) {', '.join(sorted(unknown))}; use {', '.join(CONFIGS)}")
    corpora = [Corpus("corpus", args.corpus)]
    if args.drcd_files != "0":
        corpora.append(drcd_slice(args.drcd, None if args.drcd_files == "all" else int(args.drcd_files), args.work / "drcd-slices"))
    ingest = measure_ingest(corpora, [CONFIGS[n] for n in names], args.work, args.ingest_repeats, _log)
    largest_corpus = corpora[-1].name
    by_size = {}
    for size in sizes:
        dest = args.work / f"synthetic-{size}"
        start = time.perf_counter()
        built = synthetic_index(retriever.index, matcher, size, dest)
        build_s = round(time.perf_counter() - start, 1) if built else "cached"
        _log(f"search latency at {size} chunks ({'built' if built else 'cached'} index)")
        measured = measure_latency(dest, [q["question"] for q in questions], args.repeats)
        found, _ = score_hits(scorer, questions, measured.pop("hits"))  # copies carry the real text
        by_size[str(size)] = {**measured, "build_s": build_s, "dev_mrr@10": found["mrr@10"]}
    _log("question limits: a maximum-length question next to typical ones")
    limits = measure_limits(corpus_index, [q["question"] for q in questions], args.limits_repeats)
    _log(f"HTTP API: one user, then {args.api_users} concurrent users, {args.api_seconds:g} s each")
    api = measure_api(corpus_index, corpus_texts(args.corpus), args.work / "api-server.log", args.api_users, args.api_seconds)
    _log(f"opening the index of {max(sizes)} chunks with and without full verification")
    integrity = measure_checks(args.work / f"synthetic-{max(sizes)}", matcher)
    _log("app first render")
    app_s = measure_app_first_render(REPO / "app.py", corpus_index)

    load = None
    if args.load_sessions:
        _log(f"app load: {args.load_sessions} concurrent sessions")
        load = measure_load(corpus_index, args.corpus, LoadSettings(sessions=args.load_sessions))

    largest = by_size[str(max(sizes))]
    speed = {
        "ingest_passages_per_s": ingest["corpora"][largest_corpus].get("shipped", {}).get("passages_per_s", 0.0),
        "query_embed_p50_ms": largest["query_embed_p50_ms"],
        "search_p50_ms": {size: row["search_p50_ms"] for size, row in by_size.items()},
        "search_p95_ms": {size: row["search_p95_ms"] for size, row in by_size.items()},
        "rss_mb": largest["rss_mb"],
        "rss_anon_mb": largest["rss_anon_mb"],
        "app_first_render_s": app_s,
        "ingest": ingest,
        "by_size": by_size,
    }
    return {
        "quality": quality.scores,
        "speed": speed,
        "load": load,
        "limits": limits,
        "api": api,
        "goals": goals(quality.scores, speed, api),
        "integrity": integrity,
        "quality_misses": quality.misses,
        "embedder": engines,
    }


def _quality(argv: list[str]) -> int:
    shared = REPO.parent / "shared" / "eval"
    parser = argparse.ArgumentParser(prog="python -m bench quality", description="search and offline-answer quality, ours and peers, side by side")
    parser.add_argument("--set", dest="sets", action="append", type=QuestionSet.parse, metavar="NAME=CORPUS,QUESTIONS[,SCORER]",
                        help="a question set (repeatable; default: the book's dev set, DRCD dev, DRCD dev in English, DRCD dev reworded in Chinese, follow-ups over DRCD, DRCD's English questions after a Chinese one)")
    parser.add_argument("--configs", default=",".join(CONFIGURATIONS), help=f"configurations to run (default: {','.join(CONFIGURATIONS)})")
    parser.add_argument("--limit", type=int, help="only the first N answerable and N unanswerable questions of each set")
    parser.add_argument("--dense-share", type=float, default=RetrievalSettings().dense_share,
                        help=f"our fusion's share of the dense score for Chinese questions (BM25: the rest; shipped {RetrievalSettings().dense_share})")
    parser.add_argument("--second-model-top", type=int, default=RetrievalSettings().second_model_top,
                        help=f"passages our retriever re-ranks with the second model for questions without Chinese characters (0: none; shipped {RetrievalSettings().second_model_top})")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench", help="indexes and caches (default var/bench)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object (last line of stdout)")
    parser.add_argument("--report", type=Path, help="also write a Markdown report here")
    args = parser.parse_args(argv)
    sets = args.sets or [
        QuestionSet("book", REPO / "corpus", shared / "dev.jsonl", shared / "score.py"),
        QuestionSet("drcd", shared / "drcd" / "corpus", shared / "drcd" / "questions.jsonl", shared / "drcd" / "score_drcd.py"),
        QuestionSet("drcd-en", shared / "drcd" / "corpus", question_file(shared / "drcd" / "questions.jsonl", args.work / "drcd-en" / "questions.jsonl", ENGLISH),
                    shared / "drcd" / "score_drcd.py"),
        QuestionSet("drcd-reworded", shared / "drcd" / "corpus",
                    question_file(shared / "drcd" / "questions.jsonl", args.work / "drcd-reworded" / "questions.jsonl", REWORDED), shared / "drcd" / "score_drcd.py"),
        QuestionSet("drcd-followups", shared / "drcd" / "corpus",
                    build_followups(shared / "drcd" / "DRCD_dev.json", shared / "drcd" / "questions.jsonl", shared / "drcd" / "corpus",
                                    args.work / "drcd-followups" / "questions.jsonl"), shared / "drcd" / "score_drcd.py"),
        QuestionSet("drcd-en-followups", shared / "drcd" / "corpus",
                    build_english_after_chinese(shared / "drcd" / "DRCD_dev.json", shared / "drcd" / "questions.jsonl",
                                                args.work / "drcd-en-followups" / "questions.jsonl"), shared / "drcd" / "score_drcd.py"),
    ]
    names = [n for n in args.configs.split(",") if n]
    if unknown := set(names) - set(CONFIGURATIONS):
        raise SystemExit(f"error: unknown configuration(s) {', '.join(sorted(unknown))}; use {', '.join(CONFIGURATIONS)}")
    for qset in sets:
        if not (qset.corpus.is_dir() and qset.questions.is_file() and qset.scorer.is_file()):
            raise SystemExit(f"error: set {qset.name}: need a corpus folder, a question file and a scorer ({qset.corpus}, {qset.questions}, {qset.scorer})")
    started, load_before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), _load()
    try:
        passage_embedder, query_embedder = load_embedder(batch=True), load_embedder()
        matcher = TextMatcher()
        retrieval = RetrievalSettings(dense_share=args.dense_share, second_model_top=args.second_model_top)
        second_model = CaseModel()
        figures = {q.name: measure_set(q, args.work, (passage_embedder, query_embedder), matcher, names, args.limit, _log, retrieval, second_model) for q in sets}
    except (EmbedderError, IndexUnavailable, ValueError) as exc:
        raise SystemExit(f"error: {exc}")
    finally:
        getattr(locals().get("passage_embedder"), "close", lambda: None)()
    results = {
        "quality_sets": figures,
        "sets": {q.name: {"corpus": str(q.corpus), "questions": str(q.questions), "scorer": str(q.scorer)} for q in sets},
        "embedder": query_embedder.name,
        "command": "python -m bench quality " + " ".join(argv),
        "machine": {"cores": os.cpu_count(), "started": started, "load_before": load_before, "load_after": _load()},
    }
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(quality_markdown(results), encoding="utf-8")
        _log(f"report written to {args.report}")
    print(json.dumps(results, ensure_ascii=False) if args.json else quality_markdown(results))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["quality"]:
        return _quality(argv[1:])
    if argv[:1] == ["ranking"]:
        from .ranking import main as ranking

        return ranking(argv[1:])
    if argv[:1] == ["calibrate"]:
        from .calibrate import main as calibrate

        return calibrate(argv[1:])
    args = _parse(argv)
    if "retrieval" in args.parts and not args.dev.exists():
        raise SystemExit(f"error: no question set at {args.dev}; pass --dev FILE")
    try:
        results = run(args)
    except (BenchError, EmbedderError) as exc:
        raise SystemExit(f"error: {exc}")
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(markdown(results), encoding="utf-8")
        _log(f"report written to {args.report}")
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    else:
        print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
