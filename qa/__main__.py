"""`python -m qa search …` and `python -m qa ask …`: the command line over the index (JSON
contracts in DESIGN.md). Errors become one line on stderr and a non-zero exit."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterator

from index.embedder import EmbedderError
from index.store import IndexUnavailable

from .assistant import open_assistant
from .chat import LlmConfigError
from .prompts import PromptError
from .retrieve import open_retriever


def _questions(args: argparse.Namespace) -> Iterator[str]:
    yield from (q for q in args.question if q.strip())
    if args.batch:
        with open(args.batch, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)["question"]
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise SystemExit(f"error: {args.batch} line {number}: needs a JSON object with a \"question\" field ({exc})")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m qa", description="Search the casebook index and answer questions from it.")
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search", help="ranked passages for each question")
    ask = commands.add_parser("ask", help="a short answer citing its sources [n], or an honest \"not in the corpus\"")
    for command in (search, ask):
        command.add_argument("question", nargs="*")
        command.add_argument("--batch", type=Path, help="JSONL file whose lines have a \"question\" field")
        command.add_argument("--index", type=Path, default=None, help="index directory (default: $INDEX_DIR or var/index)")
        command.add_argument("--json", action="store_true", help="one JSON object per question")
    search.add_argument("-k", type=int, default=5, help="passages per question (default 5)")
    ask.add_argument("--extractive", action="store_true", help="quote the sources even when an LLM is configured (LLM_BASE_URL, LLM_MODEL)")
    return parser.parse_args(argv)


def _print_text(question: str, hits) -> None:
    print(f"? {question}")
    for hit in hits:
        c = hit.chunk
        where = " > ".join(part for part in (c.doc, c.section) if part)
        page = f" p.{c.page}" if c.page else ""
        print(f"  [{hit.rank}] {hit.score:.4f} {where}{page} [{c.start}:{c.end}]")
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
        print(f"  [{citation.n}] {where}{page} [{c.start}:{c.end}]")
    print()


def _ask(args: argparse.Namespace, questions: list[str]) -> int:
    try:
        assistant = open_assistant(args.index, use_llm=not args.extractive)
    except (IndexUnavailable, EmbedderError, LlmConfigError, PromptError) as exc:
        raise SystemExit(f"error: {exc}")
    for question in questions:
        answer = assistant.ask(question)
        if answer.notice:
            print(f"notice: {answer.notice}", file=sys.stderr)
        if args.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            _print_answer(answer)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    questions = list(_questions(args))
    if not questions:
        raise SystemExit("error: give a question or --batch FILE")
    if args.command == "ask":
        return _ask(args, questions)
    if args.k < 1:
        raise SystemExit("error: -k must be at least 1")
    try:
        retriever = open_retriever(args.index)
    except (IndexUnavailable, EmbedderError) as exc:
        raise SystemExit(f"error: {exc}")
    for question in questions:
        hits = retriever.search(question, k=args.k)
        if args.json:
            print(json.dumps({"question": question, "hits": [h.to_json() for h in hits]}, ensure_ascii=False), flush=True)
        else:
            _print_text(question, hits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
