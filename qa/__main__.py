"""`python -m qa search|ask|similar|compare|lesson|serve …`: the command line over the index (JSON
contracts in DESIGN.md, the README and docs/cases.md; `serve` starts the HTTP API, `qa.server`). Errors become
one line on stderr and a non-zero exit."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from index.embedder import EmbedderError
from index.store import IndexUnavailable
from index.terminal import guard_streams

from .answer import Turn
from .assistant import Assistant, open_assistant
from .cases import ROLE_LABELS, CaseError, CaseLibrary
from .chat import LlmConfigError
from .display import reference, tag_label
from .export import lesson_docx, lesson_markdown
from .filters import FILTER_KEYS, FilterError, Filters
from .lesson import LessonBuilder, LessonSettings
from .limits import InputRefused, Limits, LimitsConfigError
from .prompts import PromptError
from .retrieve import Retriever, open_retriever


@dataclass(frozen=True)
class Asked:
    """A question from the command line or a --batch line, with the conversation before it
    (`history`, oldest first; `qa ask` answers it as a follow-up, `qa search` ignores it)."""

    question: str
    history: tuple[Turn, ...] = ()


_BAD_HISTORY = "its \"history\" must be a list of earlier questions, each a string or {\"question\", \"answer\"} strings"


def _turn(item: object) -> Turn | None:
    """An earlier turn of a --batch line's "history" (a question, or {"question", "answer"});
    None for anything else."""
    if isinstance(item, str):
        return Turn(item)
    if isinstance(item, dict) and isinstance(item.get("question"), str) and isinstance(item.get("answer", ""), str):
        return Turn(item["question"], item.get("answer", ""))
    return None


def _batch_line(line: str) -> Asked | str:
    """The question (and history) of one --batch line, or why the line has none."""
    try:
        row = json.loads(line)
        question = row["question"]
        if not isinstance(question, str):
            raise TypeError(f"its \"question\" is a {type(question).__name__}, not a string")
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        return f"needs a JSON object with a \"question\" string ({str(exc)[:80]})"
    history = row.get("history") or []
    turns = [_turn(item) for item in history] if isinstance(history, list) else [None]
    return _BAD_HISTORY if None in turns else Asked(question, tuple(turns))


def _questions(args: argparse.Namespace) -> Iterator[tuple[Asked | None, str | None]]:
    """(question, None) for each question, or (None, why) for a --batch line that has none."""
    yield from ((Asked(q), None) for q in args.question)
    if args.batch:
        with open(args.batch, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                asked = _batch_line(line)
                yield (asked, None) if isinstance(asked, Asked) else (None, f"{args.batch} line {number}: {asked}")


def _each(args: argparse.Namespace, questions: list[tuple[Asked | None, str | None]], answer: Callable[[Asked], None]) -> int:
    """`answer` for each question; a refused question or an unreadable --batch line gets its own
    error (with --json, a line `{"question", "error"}`) and the others are still answered.
    Exit status 1 when any was refused."""
    refused = 0
    for asked, problem in questions:
        try:
            if problem is None:
                answer(asked)
                continue
        except InputRefused as exc:
            problem = exc.message
        refused += 1
        if args.json:
            print(json.dumps({"question": asked and asked.question, "error": problem}, ensure_ascii=False), flush=True)
        else:
            print(f"error: {problem}", file=sys.stderr)
    return 1 if refused else 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m qa", description="Search the casebook index and answer questions from it.")
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search", help="ranked passages for each question")
    ask = commands.add_parser("ask", help="a short answer citing its sources [n], or an honest \"not in the corpus\"")
    similar = commands.add_parser("similar", help="the cases most like a case or a text, and why")
    compare = commands.add_parser("compare", help="two or three cases side by side: background, approach, results, one cited passage per cell")
    lesson = commands.add_parser("lesson", help="a lesson pack for a topic: key passages, key terms, outline and questions (LLM), as Markdown or Word")
    serve = commands.add_parser("serve", help="the HTTP API: OpenAI-compatible /v1/chat/completions, /v1/search, /health (docs at /docs)")
    for command in (search, ask):
        command.add_argument("question", nargs="*")
        command.add_argument("--batch", type=Path, help="JSONL file whose lines have a \"question\" field (ask: and an optional \"history\", the earlier questions)")
    for command in (search, ask, similar, compare, lesson, serve):
        command.add_argument("--index", type=Path, default=None, help="index directory (default: $INDEX_DIR or var/index)")
    for command in (search, ask, similar, compare, lesson):
        command.add_argument(
            "--filter", action="append", default=[], metavar="KEY=VALUE",
            help=f"only passages with this property, before ranking; repeatable (a repeated key: any of its values). Keys: {', '.join(FILTER_KEYS)}",
        )
    for command in (search, ask, similar, compare):
        command.add_argument("--json", action="store_true", help="JSON output")
    search.add_argument("-k", type=int, default=5, help="passages per question (default 5)")
    ask.add_argument("--extractive", action="store_true", help="quote the sources even when an LLM is configured (LLM_BASE_URL, LLM_MODEL)")
    target = similar.add_mutually_exclusive_group(required=True)
    target.add_argument("--case", help="a case: its name, its label (案例三) or a part of its name only it has")
    target.add_argument("--text", help="a description of a case or an idea")
    target.add_argument("--batch", type=Path, help="JSONL file whose lines have a \"case\" field (a case's name, label or, for a document-case, its file name): one JSON line each")
    similar.add_argument("-k", type=int, default=3, help="cases to list (default 3)")
    compare.add_argument("cases", nargs="+", metavar="CASE", help="two or three cases (names, labels or unique parts of names)")
    lesson.add_argument("topic")
    lesson.add_argument("--out", type=Path, required=True, help="FILE.md (Markdown) or FILE.docx (Word)")
    lesson.add_argument("-k", type=int, default=LessonSettings.passages, help=f"key passages (default {LessonSettings.passages})")
    lesson.add_argument("--extractive", action="store_true", help="no LLM even when one is configured: passages and key terms only")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="answering processes, each with its own index and model (default: one per core)")
    return parser.parse_args(argv)


def _ocr_mark(chunk) -> str:
    return (" (OCR, low confidence)" if chunk.ocr_unsure else " (OCR)") if chunk.ocr else ""


def _print_text(question: str, hits) -> None:
    print(f"? {question}")
    for hit in hits:
        c = hit.chunk
        where = " > ".join(part for part in (c.doc, c.section) if part)
        page = f" p.{c.page}" if c.page else ""
        print(f"  [{hit.rank}] {hit.score:.4f} {where}{page} [{c.start}:{c.end}]{_ocr_mark(c)}")
        print(f"      {c.text[:160].replace(chr(10), ' ')}{'…' if len(c.text) > 160 else ''}")
        if c.tags:
            print(f"      tags: {', '.join(c.tags)}")


def _print_answer(answer) -> None:
    print(f"? {answer.question}")
    if answer.standalone_question:
        print(f"  (searched as: {answer.standalone_question})")
    print(answer.text)
    for citation in answer.citations:
        c = citation.chunk
        where = " > ".join(part for part in (c.doc, c.section) if part)
        page = f" p.{c.page}" if c.page else ""
        print(f"  [{citation.n}] {where}{page} [{c.start}:{c.end}]{_ocr_mark(c)}")
    print()


def _limits() -> Limits:
    try:
        return Limits.from_env()
    except LimitsConfigError as exc:
        raise SystemExit(f"error: {exc}")


def _filters(args: argparse.Namespace) -> Filters:
    try:
        return Filters.parse(args.filter, _limits())
    except FilterError as exc:
        raise SystemExit(f"error: {exc}")


def _report_empty(retriever: Retriever, filters: Filters) -> None:
    """One line on stderr when the filters leave no passage at all."""
    if filters and retriever.rows(filters.accepts).size == 0:
        print(f"notice: no passages match the filters ({filters.describe()})", file=sys.stderr)


def _assistant(args: argparse.Namespace, use_llm: bool) -> Assistant:
    try:
        return open_assistant(args.index, use_llm=use_llm)
    except (IndexUnavailable, EmbedderError, LlmConfigError, PromptError, LimitsConfigError) as exc:
        raise SystemExit(f"error: {exc}")


def _ask(args: argparse.Namespace, questions: list, filters: Filters) -> int:
    assistant = _assistant(args, use_llm=not args.extractive)
    _report_empty(assistant.retriever, filters)

    def answer_one(asked: Asked) -> None:
        answer = assistant.ask(asked.question, asked.history, filters=filters)
        if answer.notice:
            print(f"notice: {answer.notice}", file=sys.stderr)
        if args.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            _print_answer(answer)

    return _each(args, questions, answer_one)


def _search(args: argparse.Namespace, questions: list, filters: Filters) -> int:
    if args.k < 1:
        raise SystemExit("error: -k must be at least 1")
    assistant = _assistant(args, use_llm=False)
    _report_empty(assistant.retriever, filters)

    def search_one(asked: Asked) -> None:
        hits = assistant.search(asked.question, k=args.k, filters=filters)
        if args.json:
            print(json.dumps({"question": asked.question, "hits": [h.to_json() for h in hits]}, ensure_ascii=False), flush=True)
        else:
            _print_text(asked.question, hits)

    return _each(args, questions, search_one)


def _retriever(args: argparse.Namespace) -> Retriever:
    try:
        return open_retriever(args.index)
    except (IndexUnavailable, EmbedderError) as exc:
        raise SystemExit(f"error: {exc}")


def _similar(args: argparse.Namespace, filters: Filters) -> int:
    if args.k < 1:
        raise SystemExit("error: -k must be at least 1")
    retriever = _retriever(args)
    _report_empty(retriever, filters)
    where = filters.accepts if filters else None
    try:
        library = CaseLibrary(retriever, limits=_limits())
        if args.batch:
            return _similar_batch(args, library, filters)
        case = library.resolve(args.case) if args.case else None
        similar = library.similar(case=case, text=args.text, k=args.k, where=where)
    except CaseError as exc:
        raise SystemExit(f"error: {exc}")
    except InputRefused as exc:
        raise SystemExit(f"error: {exc.message}")
    if args.json:
        print(json.dumps(_similar_json(library, case, args.text, filters, similar), ensure_ascii=False))
        return 0
    print(f"Cases like {case or repr(args.text)}" + (f" (filters: {filters.describe()})" if filters else "") + ":")
    if not similar:
        print("  (no other case" + (" matches the filters)" if filters else ")"))
    for s in similar:
        model = "" if s.case_model_score is None else f", case model {s.case_model_score:.3f}"
        print(f"\n{s.rank}. {s.case}  {s.score:.0f}/100 (centered vectors {s.vector_score:.3f}{model}, wording {s.keyword_score:.3f})")
        if s.shared_tags:
            print(f"   shared tags: {', '.join(map(tag_label, s.shared_tags))}")
        if s.shared_terms:
            print(f"   shared terms: {'、'.join(s.shared_terms)}")
        for pair in s.pairs:
            print(f"   ≈ {pair.score:.3f}")
            if pair.mine:
                print(f"     this: {_quote(pair.mine.text)}\n           {reference(pair.mine)}")
            print(f"     that: {_quote(pair.theirs.text)}\n           {reference(pair.theirs)}")
    return 0


def _similar_json(library: CaseLibrary, case: str | None, text: str | None, filters: Filters, similar) -> dict:
    return {"case": case, "text": text, "unit": library.unit, "filters": filters.describe(), "similar": [s.to_json() for s in similar]}


def _similar_batch(args: argparse.Namespace, library: CaseLibrary, filters: Filters) -> int:
    """One output line per input line with a case; a line that can't be read or names no
    single case becomes a line with an "error" (the run goes on, a notice on stderr counts them)."""
    failed = 0
    with open(args.batch, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            asked = None
            try:
                row = json.loads(line)
                asked = row["case"]
                if not isinstance(asked, str) or not asked.strip():
                    raise TypeError("\"case\" must be a non-empty string")
                case = library.resolve(asked)
                similar = library.similar(case=case, k=args.k, where=filters.accepts if filters else None)
                out = _similar_json(library, case, None, filters, similar)
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                failed += 1
                out = {"case": asked, "line": number, "error": f"needs a JSON object with a \"case\" field ({exc})"}
            except CaseError as exc:
                failed += 1
                out = {"case": asked, "line": number, "error": str(exc)}
            if args.json:
                print(json.dumps(out, ensure_ascii=False), flush=True)
            elif "error" in out:
                print(f"{args.batch} line {number}: error: {out['error']}")
            else:
                print(f"{out['case']}: " + "; ".join(f"{s['rank']}. {s['case']} {s['score']:.0f}/100" for s in out["similar"]))
    if failed:
        print(f"notice: {failed} line{'s' if failed != 1 else ''} of {args.batch} failed (see their \"error\")", file=sys.stderr)
    return 0


def _quote(text: str, limit: int = 90) -> str:
    flat = text.replace("\n", " ")
    return f"「{flat[:limit]}{'…' if len(flat) > limit else ''}」"


def _compare(args: argparse.Namespace, filters: Filters) -> int:
    retriever = _retriever(args)
    _report_empty(retriever, filters)
    try:
        comparison = CaseLibrary(retriever).compare(args.cases, where=filters.accepts if filters else None)
    except CaseError as exc:
        raise SystemExit(f"error: {exc}")
    if args.json:
        print(json.dumps(comparison.to_json(), ensure_ascii=False))
        return 0
    for role, cells in comparison.cells:
        print(f"== {ROLE_LABELS[role]}")
        for case, chunk in zip(comparison.cases, cells):
            print(f"  {case}")
            print(f"    {_quote(chunk.text, 200)}\n    {reference(chunk)}" if chunk else "    — (no such section)")
    return 0


def _lesson(args: argparse.Namespace, filters: Filters) -> int:
    if args.out.suffix.lower() not in (".md", ".docx"):
        raise SystemExit(f"error: --out must end in .md (Markdown) or .docx (Word), not {args.out.name!r}")
    if args.k < 1:
        raise SystemExit("error: -k must be at least 1")
    assistant = _assistant(args, use_llm=not args.extractive)
    builder = LessonBuilder(assistant.retriever, assistant.chat, LessonSettings(passages=args.k), limits=assistant.limits)
    try:
        pack = builder.build(args.topic, filters)
    except InputRefused as exc:
        raise SystemExit(f"error: {exc.message}")
    if not pack.passages:
        raise SystemExit(f"error: {pack.notice} Nothing written.")
    stamp = time.strftime("%Y-%m-%d %H:%M")
    if args.out.suffix.lower() == ".md":
        args.out.write_text(lesson_markdown(pack, stamp), encoding="utf-8")
    else:
        args.out.write_bytes(lesson_docx(pack, stamp))
    if pack.notice:
        print(f"notice: {pack.notice}", file=sys.stderr)
    plan = f", outline and questions by {pack.model}" if pack.plan else ""
    print(f"wrote {args.out}: {len(pack.passages)} passages, {len(pack.terms)} key terms{plan}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .server import check_settings, serve  # FastAPI loads only for the server

    if args.workers < 1:
        raise SystemExit("error: --workers must be at least 1")
    if args.index is not None:
        os.environ["INDEX_DIR"] = str(args.index)
    try:
        check_settings()
    except (IndexUnavailable, EmbedderError, LlmConfigError, PromptError, LimitsConfigError) as exc:
        raise SystemExit(f"error: {exc}")
    serve(args.host, args.port, args.workers)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.command == "serve":
        return _serve(args)
    filters = _filters(args) if hasattr(args, "filter") else Filters()
    if args.command == "similar":
        return _similar(args, filters)
    if args.command == "compare":
        return _compare(args, filters)
    if args.command == "lesson":
        return _lesson(args, filters)
    questions = list(_questions(args))
    if not questions:
        raise SystemExit("error: give a question or --batch FILE")
    if args.command == "ask":
        return _ask(args, questions, filters)
    return _search(args, questions, filters)


if __name__ == "__main__":
    guard_streams()  # document text and file names never reach the terminal as control codes
    sys.exit(main())
