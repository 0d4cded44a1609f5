"""Cases as units: which cases an index holds, which are alike and why, and a side-by-side
comparison with one cited passage per cell.

A case is a detected case section (案例一 …: unit "section") when the index has any, or else
a whole document (unit "document": a folder of one case per file). Its vector is the
normalized mean of its chunk vectors, its text the matching form of its passages without
headings (both derived when the library is built, nothing stored). How alike two cases are
is `qa.similarity`'s (centered vectors of the passages and of a second, case-level model
(`qa.case_model`, fed the case texts when the similarity is first needed) blended with a
lexical similarity, diffused over the cases' neighbourhood graph, read as a percentile of the
corpus's own pairs); this module
explains it: shared tags, shared jieba.analyse TF-IDF terms and the best matching passage
pairs. Section roles (background / approach / results) come from the section headings
(`ingest.structure`). Retrieval is the retriever's job; formatting for people is the CLI's,
the app's and `qa.case_export`'s.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Sequence

import numpy as np

from index.records import Chunk
from ingest.structure import SECTION_NAMES, section_role
from ingest.tags import Tagger

from .case_model import CaseModel
from .display import in_script
from .filters import fold, tag_values
from .language import ScriptDetector
from .limits import Limits
from .retrieve import Hit, Retriever
from .similarity import CaseSimilarity, SimilaritySettings, normalized

ROLES = ("background", "approach", "results")
ROLE_LABELS = {"background": "創新背景 background", "approach": "實施路徑 approach", "results": "應用成效 results"}
_TAG_KINDS = ("theme:", "scenario:", "institution_type:")  # what cases share; institution names never do
# Words every case uses (headings, statement labels): never a reason two cases are alike.
COMMON_WORDS = tuple(SECTION_NAMES) + ("案例", "機構", "機構類型", "機構名稱", "單位")


class CaseError(Exception):
    """Base for case problems the user can fix; the message says what to do."""


class UnknownCase(CaseError):
    pass


UNITS = ("section", "document")  # what one case is: a detected case section, or a whole document


@dataclass(frozen=True)
class CaseSettings:
    similarity: SimilaritySettings = SimilaritySettings()
    terms: int = 20  # TF-IDF terms kept per case (shown as shared terms)
    pairs: int = 2  # best matching passage pairs shown per similar case


@dataclass(frozen=True, eq=False)
class Case:
    name: str
    rows: tuple[int, ...]  # its chunks' rows in the index, in document order
    vector: np.ndarray = field(repr=False)
    tags: frozenset[str]
    terms: frozenset[str]
    text: str = field(repr=False)  # its passages without headings, in matching form
    theme: str | None = None  # the theme most of its passages carry (the map's colour)
    institution_type: str | None = None

    @property
    def keywords(self) -> frozenset[str]:
        return self.tags | self.terms

    def values(self, kind: str) -> list[str]:
        """The values of its tags of `kind` (theme, institution_type …), sorted."""
        return sorted(tag[len(kind) + 1:] for tag in self.tags if tag.startswith(kind + ":"))


@dataclass(frozen=True)
class PassagePair:
    """A passage of the similar case (`theirs`) and the one it best matches (`mine`: of the
    case asked about; None when the query was a text)."""

    theirs: Chunk
    score: float
    mine: Chunk | None = None

    def to_json(self) -> dict:
        return {
            "score": round(self.score, 6),
            "this": Hit(rank=1, chunk=self.mine, score=self.score).to_json() if self.mine else None,
            "that": Hit(rank=1, chunk=self.theirs, score=self.score).to_json(),
        }


@dataclass(frozen=True)
class SimilarCase:
    rank: int
    case: str
    score: float  # 0–100: percentile of the blend among the corpus's pairs of distinct cases
    blend: float  # the final standardized similarity the ranking follows (after diffusion)
    vector_score: float  # cosine of the centered case vectors
    case_model_score: float | None  # cosine of the case model's centered vectors (None without one)
    keyword_score: float  # lexical (TF-IDF) cosine of the case texts
    shared_tags: tuple[str, ...]
    shared_terms: tuple[str, ...]  # in the script of the similar case
    pairs: tuple[PassagePair, ...]

    def to_json(self) -> dict:
        return {
            "rank": self.rank, "case": self.case, "score": round(self.score, 1), "blend": round(self.blend, 6),
            "vector_score": round(self.vector_score, 6),
            "case_model_score": None if self.case_model_score is None else round(self.case_model_score, 6),
            "keyword_score": round(self.keyword_score, 6),
            "shared_tags": list(self.shared_tags), "shared_terms": list(self.shared_terms),
            "pairs": [p.to_json() for p in self.pairs],
        }


@dataclass(frozen=True)
class Comparison:
    """Rows (background, approach, results) × the compared cases: one passage per cell, or
    None where a case has no section in that role."""

    cases: tuple[str, ...]
    cells: tuple[tuple[str, tuple[Chunk | None, ...]], ...]

    def to_json(self) -> dict:
        return {
            "cases": list(self.cases),
            "rows": [
                {"role": role, "cells": [Hit(rank=1, chunk=c, score=0.0).to_json() if c else None for c in chunks]}
                for role, chunks in self.cells
            ],
        }


def body_text(chunk: Chunk) -> str:
    """The chunk's text without its case title and section headings (every case has them)."""
    text = chunk.text
    for heading in filter(None, chunk.section.split(" > ")):
        text = text.replace(heading, "")
    return text


