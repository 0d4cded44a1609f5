"""Case-to-case similarity that discriminates, as pure numbers: no index, no names.

Mean vectors of texts from one domain all sit in a narrow cone (e5 cosines of any two Chinese
finance cases lie a few hundredths apart), so the raw cosine ranks by noise. Here:
- dense: case vectors minus the corpus's mean case vector, renormalized, then cosine; with a
  second, case-level model's vectors of the whole case texts (`qa.case_model`), the same for
  them, and the two cosines mixed `(1-b)·z(passage vectors) + b·z(case model)` (b =
  `case_model_weight`) and standardized again: two independent models err apart, and their
  mix ranked same-category documents nearer than either alone;
- lexical: TF-IDF (scikit-learn) over the characters and character pairs of the case's
  matching text (sublinear tf, idf from the corpus's own cases), cosine;
- each standardized over the corpus's own pairs of distinct cases (z-scores, so one weight
  means the same on any corpus) and blended `w·dense + (1-w)·lexical` (the direct blend);
- then diffused over the cases' neighbourhood graph (manifold ranking, Zhou et al. 2004, as
  Iscen et al. 2017 use it for similar-item retrieval): each case is linked to its `neighbours`
  nearest cases under the direct blend (weight exp(blend), links made symmetric), and the
  similarity of two cases is how much of one's mass reaches the other through the graph,
  `F = (I - α·D^-½ W D^-½)^-1` with α = `diffusion`, read as the normalized kernel
  `F_ij / sqrt(F_ii·F_jj)` (unnormalized, the few cases with the most links come out near
  everything, and on small corpora a text about one case ranked it under them). Two cases in
  the same dense region are alike even where their own texts share little; a pair that is
  close only by chance, with no common neighbours, weakens. A new text joins the graph the same way (its own links, the cases'
  degrees unchanged) and gets the same formula a case gets for the others;
- scores people read: the percentile of a pair's final score among all pairs of distinct
  cases in the corpus (0–100).
On the labelled documents (`bench/cases.py`) whitening, shrunk whitening, removing the top
principal components, hubness corrections (CSLS, mutual proximity), a spectral embedding of the
graph, k-reciprocal re-ranking, query expansion of the vectors (αQE/DBA), rank fusion (RRF) of
the dense and lexical rankings, jieba-word instead of character TF-IDF, chunk-level max-sim,
and the cosine of the cases' rows of similarities (the previous neighbourhood term) all did no
better or worse than this: they are not used. Nor, re-measured on the pooled passage vectors
(docs/cases.md, "Comparable cases"), did flatter link weights, a larger α, per-query standardization,
separately diffused views, ensembles over settings, sentence-level pooling or matching, the case
text or its key terms embedded once more, or other term weightings (BM25, background IDF, LSA).
The weights are settings; `bench/cases.py` calibrates them on labelled documents with
cross-validation. Which texts and vectors make up a case is `qa/cases.py`'s business.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer


@dataclass(frozen=True)
class SimilaritySettings:
    # Calibrated by `python -m bench --parts cases` on 239 labelled documents, whose reported
    # figure is cross-validated (settings chosen on four fifths, scored on the fifth left out).
    # With the case model these are what all 239 at once choose, and what most folds choose
    # (case-model weight 0.5 three times, 0.75 twice; dense weight 0.8 four times). Without it
    # (case_model_weight 0) the passage vectors and wording alone chose dense weight 0.7.
    dense_weight: float = 0.8  # centered vectors against the lexical similarity (both z-scored)
    case_model_weight: float = 0.5  # share of the case model's centered cosine in the dense part (0: passage vectors only)
    neighbours: int = 10  # each case's links in the graph the similarity diffuses over
    diffusion: float = 0.95  # share of similarity passed on at each step through the graph

    def __post_init__(self):
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError(f"dense_weight must lie in [0, 1], not {self.dense_weight}")
        if not 0.0 <= self.case_model_weight <= 1.0:
            raise ValueError(f"case_model_weight must lie in [0, 1], not {self.case_model_weight}")
        if not 0.0 < self.diffusion < 1.0:
            raise ValueError(f"diffusion must lie strictly between 0 and 1, not {self.diffusion}")
        if self.neighbours < 1:
            raise ValueError(f"neighbours must be at least 1, not {self.neighbours}")


def normalized(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64)
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)


def _off_diagonal(matrix: np.ndarray) -> np.ndarray:
    return matrix[~np.eye(len(matrix), dtype=bool)]


def _centered(vectors: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Vectors minus a corpus's mean vector, renormalized."""
    return normalized(np.atleast_2d(vectors) - mean)


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


