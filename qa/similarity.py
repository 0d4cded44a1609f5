"""Case-to-case similarity that discriminates, as pure numbers: no index, no names.

Mean vectors of texts from one domain all sit in a narrow cone (e5 cosines of any two Chinese
finance cases lie a few hundredths apart), so the raw cosine ranks by noise. Here:
- dense: case vectors minus the corpus's mean case vector, renormalized, then cosine;
- lexical: TF-IDF (scikit-learn) over the characters and character pairs of the case's
  matching text (sublinear tf, idf from the corpus's own cases), cosine;
- each standardized over the corpus's own pairs of distinct cases (z-scores, so one weight
  means the same on any corpus) and blended `w·dense + (1-w)·lexical`;
- then, from that blend, how alike the two cases' neighbourhoods are (the cosine of their
  centered rows of blended similarities to every case: two cases near the same cases are
  alike even where their own texts share little), mixed in with weight `v`;
- scores people read: the percentile of a pair's final score among all pairs of distinct
  cases in the corpus (0–100).
Whitening, or removing the top principal components, lowered precision on the labelled
documents (`bench/cases.py`): centering alone is kept.
The weights are settings; `bench/cases.py` calibrates them on labelled documents with
cross-validation. Which texts and vectors make up a case is `qa/cases.py`'s business.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer


@dataclass(frozen=True)
class SimilaritySettings:
    # Weights chosen by `python -m bench --parts cases` on 239 labelled documents (its figures
    # are cross-validated: weights chosen on four fifths, scored on the fifth left out).
    dense_weight: float = 0.7  # centered vectors against the lexical similarity (both z-scored)
    neighbour_weight: float = 0.5  # shared neighbourhoods against the direct blend

    def __post_init__(self):
        for name in ("dense_weight", "neighbour_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], not {getattr(self, name)}")


def normalized(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64)
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)


def _off_diagonal(matrix: np.ndarray) -> np.ndarray:
    return matrix[~np.eye(len(matrix), dtype=bool)]


@dataclass(frozen=True)
class _Scale:
    """Mean and spread of one similarity over the corpus's pairs of distinct cases."""

    mean: float
    sd: float

    @classmethod
    def of(cls, matrix: np.ndarray) -> _Scale:
        pairs = _off_diagonal(matrix)
        if pairs.size < 2:
            return cls(0.0, 1.0)
        return cls(float(pairs.mean()), float(pairs.std()) or 1.0)

    def z(self, values: np.ndarray) -> np.ndarray:
        return (values - self.mean) / self.sd


@dataclass(frozen=True)
class _Combined:
    direct_scale: _Scale
    profiles: np.ndarray  # centered, normalized rows of the direct blend, one per case
    profile_mean: np.ndarray
    neighbour_scale: _Scale
    matrix: np.ndarray  # the final case × case similarity


class CaseSimilarity:
    """Similarities among n cases given their mean vectors (n × dim) and matching texts, and
    of any new vector + text against them. Built once per corpus."""

    def __init__(self, vectors: np.ndarray, texts: list[str], settings: SimilaritySettings = SimilaritySettings()):
        if len(vectors) != len(texts) or not len(texts):
            raise ValueError("need one vector per text, and at least one case")
        self.settings = settings
        self.mean = np.asarray(vectors, dtype=np.float64).mean(axis=0)
        self.centered = self.center(vectors)
        self._tfidf = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, lowercase=False)
        self._terms = self._tfidf.fit_transform(texts)
        self.dense = self.centered @ self.centered.T
        self.lexical = (self._terms @ self._terms.T).toarray()
        self._dense_scale, self._lexical_scale = _Scale.of(self.dense), _Scale.of(self.lexical)
        self._combined = self._combine(settings)
        self.matrix = self._combined.matrix
        self._pairs = np.sort(_off_diagonal(self.matrix))

    def center(self, vectors: np.ndarray) -> np.ndarray:
        """Vectors minus the corpus's mean case vector, renormalized."""
        return normalized(np.atleast_2d(vectors) - self.mean)

    def _direct_blend(self, dense: np.ndarray, lexical: np.ndarray, settings: SimilaritySettings) -> np.ndarray:
        w = settings.dense_weight
        return w * self._dense_scale.z(dense) + (1 - w) * self._lexical_scale.z(lexical)

    def _combine(self, settings: SimilaritySettings) -> _Combined:
        """The final matrix from the direct blend and the cases' neighbourhood profiles (their
        rows of the blend, a case's own entry set to its best other: a new text has no self)."""
        direct = self._direct_blend(self.dense, self.lexical, settings)
        rows = direct.copy()
        if len(rows) > 1:
            others = np.where(np.eye(len(rows), dtype=bool), -np.inf, rows)
            np.fill_diagonal(rows, others.max(axis=1))
        profile_mean = rows.mean(axis=0)
        profiles = normalized(rows - profile_mean)
        neighbours = profiles @ profiles.T
        direct_scale, neighbour_scale = _Scale.of(direct), _Scale.of(neighbours)
        v = settings.neighbour_weight
        matrix = (1 - v) * direct_scale.z(direct) + v * neighbour_scale.z(neighbours)
        return _Combined(direct_scale, profiles, profile_mean, neighbour_scale, matrix)

    def blended(self, settings: SimilaritySettings) -> np.ndarray:
        """The case × case matrix with other weights (what calibration compares)."""
        return self._combine(settings).matrix

    def against(self, vector: np.ndarray, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(final, dense, lexical) similarities of a new vector + text to every case."""
        dense = self.center(vector)[0] @ self.centered.T
        lexical = (self._tfidf.transform([text]) @ self._terms.T).toarray()[0]
        direct = self._direct_blend(dense, lexical, self.settings)
        c = self._combined
        neighbours = normalized(direct - c.profile_mean) @ c.profiles.T
        v = self.settings.neighbour_weight
        return (1 - v) * c.direct_scale.z(direct) + v * c.neighbour_scale.z(neighbours), dense, lexical

    def percentile(self, score: float | np.ndarray) -> np.ndarray:
        """0–100: the share of pairs of distinct cases in the corpus whose blended score is
        lower (100 with a single case, where there is no pair to compare with)."""
        if not self._pairs.size:
            return np.full(np.shape(score), 100.0)
        return 100.0 * np.searchsorted(self._pairs, score, side="left") / self._pairs.size

    def projection(self) -> np.ndarray:
        """2-D coordinates of the cases: their centered vectors on the first two principal
        axes (zeros where the corpus has fewer dimensions of spread)."""
        spread = self.centered - self.centered.mean(axis=0)
        _, _, axes = np.linalg.svd(spread, full_matrices=False)
        points = spread @ axes[:2].T
        return np.pad(points, ((0, 0), (0, 2 - points.shape[1])))