def _most_common(chunks: Sequence[Chunk], key: str) -> str | None:
    """The value of `key` tags (theme, institution_type …) most of `chunks` carry; ties: the
    first in sorted order."""
    counts = Counter(v for c in chunks for v in tag_values(c, key))
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


def _role(chunk: Chunk) -> str | None:
    return section_role(chunk.section.split(" > ")[-1]) if chunk.section else None


class CaseLibrary:
    """The cases of one index. Built once per retriever (vectors, texts and terms derived
    then; the similarity among them when first needed). `case_model`: the case-level model
    (default: `qa.case_model.CaseModel()`, used when the settings give it weight)."""

    def __init__(self, retriever: Retriever, settings: CaseSettings = CaseSettings(), limits: Limits = Limits(),
                 case_model: CaseModel | None = None):
        self._retriever = retriever
        self._case_model = case_model or CaseModel()
        self._limits = limits
        self._settings = settings
        self._tagger = Tagger(retriever.matcher.normalize)  # themes and scenarios of a free text
        self._detector = ScriptDetector()
        index, matcher = retriever.index, retriever.matcher
        self.unit = "section" if any(chunk.case for chunk in index.chunks) else "document"
        rows_by_case: dict[str, list[int]] = {}
        for row, chunk in enumerate(index.chunks):
            name = chunk.case if self.unit == "section" else chunk.doc
            if name:
                rows_by_case.setdefault(name, []).append(row)
        self._cases: dict[str, Case] = {}
        for name, rows in rows_by_case.items():
            chunks = [index.chunks[r] for r in rows]
            body = "\n".join(map(body_text, chunks))
            self._cases[name] = Case(
                name=name, rows=tuple(rows), vector=normalized(index.vectors[rows].mean(axis=0)),
                tags=frozenset(t for c in chunks for t in c.tags if t.startswith(_TAG_KINDS)),
                terms=frozenset(matcher.key_terms(body, settings.terms, exclude=COMMON_WORDS)),
                text=matcher.normalize(body),
                theme=_most_common(chunks, "theme"), institution_type=_most_common(chunks, "institution_type"),
            )
        self._listed = list(self._cases.values())  # row i of the similarity matrices
        self._order = {case.name: i for i, case in enumerate(self._listed)}

    @property
    def _uses_case_model(self) -> bool:
        return self._settings.similarity.case_model_weight > 0

    @cached_property
    def similarity(self) -> CaseSimilarity:
        """The cases' similarity (a comparison alone never needs it, nor the case model)."""
        texts = [c.text for c in self._listed]
        return CaseSimilarity(np.stack([c.vector for c in self._listed]), texts, self._settings.similarity,
                              case_vectors=self._case_model.embed(texts) if self._uses_case_model else None)

    @property
    def names(self) -> list[str]:
        return list(self._cases)

    def case(self, name: str) -> Case:
        return self._cases[self.resolve(name)]

    def resolve(self, name: str) -> str:
        """The case `name` designates: its exact name, its label (案例一), or a part of its name
        that only one case contains, in either script; a document-case also by its file name
        without folders. Raises UnknownCase."""
        wanted = fold(name)
        folded = {fold(n): n for n in self._cases}
        if wanted in folded:
            return folded[wanted]
        by_file = [n for f, n in folded.items() if self.unit == "document" and f.rsplit("/", 1)[-1] == wanted]
        labelled = by_file or [n for f, n in folded.items() if f.startswith(wanted + " ")]
        found = labelled or [n for f, n in folded.items() if wanted and wanted in f]
        if len(found) == 1:
            return found[0]
        listed = "; ".join((found or self.names)[:8])
        problem = f"{len(found)} cases match {name!r}" if found else f"no case matches {name!r}"
        raise UnknownCase(f"{problem}; cases: {listed}")

    def _body_rows(self, case: Case, accepts: Callable[[Chunk], bool] | None) -> list[int]:
        """The case's passages worth pairing: not its bare title block (when it has more), and
        only those the filters accept."""
        chunks = self._retriever.index.chunks
        rows = [r for r in case.rows if chunks[r].section != case.name] or list(case.rows)
        return [r for r in rows if accepts is None or accepts(chunks[r])]

    def percentiles(self) -> np.ndarray:
        """Case × case similarity as 0–100 (rows and columns in `names` order)."""
        return self.similarity.percentile(self.similarity.matrix)

    def similar(self, case: str | None = None, text: str | None = None, k: int = 3, where: Callable[[Chunk], bool] | None = None) -> list[SimilarCase]:
        """The k cases most like `case` (a name `resolve` accepts) or like `text`, best first;
        with `where`, only cases with passages it accepts, paired through those passages.
        Raises UnknownCase or InputRefused (`text`)."""
        if (case is None) == (text is None):
            raise ValueError("give exactly one of a case and a text")
        if text is not None:
            self._limits.text(text, "text")
        matcher, similarity = self._retriever.matcher, self.similarity
        if case is not None:
            source = self.case(case)
            row = self._order[source.name]
            vector, keywords, mine = source.vector, source.keywords, self._body_rows(source, None)
            blend, dense, lexical = similarity.matrix[row], similarity.dense[row], similarity.lexical[row]
            case_dense = None if similarity.case_dense is None else similarity.case_dense[row]
        else:
            source = None
            vector = self._retriever.question_vector(text)[0]
            tags = frozenset(self._tagger.keyword_tags(text))
            keywords, mine = frozenset(matcher.key_terms(text, self._settings.terms, exclude=COMMON_WORDS)) | tags, []
            matching = matcher.normalize(text)
            case_vector = self._case_model.embed([matching])[0] if self._uses_case_model else None
            blend, dense, case_dense, lexical = similarity.against(vector, matching, case_vector)
        results = []
        for i in np.argsort(-blend, kind="stable"):
            other = self._listed[i]
            if source is not None and other.name == source.name:
                continue
            theirs = self._body_rows(other, where)
            if theirs:
                results.append((int(i), other, theirs))
            if len(results) == k:
                break
        return [
            SimilarCase(
                rank=rank, case=other.name, score=float(similarity.percentile(blend[i])), blend=float(blend[i]),
                vector_score=float(dense[i]), keyword_score=float(lexical[i]),
                case_model_score=None if case_dense is None else float(case_dense[i]),
                shared_tags=tuple(sorted(keywords & other.tags)),
                shared_terms=tuple(self._as_written(sorted((keywords & other.terms) - other.tags), other.name)),
                pairs=self._pairs(mine, theirs, vector),
            )
            for rank, (i, other, theirs) in enumerate(results, start=1)
        ]

    def _as_written(self, terms: list[str], like: str) -> list[str]:
        """Terms (matching form, simplified) in the script `like` is written in."""
        return [in_script(t, "traditional") for t in terms] if self._detector.script(like) == "hant" else terms

    def _pairs(self, mine: Sequence[int], theirs: Sequence[int], vector: np.ndarray) -> tuple[PassagePair, ...]:
        """The best matching passage pairs, each passage used once (or, for a text, the
        passages of the other case closest to it)."""
        index = self._retriever.index
        n = self._settings.pairs
        if not mine:
            scores = index.vectors[list(theirs)] @ vector
            return tuple(PassagePair(index.chunks[theirs[i]], float(scores[i])) for i in np.argsort(-scores, kind="stable")[:n])
        matrix = index.vectors[list(mine)] @ index.vectors[list(theirs)].T
        pairs, used_mine, used_theirs = [], set(), set()
        for flat in np.argsort(-matrix, axis=None, kind="stable"):
            i, j = divmod(int(flat), matrix.shape[1])
            if i in used_mine or j in used_theirs:
                continue
            used_mine.add(i)
            used_theirs.add(j)
            pairs.append(PassagePair(index.chunks[theirs[j]], float(matrix[i, j]), mine=index.chunks[mine[i]]))
            if len(pairs) == n:
                break
        return tuple(pairs)

    def compare(self, names: Sequence[str], where: Callable[[Chunk], bool] | None = None) -> Comparison:
        """Two or three cases side by side: for each role, the passage of each case in a
        section of that role that is closest to what the compared cases say there together;
        with `where`, only passages it accepts fill a cell."""
        resolved = tuple(dict.fromkeys(self.resolve(n) for n in names))
        if not 2 <= len(resolved) <= 3:
            raise UnknownCase(f"compare two or three different cases (got {len(resolved)})")
        index = self._retriever.index
        by_role = {
            role: [
                [r for r in self._cases[name].rows if _role(index.chunks[r]) == role and (where is None or where(index.chunks[r]))]
                for name in resolved
            ]
            for role in ROLES
        }
        cells = []
        for role, per_case in by_role.items():
            rows = [r for case_rows in per_case for r in case_rows]
            if not rows:
                continue
            centre = index.vectors[rows].mean(axis=0)
            cells.append((role, tuple(
                index.chunks[max(case_rows, key=lambda r: float(index.vectors[r] @ centre))] if case_rows else None
                for case_rows in per_case
            )))
        return Comparison(cases=resolved, cells=tuple(cells))

