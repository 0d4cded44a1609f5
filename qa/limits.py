"""Limits on what users send, checked at the one entry every door goes through.

Owns the caps: a question's length (also a lesson topic's and a `qa similar --text`
description's), the refusal of blank or punctuation-only text, how many filter values and how
long each, and how much of a conversation is carried into a follow-up. The CLI, the app, the
HTTP API and Python callers all reach the index through `Assistant`, `LessonBuilder`,
`CaseLibrary.similar` and `Filters.parse`, which call these checks before any embedding; the
checks cost microseconds whatever the input's size. The refusal wording, in the text's
script, is `qa.language`'s; turning `InputRefused` into an exit line, an `st.warning` or an
HTTP 400 is each door's job.

The default question limit, 1,000 characters, is about the embedding model's 512-token window
for Chinese text (a longer question is not read by the model beyond it, yet costs more to embed).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Mapping, Sequence, TypeVar

from .language import PHRASES, ScriptDetector

Field = Literal["question", "topic", "text"]
Reason = Literal["blank", "too_long"]
ENV_QUESTION_CHARS = "MAX_QUESTION_CHARS"

T = TypeVar("T")


class LimitsConfigError(ValueError):
    """A limit set in the environment cannot be read; the message names the variable."""


class InputRefused(ValueError):
    """A text a user sent is refused before any work; `message` says why, in the text's script."""

    def __init__(self, message: str, reason: Reason, field: Field, limit: int):
        super().__init__(message)
        self.message, self.reason, self.field, self.limit = message, reason, field, limit

    def __reduce__(self):  # raised in an answering process of the API server, re-raised in its HTTP process
        return type(self), (self.message, self.reason, self.field, self.limit)


@dataclass(frozen=True)
class Limits:
    question_chars: int = 1000  # a question, a lesson topic, a case description
    filter_values: int = 20  # filter values in one request, all keys together
    filter_value_chars: int = 200
    history_turns: int = 6  # the most recent turns carried into a follow-up
    history_answer_chars: int = 1000  # of each earlier answer (its question: question_chars)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if getattr(self, f.name) < 1:
                raise ValueError(f"Limits.{f.name} must be at least 1, got {getattr(self, f.name)}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Limits:
        """The defaults, with the question limit from $MAX_QUESTION_CHARS when set. Raises LimitsConfigError."""
        value = env.get(ENV_QUESTION_CHARS, "").strip()
        if not value:
            return cls()
        try:
            return cls(question_chars=int(value))
        except ValueError:
            raise LimitsConfigError(f"{ENV_QUESTION_CHARS} must be a whole number of characters (at least 1), not {value!r}") from None

    def text(self, text: str, field: Field = "question") -> str:
        """`text` unchanged if it may be searched; else InputRefused. Length first: a huge text
        is refused after reading only `question_chars` of it."""
        if len(text) > self.question_chars:
            raise self._refused("too_long", field, text[: self.question_chars], length=len(text), limit=self.question_chars)
        if not any(ch.isalnum() for ch in text):
            raise self._refused("blank", field, text)
        return text

    def history(self, turns: Sequence[T]) -> tuple[T, ...]:
        """The last `history_turns` turns, each question and answer cut to its cap (a follow-up
        needs the recent topic, never the whole conversation)."""
        return tuple(
            dataclasses.replace(turn, question=turn.question[: self.question_chars], answer=turn.answer[: self.history_answer_chars])
            for turn in list(turns)[-self.history_turns:]
        )

    def _refused(self, reason: Reason, field: Field, sample: str, **values: int) -> InputRefused:
        phrases = PHRASES[_detector().script(sample)]
        limit = values.get("limit", self.question_chars)
        return InputRefused(phrases.refusal(reason, field, **values), reason, field, limit)


@lru_cache(maxsize=1)  # OpenCC loads its tables once per process
def _detector() -> ScriptDetector:
    return ScriptDetector()