def _nearest(rows: np.ndarray, k: int) -> np.ndarray:
    """Mask of the k largest entries of each row (ties: the first)."""
    mask = np.zeros(rows.shape, dtype=bool)
    if k:
        top = np.argsort(-rows, axis=-1, kind="stable")[..., :k]
        np.put_along_axis(mask, top, True, axis=-1)
    return mask


def _link_weights(direct: np.ndarray, links: np.ndarray, shift: float) -> np.ndarray:
    """exp(direct blend) on the links, 0 elsewhere; shifted so the corpus's largest is 1 (the
    graph's normalization cancels the shift), capped so a new text far above every pair of the
    corpus still gets finite weights."""
    return np.where(links, np.exp(np.minimum(np.where(links, direct, shift) - shift, 700.0)), 0.0)


def _inverse_root(degrees: np.ndarray) -> np.ndarray:
    """D^-½, 0 for a case without links (a corpus of one)."""
    return np.divide(1.0, np.sqrt(degrees), out=np.zeros_like(degrees, dtype=np.float64), where=degrees > 0)


@dataclass(frozen=True)
class _Diffused:
    shift: float  # the largest direct blend between distinct cases: exp() of links stays finite
    inverse_root: np.ndarray  # D^-½: each case's summed link weights, to the power -½
    spread: np.ndarray  # F = (I - α·D^-½ W D^-½)^-1
    scale: _Scale
    matrix: np.ndarray  # the final case × case similarity


