"""Prompt templates (text files in `prompts/`) and how sources and history are put into them.

Owns the wording sent to an LLM; talking to the LLM is `qa.llm`'s job. Placeholders are
`{name}` and are filled in one pass, so text inside a source can never fill a placeholder.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from .answer import Turn
from .retrieve import Hit

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# The start of anything that reads as a source fence tag, opening or closing, in any case,
# with spaces or a full-width bracket: `</SOURCE>`, `< source n="9">`, `＜/source＞`.
_FENCE_TAG = re.compile(r"[<＜](?=[\s/]*source)", re.IGNORECASE)


class PromptError(Exception):
    """A prompt template is missing or names a placeholder nobody fills."""


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str


def fill(template: str, values: Mapping[str, str]) -> str:
    def value(match: re.Match) -> str:
        try:
            return values[match.group(1)]
        except KeyError:
            raise PromptError(f"prompt placeholder {{{match.group(1)}}} has no value (known: {', '.join(sorted(values))})") from None

    return _PLACEHOLDER.sub(value, template)


def unfenced(text: str) -> str:
    """`text` (from a document or a model) unable to open or close a source fence: the bracket
    of every tag-like `source` is replaced by "‹"."""
    return _FENCE_TAG.sub("‹", text)


def format_sources(hits: Sequence[Hit]) -> str:
    """Numbered sources, each fenced so that its text reads as data. Neither a source's text
    nor its title can close its fence or forge another source."""
    blocks = []
    for n, hit in enumerate(hits, start=1):
        c = hit.chunk
        reference = unfenced(" › ".join(part for part in (c.title, *c.section.split(" > ")) if part)).replace('"', "'")
        blocks.append(f'<source n="{n}" ref="{reference}">\n{unfenced(c.text)}\n</source>')
    return "\n\n".join(blocks)


def format_history(history: Sequence[Turn], max_chars: int = 300) -> str:
    lines = []
    for turn in history:
        lines.append(f"User: {unfenced(turn.question)}")
        if turn.answer:
            answer = turn.answer if len(turn.answer) <= max_chars else turn.answer[:max_chars] + "…"
            lines.append(f"Assistant: {unfenced(answer)}")
    return "\n".join(lines)


class Prompts:
    """The templates of one prompts folder, read once at construction."""

    def __init__(self, folder: Path = PROMPTS_DIR):
        try:
            self._answer_system = (folder / "answer_system.md").read_text(encoding="utf-8")
            self._answer_user = (folder / "answer_user.md").read_text(encoding="utf-8")
            self._condense = (folder / "condense.md").read_text(encoding="utf-8")
            self._lesson_system = (folder / "lesson_system.md").read_text(encoding="utf-8")
            self._lesson_user = (folder / "lesson_user.md").read_text(encoding="utf-8")
        except OSError as exc:
            raise PromptError(f"cannot read prompt templates in {folder}: {exc}") from exc

    def answer(self, question: str, hits: Sequence[Hit], max_sentences: int = 5) -> Prompt:
        return Prompt(
            system=fill(self._answer_system, {"max_sentences": str(max_sentences)}),
            user=fill(self._answer_user, {"sources": format_sources(hits), "question": question}),
        )

    def condense(self, question: str, history: Sequence[Turn]) -> Prompt:
        return Prompt(system="", user=fill(self._condense, {"history": format_history(history), "question": question}))

    def lesson(self, topic: str, hits: Sequence[Hit], terms: Sequence[str], questions: int = 4) -> Prompt:
        return Prompt(
            system=fill(self._lesson_system, {"questions": str(questions)}),
            user=fill(self._lesson_user, {"sources": format_sources(hits), "terms": "、".join(terms), "topic": topic}),
        )
