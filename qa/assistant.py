"""The assistant: a question (and its conversation) in, a cited answer out.

Owns the order of things: check the question and cap the history (`qa.limits`; InputRefused
before any work), make a follow-up standalone (unless the corpus answers only the question as
asked), retrieve, decide whether the corpus answers (a follow-up: from the conversation's
documents), then compose — quotes
offline, or an LLM answer that is checked afterwards and replaced by quotes (with a notice)
whenever the LLM fails. `stream` yields the text as it comes and the final `Answer` last; `ask`
returns only the `Answer`; `search` the checked question's passages.

    for event in assistant.stream(question, history):
        if isinstance(event, TextDelta): ...   # append event.text
        elif isinstance(event, Restart): ...   # clear the text, show event.notice
        else: answer = event                   # final: show answer.text (checked) and answer.citations
"""
from __future__ import annotations

import copy
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Collection, Iterator, Mapping, Sequence

from index.records import Chunk

from . import extractive, verify
from .answer import Answer, Citation, Restart, TextDelta, Turn
from .answerability import Answerability, features, load_answerability
from .chat import ChatModel, LlmError, LlmSettings
from .evidence import EvidenceFinder, EvidenceSettings, Sentence
from .facts import FactCheck
from .filters import Filters
from .followup import FollowupRule
from .language import PHRASES, Script, ScriptDetector
from .limits import Limits
from .prompts import Prompts
from .retrieve import Hit, Retriever, open_retriever
from .selector import QuoteModels, load_quote_models

Event = TextDelta | Restart | Answer


@dataclass(frozen=True)
class AssistantSettings:
    passages: int = 5  # retrieved per question; the LLM's numbered sources
    max_sentences: int = 5  # asked of the LLM
    max_standalone_chars: int = 300  # a longer LLM rewrite of a follow-up is not trusted
    nearest_on_refusal: int = 3  # passages a refusal shows as the closest (`Answer.nearest`)


@dataclass(frozen=True)
class Reading:
    """One reading of a question (as asked, or made standalone): its passages, their scored
    sentences, and whether the corpus answers it."""

    question: str
    hits: list[Hit]
    sentences: list[Sentence]
    answered: bool


def _in_documents(documents: Collection[str], accepts: Callable[[Chunk], bool] | None, chunk: Chunk) -> bool:
    return chunk.doc in documents and (accepts is None or accepts(chunk))


