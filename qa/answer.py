"""What an answer is: frozen records shared by the assistant, the CLI and the app.

`Answer.to_json` is the `python -m qa ask --json` contract (DESIGN.md). The streaming events
(`TextDelta`, `Restart`) are what `Assistant.stream` yields before its final `Answer`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from index.records import Chunk

from .retrieve import Hit

Mode = Literal["extractive", "llm"]


@dataclass(frozen=True)
class Citation:
    """Source `n` of an answer: a retrieved passage, quoted verbatim."""

    n: int
    hit: Hit

    @property
    def chunk(self) -> Chunk:
        return self.hit.chunk

    def to_json(self) -> dict:
        return {"n": self.n, **self.hit.to_json()}


@dataclass(frozen=True)
class Answer:
    question: str  # as asked
    found: bool  # False: the corpus does not answer it, and `text` says so
    text: str  # with [n] markers; every marker has a citation n
    citations: tuple[Citation, ...]
    mode: Mode  # which composer produced `text`
    standalone_question: str = ""  # the question searched for (a follow-up rewritten); "" = as asked
    notice: str | None = None  # for the user, e.g. why the LLM answer was replaced by quotes
    flagged: tuple[str, ...] = field(default=())  # LLM sentences their cited source does not support
    # When the corpus does not answer: the passages that came closest, for the reader to look at
    # (a question in other words than the text's can be refused wrongly). Not citations: the
    # answer claims nothing from them, and `to_json` leaves them out.
    nearest: tuple[Hit, ...] = field(default=())

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "found": self.found,
            "answer": self.text,
            "citations": [c.to_json() for c in self.citations],
            "mode": self.mode,
        }


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation, oldest first in a history."""

    question: str
    answer: str = ""


@dataclass(frozen=True)
class TextDelta:
    """More answer text, as it arrives."""

    text: str


@dataclass(frozen=True)
class Restart:
    """Discard the text streamed so far: the answer starts again (e.g. the LLM failed and the
    quotes follow). `notice` says why, for the user."""

    notice: str
