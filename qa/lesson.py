"""Lesson packs: for a topic, the key passages (diverse, each cited), key terms, and — when an
LLM is configured — an outline and discussion questions that cite the passages.

Owns choosing the passages (maximal marginal relevance over the retriever's ranking, at most
a few per case), the key terms (jieba.analyse through `TextMatcher.key_terms`) and asking the
chat model with `prompts/lesson_*.md`. Without an LLM, or when it fails, the pack still has
its passages and terms, and its notice says what is missing, in the topic's script (wording
from `qa.language`). Exporting is `qa.export`'s job.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cases import COMMON_WORDS, body_text
from .chat import ChatModel, LlmError
from .display import in_script
from .filters import Filters
from .language import PHRASES, ScriptDetector
from .limits import Limits
from .prompts import Prompts
from .retrieve import Hit, Retriever
from .verify import keep_known_markers

@dataclass(frozen=True)
class LessonSettings:
    passages: int = 6
    candidates: int = 30  # ranked passages the selection chooses from
    per_case: int = 2  # at most this many passages of one case
    relevance_weight: float = 0.7  # MMR: w·relevance − (1−w)·similarity to those already chosen
    terms: int = 12
    term_method: str = "tfidf"  # or "textrank"
    questions: int = 4


@dataclass(frozen=True)
class LessonPack:
    topic: str
    filters: str  # as `Filters.describe` gives them; "" for none
    passages: tuple[Hit, ...]  # numbered [1]… in this order
    terms: tuple[str, ...]  # in the script of the passages
    plan: str = ""  # the LLM's outline and discussion questions (Markdown, [n] markers valid)
    model: str = ""  # the LLM that wrote `plan`
    notice: str = ""  # what is missing, and why

    def to_json(self) -> dict:
        return {
            "topic": self.topic, "filters": self.filters, "terms": list(self.terms), "plan": self.plan,
            "model": self.model, "notice": self.notice,
            "passages": [{"n": n, **hit.to_json()} for n, hit in enumerate(self.passages, start=1)],
        }


def choose(hits: list[Hit], vectors: np.ndarray, settings: LessonSettings) -> list[int]:
    """Indices of `hits` to keep: maximal marginal relevance (relevance from the ranking's
    scores, redundancy from the rows of `vectors`, normalized), at most `per_case` per case."""
    if not hits:
        return []
    top = max(h.score for h in hits) or 1.0
    relevance = np.array([h.score / top for h in hits])
    chosen: list[int] = []
    per_case: dict[str | None, int] = {}
    w = settings.relevance_weight
    while len(chosen) < settings.passages:
        best, best_score = None, -np.inf
        for i, hit in enumerate(hits):
            if i in chosen or (hit.chunk.case and per_case.get(hit.chunk.case, 0) >= settings.per_case):
                continue
            redundancy = max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)
            score = w * relevance[i] - (1 - w) * redundancy
            if score > best_score:
                best, best_score = i, score
        if best is None:
            break
        chosen.append(best)
        per_case[hits[best].chunk.case] = per_case.get(hits[best].chunk.case, 0) + 1
    return chosen


class LessonBuilder:
    """Builds lesson packs over one retriever; the chat model (optional) at construction."""

    def __init__(
        self, retriever: Retriever, chat: ChatModel | None = None, settings: LessonSettings = LessonSettings(),
        prompts: Prompts | None = None, limits: Limits = Limits(),
    ):
        self._retriever = retriever
        self._limits = limits
        self._chat = chat
        self._settings = settings
        self._prompts = prompts or Prompts()

    def build(self, topic: str, filters: Filters | None = None) -> LessonPack:
        """The pack for `topic` (checked first: InputRefused)."""
        self._limits.text(topic, "topic")
        settings = self._settings
        found = self._retriever.search(topic, k=settings.candidates, where=filters.accepts if filters else None)
        # A case's title block (its name, institution, type) says nothing to teach from.
        ranked = [h for h in found if h.chunk.section != h.chunk.case] or found
        vectors = self._retriever.index.vectors[[self._retriever.index.row_of[h.chunk.id] for h in ranked]] if ranked else np.zeros((0, 1))
        chosen = [ranked[i] for i in choose(ranked, vectors, settings)]
        passages = tuple(Hit(rank=n, chunk=h.chunk, score=h.score) for n, h in enumerate(chosen, start=1))
        described = filters.describe() if filters else ""
        detector = ScriptDetector()
        phrases = PHRASES[detector.script(topic)]
        if not passages:
            notice = phrases.lesson_filtered_out.format(filters=described) if described else phrases.lesson_no_passages
            return LessonPack(topic, described, (), (), notice=notice)
        script = detector.script("".join(h.chunk.text for h in passages))
        terms = tuple(
            in_script(t, "traditional") if script == "hant" else t
            for t in self._retriever.matcher.key_terms(
                "\n".join(body_text(h.chunk) for h in passages), settings.terms, settings.term_method, exclude=COMMON_WORDS,
            )
        )
        if self._chat is None:
            return LessonPack(topic, described, passages, terms, notice=phrases.lesson_needs_llm)
        try:
            reply = "".join(self._chat.stream(self._prompts.lesson(topic, passages, terms, settings.questions)))
        except LlmError as exc:
            return LessonPack(topic, described, passages, terms, notice=phrases.lesson_llm_failed.format(error=exc))
        plan, cited = keep_known_markers(reply.strip(), len(passages))
        if not plan:
            notice = phrases.lesson_no_outline
        else:
            notice = "" if cited else phrases.lesson_uncited
        return LessonPack(topic, described, passages, terms, plan=plan, model=self._chat.name, notice=notice)