class CaseSimilarity:
    """Similarities among n cases given their mean vectors (n × dim), matching texts and,
    optionally, the case model's vectors of those texts (n × dim'), and of any new vector +
    text (+ case-model vector) against them. Built once per corpus."""

    def __init__(self, vectors: np.ndarray, texts: list[str], settings: SimilaritySettings = SimilaritySettings(),
                 case_vectors: np.ndarray | None = None):
        if len(vectors) != len(texts) or not len(texts):
            raise ValueError("need one vector per text, and at least one case")
        if case_vectors is not None and len(case_vectors) != len(texts):
            raise ValueError("need one case-model vector per text")
        self.settings = settings
        self.mean = np.asarray(vectors, dtype=np.float64).mean(axis=0)
        self.centered = self.center(vectors)
        self._tfidf = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, lowercase=False)
        self._terms = self._tfidf.fit_transform(texts)
        self.dense = self.centered @ self.centered.T
        self.lexical = (self._terms @ self._terms.T).toarray()
        self._dense_scale, self._lexical_scale = _Scale.of(self.dense), _Scale.of(self.lexical)
        self.case_vectors = None if case_vectors is None else normalized(case_vectors)
        if self.case_vectors is not None:
            self.case_mean = self.case_vectors.mean(axis=0)
            self.case_centered = _centered(self.case_vectors, self.case_mean)
            self.case_dense = self.case_centered @ self.case_centered.T
            self._case_scale = _Scale.of(self.case_dense)
        else:
            self.case_dense = None
        self._mixed_scales: dict[float, _Scale] = {}
        self._diffused = self._diffuse(settings)
        self.matrix = self._diffused.matrix
        self._pairs = np.sort(_off_diagonal(self.matrix))

    def center(self, vectors: np.ndarray) -> np.ndarray:
        """Vectors minus the corpus's mean case vector, renormalized."""
        return _centered(vectors, self.mean)

    def _mix(self, dense: np.ndarray, case_dense: np.ndarray | None, settings: SimilaritySettings) -> np.ndarray:
        """z(passage vectors' centered cosine), mixed with z(case model's) where there is one."""
        b = settings.case_model_weight if self.case_dense is not None else 0.0
        mixed = (1 - b) * self._dense_scale.z(dense)
        return mixed + b * self._case_scale.z(case_dense) if b else mixed

    def _mixed_scale(self, settings: SimilaritySettings) -> _Scale:
        """The z-scale of the corpus's mixed dense similarity: it depends on the case-model weight
        alone, so it is computed once per weight, not per question or per grid setting."""
        b = settings.case_model_weight if self.case_dense is not None else 0.0
        if b not in self._mixed_scales:
            self._mixed_scales[b] = _Scale.of(self._mix(self.dense, self.case_dense, settings))
        return self._mixed_scales[b]

    def combined_dense(self, settings: SimilaritySettings) -> np.ndarray:
        """The case × case dense similarity the blend uses under `settings`, standardized
        over the corpus's pairs (the centered cosine's z-score without a case model)."""
        return self._mixed_scale(settings).z(self._mix(self.dense, self.case_dense, settings))

    def _direct_blend(self, dense: np.ndarray, case_dense: np.ndarray | None, lexical: np.ndarray,
                      settings: SimilaritySettings) -> np.ndarray:
        w = settings.dense_weight
        return w * self._mixed_scale(settings).z(self._mix(dense, case_dense, settings)) + (1 - w) * self._lexical_scale.z(lexical)

    def direct(self, settings: SimilaritySettings) -> np.ndarray:
        """The case × case direct blend (before diffusion) under `settings`."""
        return self._direct_blend(self.dense, self.case_dense, self.lexical, settings)

    def _diffuse(self, settings: SimilaritySettings) -> _Diffused:
        direct = self.direct(settings)
        n = len(direct)
        others = np.where(np.eye(n, dtype=bool), -np.inf, direct)
        links = _nearest(others, min(settings.neighbours, n - 1))
        links |= links.T
        shift = float(others.max()) if n > 1 else 0.0
        weights = _link_weights(direct, links, shift)
        inverse_root = _inverse_root(weights.sum(axis=1))
        spread = np.linalg.inv(np.eye(n) - settings.diffusion * inverse_root[:, None] * weights * inverse_root[None, :])
        own = np.sqrt(np.diag(spread))
        kernel = spread / np.outer(own, own)
        scale = _Scale.of(kernel)
        return _Diffused(shift, inverse_root, spread, scale, scale.z(kernel))

    def blended(self, settings: SimilaritySettings) -> np.ndarray:
        """The final case × case matrix under other settings (what calibration compares)."""
        return self._diffuse(settings).matrix

    def against(self, vector: np.ndarray, text: str, case_vector: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        """(final, dense, case-model dense or None, lexical) similarities of a new vector +
        text (+ the case model's vector of the text, needed when the cases have theirs) to
        every case: linked to its nearest cases like a case is (the cases' own links left as
        they are), then the formula F gives a case for the others, F_ij = α·(D^-½ W D^-½ F)_ij
        and F_ii = 1 + α²·(D^-½ W D^-½ F D^-½ W D^-½)_ii, normalized the same way."""
        if (case_vector is None) != (self.case_vectors is None):
            raise ValueError("give a case-model vector exactly when the cases have them")
        dense = self.center(vector)[0] @ self.centered.T
        case_dense = None
        if case_vector is not None:
            case_dense = _centered(normalized(np.atleast_2d(case_vector)), self.case_mean)[0] @ self.case_centered.T
        lexical = (self._tfidf.transform([text]) @ self._terms.T).toarray()[0]
        direct = self._direct_blend(dense, case_dense, lexical, self.settings)
        d, alpha = self._diffused, self.settings.diffusion
        weights = _link_weights(direct, _nearest(direct, min(self.settings.neighbours, len(direct))), d.shift)
        edges = weights * _inverse_root(np.array(weights.sum())) * d.inverse_root
        reached = alpha * edges @ d.spread
        own = 1.0 + alpha * reached @ edges
        return d.scale.z(reached / np.sqrt(own * np.diag(d.spread))), dense, case_dense, lexical

    def percentile(self, score: float | np.ndarray) -> np.ndarray:
        """0–100: the share of pairs of distinct cases in the corpus whose final score is
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