class Assistant:
    """Answers questions over one index. Settings and the optional chat model at construction."""

    def __init__(
        self,
        retriever: Retriever,
        chat: ChatModel | None = None,
        settings: AssistantSettings = AssistantSettings(),
        evidence: EvidenceSettings = EvidenceSettings(),
        prompts: Prompts | None = None,
        followups: FollowupRule = FollowupRule(),
        limits: Limits = Limits(),
        answerability: Answerability | None = None,
        quote_models: QuoteModels | None = None,
    ):
        self.retriever = retriever
        self.chat = chat
        self.limits = limits
        self._settings = settings
        self._evidence = EvidenceFinder(retriever, evidence, quote_models or load_quote_models())
        self._facts = FactCheck(retriever.matcher)
        self._prompts = prompts or Prompts()
        self._followups = followups
        self._detector = ScriptDetector()
        self._answerability = answerability or load_answerability()

    def for_session(self, chat: ChatModel | None, settings: AssistantSettings) -> Assistant:
        """This assistant with another chat model and settings, sharing what is built per
        index (evidence maps, prompts, checks): cheap, for one question of one app session."""
        session = copy.copy(self)
        session.chat, session._settings = chat, settings
        return session

    def ask(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Answer:
        for event in self.stream(question, history, filters):
            if isinstance(event, Answer):
                return event
        raise AssertionError("stream ended without an Answer")

    def search(self, question: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        """The k passages best matching `question` (checked first: InputRefused)."""
        return self.retriever.search(self.limits.text(question), k=k, where=filters.accepts if filters else None)

    def stream(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Iterator[Event]:
        self.limits.text(question)
        history = self.limits.history(history)
        script = self._detector.script(question)
        documents = self.conversation_documents(question, history, filters)
        reading = self.reading(self.standalone(question, history), question, filters, documents)
        if reading.question != question and not reading.answered:
            # The follow-up rule reads some fresh questions as follow-ups (这本书… points back
            # by its words) and carries the last topic into them. When the corpus does not answer
            # the rewrite but answers the question as asked, the question as asked is meant. (A
            # likelier reading is not enough: "它的不良率呢？" as asked may find another bank's,
            # so it is searched in the conversation's documents only.)
            as_asked = self.reading(question, question, filters, documents)
            reading = as_asked if as_asked.answered else reading
        standalone, hits, sentences = reading.question, reading.hits, reading.sentences
        extra = {"standalone_question": standalone if standalone != question else ""}
        if not reading.answered:
            answer = extractive.refuse(question, script, nearest=tuple(hits[: self._settings.nearest_on_refusal]), **extra)
            yield TextDelta(answer.text)
            yield answer
            return
        quotes = self._evidence.quotes(standalone, sentences)
        if self.chat is None:
            answer = extractive.compose(question, script, quotes, self._detector, **extra)
            yield TextDelta(answer.text)
            yield answer
            return
        yield from self._llm_answer(question, standalone, script, hits, quotes, extra)

    def reading(self, standalone: str, question: str, filters: Filters | None = None, documents: Collection[str] | None = None) -> Reading:
        """`standalone` (`question` made standalone, or itself) retrieved from the passages the
        filters accept and scored, and whether the corpus answers it: the calibrated model for
        its script. For a follow-up, `documents` (`conversation_documents`): a rewrite carries
        the topic, so it is searched everywhere and its best sentence must come from them; the
        question as asked has lost its topic, so it is searched in them only."""
        accepts = filters.accepts if filters else None
        if documents is not None and standalone == question:
            accepts = functools.partial(_in_documents, documents, accepts)
        hits = self.retriever.search(standalone, k=self._settings.passages, where=accepts)
        sentences = self._evidence.sentences(standalone, hits, also=question)
        model = self._answerability.model_for(standalone)
        answered = (
            bool(sentences) and (documents is None or sentences[0].hit.chunk.doc in documents)
            and model.probability(features(standalone, sentences, self.retriever)) >= model.threshold
        )
        return Reading(standalone, hits, sentences, answered)

    def conversation_documents(self, question: str, history: Sequence[Turn], filters: Filters | None = None) -> frozenset[str] | None:
        """For a follow-up (as the offline rule judges it, whoever rewrites it), the documents
        the conversation's last question (made standalone by the rule) is answered from, its
        quotes' documents: the follow-up is answered from them only (`reading`). After a
        question about one bank, "它的不良率呢？" is not answered with another bank's rate; in a
        one-document book this never bites. None for a question on its own."""
        previous = self._rule_standalones(history)
        if not previous or not self._followups.is_followup(question, self.retriever.matcher):
            return None
        hits = self.retriever.search(previous[-1], k=self._settings.passages, where=filters.accepts if filters else None)
        quotes = self._evidence.quotes(previous[-1], self._evidence.sentences(previous[-1], hits))
        return frozenset(s.hit.chunk.doc for s in quotes)

    def _rule_standalones(self, history: Sequence[Turn]) -> list[str]:
        """The earlier questions as the offline rule makes them standalone, oldest first."""
        previous: list[str] = []
        for turn in history:
            previous.append(self._followups.standalone(turn.question, previous, self.retriever.matcher))
        return previous

    def standalone(self, question: str, history: Sequence[Turn]) -> str:
        """The question as it would be asked on its own, given the conversation so far."""
        if not history:
            return question
        if self.chat is not None:
            try:
                rewritten = "".join(self.chat.stream(self._prompts.condense(question, history))).strip()
            except LlmError:
                rewritten = ""
            # A rewrite on one line, not merely repeating an earlier question, is trusted.
            earlier = {turn.question.strip() for turn in history}
            if rewritten and len(rewritten) <= self._settings.max_standalone_chars and "\n" not in rewritten and rewritten not in earlier:
                return rewritten
        return self._followups.standalone(question, self._rule_standalones(history), self.retriever.matcher)

    def _llm_answer(self, question: str, standalone: str, script: Script, hits: list[Hit], quotes: list[Sentence], extra: dict) -> Iterator[Event]:
        phrases = PHRASES[script]
        prompt = self._prompts.answer(standalone, hits, self._settings.max_sentences)
        pieces: list[str] = []
        try:
            for piece in self.chat.stream(prompt):
                pieces.append(piece)
                yield TextDelta(piece)
        except LlmError:
            yield from self._fall_back(question, script, quotes, phrases.llm_failed, extra)
            return
        checked = verify.check("".join(pieces), hits, self._evidence.supports, self._evidence.best_support, phrases.unsupported, self._facts.agrees)
        if not checked.cited:
            yield from self._fall_back(question, script, quotes, phrases.llm_uncited, extra)
            return
        yield Answer(
            question=question, found=True, text=checked.text, mode="llm",
            citations=tuple(Citation(n=n, hit=hits[n - 1]) for n in sorted(checked.cited)),
            flagged=checked.flagged, **extra,
        )

    def _fall_back(self, question: str, script: Script, quotes: list[Sentence], notice: str, extra: dict) -> Iterator[Event]:
        yield Restart(notice)
        answer = extractive.compose(question, script, quotes, self._detector, notice=notice, **extra)
        yield TextDelta(answer.text)
        yield answer


def open_assistant(index_dir: Path | None = None, env: Mapping[str, str] = os.environ, use_llm: bool = True) -> Assistant:
    """The assistant over `index_dir` (default $INDEX_DIR or var/index), with the LLM that
    LLM_BASE_URL / LLM_MODEL / LLM_API_KEY configure, if any (and `use_llm`), and the limits
    of `Limits.from_env`. Raises IndexUnavailable, EmbedderError, LlmConfigError or
    LimitsConfigError with a message for the user."""
    limits = Limits.from_env(env)
    settings = LlmSettings.from_env(env) if use_llm else None
    chat = None
    if settings is not None:
        from .llm import OpenAIChat  # LangChain loads only when an LLM is configured

        chat = OpenAIChat(settings)
    return Assistant(open_retriever(index_dir), chat, limits=limits)
