"""Which sentences of the retrieved passages answer a question, and which of them to quote.

A sentence's score is its dense similarity to the question (the index's stored sentence
vectors) plus a small lexical term: the share of the question's informative words (weighted by
`TextMatcher.term_weight`) that occur in it; for Chinese questions less a small step per rank of
its passage (of two sentences that match alike, the one in the better-ranked passage answers
more often). Which to quote: those `qa.selector`'s fitted model finds likeliest to hold the
answer, with what each needs to be read. Whether the corpus answers a question is
`qa.answerability`'s calibrated models' decision. Composing the answer is left to
`qa.extractive` and `qa.assistant`.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from index.sentences import ends_as_sentence, has_cjk, sentence_spans

from .questions import FACTOID, holds_answer_kind, question_type
from .selector import QuoteModels, load_quote_models, sentence_features
from .retrieve import Hit, Retriever

_SPACE = re.compile(r"\s+")
_WORD_CHAR = re.compile(r"\w")
# Ordinal connectives that open a paragraph's lead sentence (traditional and simplified).
_LEAD = re.compile(r"首先|其次|再次|最後|最后|第[一二三四五六七八九十]+[，,、]|其[一二三四五六][，,、]|一方面|另一方面")
# A sentence opening with a pronoun or demonstrative needs the one before it to be understood.
_POINTS_BACK = re.compile(r"^[「“\"]?(?:其|該|该|這|这|此|它|他們|他们|她們|她们|他|她)")


@dataclass(frozen=True)
class EvidenceSettings:
    lexical_weight: float = 0.1
    # Subtracted per rank of the sentence's passage below the first, for Chinese questions. On
    # the calibration split's 454 answerable questions (`python -m bench calibrate`'s, none
    # reported on) 0.02 raised the quotes citing the evidence from 0.941 to 0.956 (0.03 and 0.05
    # gave the same, 0.01 0.952). Cross-language similarities are lower and closer together, and
    # no calibration question is English: for questions without Chinese characters it is 0.
    rank_step: float = 0.02
    max_quotes: int = 3
    # Quotes are chosen by `qa.selector`'s P(the sentence holds the answer): the likeliest, and
    # up to `max_quotes` - 1 more whose P is at least this share of its (the model is often
    # torn between a sentence restating the question and the one next to it that answers).
    # Chosen on the former single calibration split's 454 answerable questions and their English
    # translations: with `keep_within`, the quotes held the answer for 0.899 / 0.700 (Chinese /
    # English) at 0.8, 0.912 / 0.705 at 0.6, 0.919 / 0.705 at 0.5, quoting 78 / 83 / 92 characters
    # of Chinese; the rules before the selector: 0.859 / 0.648 at 68. Without `keep_within`, 0.6
    # is the highest share at which English questions lose nothing (0.659 against 0.648). The
    # current fit's figures for these shares: `cross_validated` in qa/data/quotes.json
    # (`python -m bench calibrate`).
    quote_share: float = 0.6
    # The likelier of the first quote's two neighbours is quoted with it when the selector finds
    # it at least this share as likely as the first: the first often restates the question and
    # the sentence next to it answers, and two sentences read together. Cross-validated on the
    # calibration corpora (`python -m bench calibrate`, "quotes" figures) the quotes held the
    # answer for 0.922 / 0.814 (Chinese / English) without it, quoting 83 / 132 characters;
    # 0.940 / 0.831 at 0.45 (92 / 140), 0.948 / 0.838 at 0.3 (102 / 148), 0.953 / 0.846 at 0.2
    # (111 / 155). 0.3 keeps a Chinese answer under two sentences on average (1.9). Lowering
    # `quote_share` instead buys far less per character quoted (0.6 -> 0.5: +0.007, +9).
    neighbour_share: float = 0.3
    keep_within: float = 0.02  # sentences scoring this close to the best are quoted too (the rule before the selector)
    lead_chars: int = 40  # a paragraph's opening "首先，…。" line up to this long is a lead, not an answer
    redundant_above: float = 0.93  # cosine between two sentences that say the same thing
    min_quote_chars: int = 6  # shorter lines (labels, "序 言") are not quoted on their own
    # When the best sentence is a label or heading, the short lines around it that are not
    # sentences (names, titles: no end punctuation) are quoted with it: up to this many on
    # each side, each at most `short_line_chars` long.
    label_context: int = 3
    short_line_chars: int = 60
    # A statement is supported by passages that contain this share of its character bigrams
    # (matching form), or a sentence this similar to it (cross-language paraphrase).
    min_overlap: float = 0.5
    min_dense_support: float = 0.88
    # An uncited statement shorter than this (word characters) is never given a citation: a
    # short reply such as "我不知道" carries no claim worth checking, and may echo a planted
    # instruction.
    min_attributed_chars: int = 10


@dataclass(frozen=True)
class Sentence:
    """A sentence of a retrieved passage; `text == document.text[start:end]`, verbatim."""

    hit: Hit
    start: int  # in the document
    end: int
    text: str
    dense: float
    lexical: float
    score: float
    quotable: bool  # not a heading, not a bare label
    vector: np.ndarray = field(compare=False, repr=False)


# A question's scored sentences by where they are, (document, start): built once per question
# for finding a quote's neighbours.
Places = dict[tuple[str, int], Sentence]


def _continues(sentence: Sentence) -> bool:
    """A clause ending in a semicolon: the sentence after it belongs to it."""
    return sentence.text.rstrip()[-1:] in "；;"


def _same_place(a: Sentence, b: Sentence) -> bool:
    """The same source sentence (perhaps scored under two overlapping passages)."""
    return a.start == b.start and a.hit.chunk.doc == b.hit.chunk.doc


class EvidenceFinder:
    """Scores the sentences of retrieved passages against a question. Settings at construction."""

    def __init__(self, retriever: Retriever, settings: EvidenceSettings = EvidenceSettings(), quote_models: QuoteModels | None = None):
        self._retriever = retriever
        self._matcher = retriever.matcher
        self.settings = settings
        self._given_quote_models = quote_models
        index = retriever.index
        self._vectors = index.sentence_vectors
        self._offsets = index.sentence_offsets

    def sentences(self, question: str, hits: Sequence[Hit], also: str | None = None) -> list[Sentence]:
        """The sentences of the hits, best first; a sentence that two overlapping passages
        share is scored once, under the better-ranked passage. With
        `also` (a follow-up as asked, when `question` is its standalone form), a sentence
        scores the better of its scores against either."""
        questions = [question] + ([also] if also and also != question else [])
        asked = [(self._retriever.question_vector(q)[0], self._question_weights(q)) for q in questions]
        step = self.settings.rank_step if has_cjk(question) else 0.0
        seen: set[tuple[str, int]] = set()
        scored: list[Sentence] = []
        for hit in hits:
            chunk = hit.chunk
            vectors = self._chunk_vectors(hit)
            headings = {part.strip() for part in chunk.section.split(" > ")}
            for (s, e), vector in zip(sentence_spans(chunk.text), vectors, strict=True):
                key = (chunk.doc, chunk.start + s)
                if key in seen:
                    continue
                seen.add(key)
                text = chunk.text[s:e]
                dense, lexical = max((self._match(text, vector, *q) for q in asked), key=self._combined)
                scored.append(Sentence(
                    hit=hit, start=chunk.start + s, end=chunk.start + e, text=text,
                    dense=dense, lexical=lexical, score=self._combined((dense, lexical)) - step * (hit.rank - 1),
                    quotable=text.strip() not in headings and len(_WORD_CHAR.findall(text)) >= self.settings.min_quote_chars
                    and not self._is_lead(chunk.text, s, e),
                    vector=vector,
                ))
        scored.sort(key=lambda sentence: -sentence.score)
        return scored

    @functools.cached_property
    def _quote_models(self) -> QuoteModels:
        """The given selectors, or the shipped ones, loaded when first quoting (scoring
        sentences, as `bench calibrate` does before the selector is fitted, needs none)."""
        return self._given_quote_models or load_quote_models()

    def _is_lead(self, text: str, start: int, end: int) -> bool:
        """A short sentence that opens its line with an ordinal connective (首先, 其次, 一方面,
        第一…) and is followed by more of the paragraph: it announces what follows, the
        sentences after it hold the substance."""
        opens_line = start == 0 or text[start - 1] == "\n"
        continues = end < len(text) and text[end] != "\n"
        return opens_line and continues and end - start <= self.settings.lead_chars and bool(_LEAD.match(text, start))

    def _match(self, text: str, vector: np.ndarray, query: np.ndarray, weights: dict[str, float]) -> tuple[float, float]:
        """(dense similarity, weighted share of the question's words found in `text`)."""
        matching = _SPACE.sub("", self._matcher.normalize(text))
        lexical = sum(w for token, w in weights.items() if token in matching) / (sum(weights.values()) or 1.0)
        return float(vector @ query), lexical

    def _combined(self, match: tuple[float, float]) -> float:
        return match[0] + self.settings.lexical_weight * match[1]

    def quotes(self, question: str, sentences: Sequence[Sentence]) -> list[Sentence]:
        """The sentences to quote: a label or heading with the short lines around it; else the
        quotable sentence most likely to hold the answer (`qa.selector`), the best-scored
        quotable one, and up to `max_quotes` in all of those nearly as likely; then a neighbour
        of the first (`_neighbour`). None repeats another; each brings what it needs to be
        read (`_in_context`); quotes of one passage in reading order."""
        s = self.settings
        if not sentences:
            return []
        places = {(x.hit.chunk.doc, x.start): x for x in sentences}
        if not sentences[0].quotable and (lines := self._lines_around(sentences[0], places)):
            return lines
        model = self._quote_models.for_question(question)
        second = self.second_cosines(question, sentences) if model.reads_second else None
        likely = model.probabilities(sentence_features(question, sentences, self._matcher, second))
        order = sorted(range(len(sentences)), key=lambda i: -likely[i])  # stable: ties keep the evidence order
        candidates = [i for i in order if sentences[i].quotable] or order[:1]
        # The best-scored sentence (what the question most resembles) is quoted too: a hedge
        # for questions unlike the DRCD ones the selector learned from (the book's English
        # "What is the title of the preface?" is answered by its short title line, which the
        # selector ranks below a long sentence of the preface).
        best = min(candidates)  # sentences come best-scored first
        chosen = [sentences[candidates[0]]]
        # Further: those nearly as likely, and those scoring nearly as well as the best (cross-
        # language scores lie close together: there the evidence score says more than the
        # selector, which learned from Chinese questions mostly).
        near = [i for i in candidates if sentences[i].score >= sentences[best].score - s.keep_within]
        for i in [best] + near + candidates[1:]:
            if len(chosen) == s.max_quotes or (i != best and i not in near and likely[i] < s.quote_share * likely[candidates[0]]):
                break
            sentence = sentences[i]
            if all(float(sentence.vector @ other.vector) < s.redundant_above and sentence.text != other.text for other in chosen):
                chosen.append(sentence)
        return self._in_context(chosen + self._neighbour(question, chosen, sentences, likely, places), places)

    def second_cosines(self, question: str, sentences: Sequence[Sentence]) -> np.ndarray:
        """The second model's cosine of each sentence with `question` (the retriever's
        `SentenceCosines`, which re-ranking has mostly read already)."""
        if self._retriever.second is None:
            raise ValueError("quoting for a question without Chinese characters needs the retriever's second model")
        return self._retriever.second.of_sentences(question, sentences)

    def _neighbour(self, question: str, chosen: list[Sentence], sentences: Sequence[Sentence], likely: np.ndarray, places: Places) -> list[Sentence]:
        """The neighbour of the first quote to quote with it, if any. For a who/when/number/
        where/which question none of whose quotes holds what it asks (a name, number, date,
        place): the likelier of the first quote's neighbours that does (a first quote ending in
        a semicolon is read with the clause after it, `_in_context`, so the sentence after that
        clause is its neighbour too). Otherwise the likelier quotable neighbour when the
        selector finds it at least `neighbour_share` as likely as the first quote."""
        asked = self._matcher.normalize(question)
        kind = question_type(asked)
        holds = lambda x: holds_answer_kind(kind, self._matcher.normalize(x.text), asked)  # noqa: E731
        likelihood = {(x.hit.chunk.doc, x.start): p for x, p in zip(sentences, likely)}
        of = lambda x: likelihood[(x.hit.chunk.doc, x.start)]  # noqa: E731
        first = chosen[0]
        around = self._neighbours(first, places)
        if kind in FACTOID and not any(holds(x) for x in chosen):
            continued = next((x for x in around if x.start > first.start), None) if _continues(first) else None
            if continued is not None:
                around += [x for x in self._neighbours(continued, places) if x.start > continued.start]
            holding = [x for x in around if holds(x) and not any(_same_place(x, c) for c in chosen)]
            if holding:
                return [max(holding, key=of)]
        around = [x for x in around if x.quotable and not any(_same_place(x, c) for c in chosen)]
        best = max(around, key=of, default=None)
        return [best] if best is not None and of(best) >= self.settings.neighbour_share * of(first) else []

    @staticmethod
    def _neighbours(sentence: Sentence, places: Places) -> list[Sentence]:
        """The sentences just after and just before `sentence` in its passage (those there are),
        as sentences of that passage: one that an overlapping, better-ranked passage shares was
        scored under that one, and is quoted here under this passage (it is verbatim in both)."""
        chunk = sentence.hit.chunk
        starts = [chunk.start + start for start, _ in sentence_spans(chunk.text)]
        at = starts.index(sentence.start)
        around = [starts[i] for i in (at + 1, at - 1) if 0 <= i < len(starts)]
        found = [x for start in around if (x := places.get((chunk.doc, start))) is not None]
        return [x if x.hit.chunk.id == chunk.id else dataclasses.replace(x, hit=sentence.hit) for x in found]

    def _in_context(self, chosen: list[Sentence], places: Places) -> list[Sentence]:
        """`chosen` with what each quote needs to be read: the sentence before one that points
        back (其/该/這…) or whose clause runs on into it (ends in a semicolon), the clause after
        one that ends in a semicolon, and the one sentence between two quotes of a passage (two
        quotes a sentence apart read as one excerpt); grouped by passage in the order of their
        best quote, each passage's quotes in reading order."""
        out = list(chosen)

        def add(sentence: Sentence | None) -> None:
            if sentence is not None and not any(_same_place(sentence, x) for x in out):
                out.append(sentence)

        for quote in chosen:
            around = self._neighbours(quote, places)
            after = next((x for x in around if x.start > quote.start), None)
            before = next((x for x in around if x.start < quote.start), None)
            if before is not None and (_POINTS_BACK.match(quote.text) or _continues(before)):
                add(before)
            if _continues(quote):
                add(after)
        for quote in list(out):
            around = self._neighbours(quote, places)
            after = next((x for x in around if x.start > quote.start), None)
            if after is not None and not any(_same_place(after, x) for x in out):
                beyond = next((x for x in self._neighbours(after, places) if x.start > after.start), None)
                if beyond is not None and any(_same_place(beyond, x) for x in out):
                    add(after)
        passages = list(dict.fromkeys(q.hit.chunk.id for q in chosen))
        return sorted(out, key=lambda q: (passages.index(q.hit.chunk.id), q.start))

    def _lines_around(self, label: Sentence, places: Places) -> list[Sentence]:
        """`label` and the short lines (not sentences) next to it in its passage, in document
        order; empty when there are none."""
        chunk = label.hit.chunk
        lines = [places.get((chunk.doc, chunk.start + start)) for start, _ in sentence_spans(chunk.text)]
        at = next(i for i, line in enumerate(lines) if line is label)
        window = self.settings.label_context
        near = [
            line for line in lines[max(0, at - window) : at + window + 1]
            if line is not None and line is not label and len(line.text) <= self.settings.short_line_chars and not ends_as_sentence(line.text)
        ]
        return sorted([label, *near], key=lambda line: line.start) if near else []

    def supports(self, statement: str, hits: Sequence[Hit]) -> bool:
        """Whether the passages of `hits` together back `statement` (an LLM's cited sentence)."""
        grams = _bigrams(self._matcher.normalize(statement))
        if len(grams) < 2:
            return True
        if not hits:
            return False
        source = set().union(*(_bigrams(self._matcher.normalize(hit.chunk.text)) for hit in hits))
        return len(grams & source) / len(grams) >= self.settings.min_overlap or self._best_dense(statement, hits)[1] >= self.settings.min_dense_support

    def best_support(self, statement: str, hits: Sequence[Hit]) -> int | None:
        """Index of the one hit that best backs `statement`, or None when none does (or the
        statement is too short to attribute)."""
        grams = _bigrams(self._matcher.normalize(statement))
        if len(_WORD_CHAR.findall(statement)) < self.settings.min_attributed_chars or not hits:
            return None
        overlaps = [len(grams & _bigrams(self._matcher.normalize(hit.chunk.text))) / len(grams) for hit in hits]
        best = max(range(len(hits)), key=overlaps.__getitem__)
        if overlaps[best] >= self.settings.min_overlap:
            return best
        best, similarity = self._best_dense(statement, hits)
        return best if similarity >= self.settings.min_dense_support else None

    def _best_dense(self, statement: str, hits: Sequence[Hit]) -> tuple[int, float]:
        """The hit holding the sentence most similar to `statement`, and that similarity."""
        query = self._retriever.question_vector(statement)[0]
        similarities = [float(np.max(self._chunk_vectors(hit) @ query, initial=-1.0)) for hit in hits]
        best = max(range(len(hits)), key=similarities.__getitem__)
        return best, similarities[best]

    def _chunk_vectors(self, hit: Hit) -> np.ndarray:
        row = self._retriever.index.row_of[hit.chunk.id]
        return self._vectors[self._offsets[row] : self._offsets[row + 1]]

    def _question_weights(self, question: str) -> dict[str, float]:
        return {token: self._matcher.term_weight(token) for token in set(self._matcher.tokens(question))}


def _bigrams(text: str) -> set[str]:
    chars = "".join(_WORD_CHAR.findall(text))
    return {chars[i : i + 2] for i in range(len(chars) - 1)}
