"""Question limits (issue 19): what a maximum-length question costs next to a typical one, and
how fast a question over the limit is refused. Timed side by side in one process (alternating
the kinds in each pass), so the ratios hold on a busy machine."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from qa.assistant import open_assistant
from qa.limits import InputRefused

from .speed import percentile


def longest_question(questions: Sequence[str], chars: int) -> str:
    """Real questions joined until `chars` characters: the longest a user may ask."""
    text = ""
    while len(text) < chars:
        text += "".join(questions)
    return text[:chars]


def measure_limits(index_dir: Path, questions: Sequence[str], repeats: int = 3) -> dict:
    assistant = open_assistant(index_dir, env={}, use_llm=False)
    limit = assistant.limits.question_chars
    longest = longest_question(questions, limit)
    huge = longest_question(questions, 100_000)
    assistant.ask(questions[0])  # warm: jieba, the model's first call
    typical_ms, longest_ms, refused_ms = [], [], []
    for _ in range(repeats):
        for question in questions[:5]:
            start = time.perf_counter()
            assistant.ask(question)
            typical_ms.append(1000 * (time.perf_counter() - start))
        start = time.perf_counter()
        assistant.ask(longest)
        longest_ms.append(1000 * (time.perf_counter() - start))
        start = time.perf_counter()
        try:
            assistant.ask(huge)
        except InputRefused:
            refused_ms.append(1000 * (time.perf_counter() - start))
    typical, most = percentile(typical_ms, 50), percentile(longest_ms, 50)
    return {
        "question_chars_limit": limit,
        "typical_ask_p50_ms": typical,
        "max_length_ask_p50_ms": most,
        "max_length_ask_max_ms": round(max(longest_ms), 3),
        "max_length_vs_typical": round(most / typical, 1),
        "refusal_of_100k_chars_p50_ms": percentile(refused_ms, 50) if len(refused_ms) == repeats else None,
    }


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.limits --index DIR [--dev ../shared/eval/dev.jsonl]`: these figures
    alone, as one JSON object (`python -m bench` includes them)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m bench.limits")
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--dev", type=Path, default=Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev.jsonl")
    args = parser.parse_args(argv)
    questions = [json.loads(line)["question"] for line in args.dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(json.dumps(measure_limits(args.index, questions)))


if __name__ == "__main__":
    main()
