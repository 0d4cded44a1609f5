"""Comparable cases on labelled documents: precision@1 and @5 of "the nearest cases share the
label" for our similarity against raw mean-vector cosine, the lexical similarity alone, the
centered vectors alone, and the case model's vectors (raw, centered, mixed with the passage
vectors), with its settings calibrated by cross-validation, and each method on smaller corpora
drawn from the labelled documents.

A labelled folder holds `corpus/` (one case per file) and `labels.jsonl` (`{"doc", "label"}`
a line), like `../shared/eval/cases/`. Its index is built with the shipped ingest once, under
`var/bench/`, keyed by the folder's contents (an unchanged folder is not embedded again).
Cross-validation: the labelled cases are split into folds; for each fold the settings that
score best on the other folds' cases (asked and ranked among themselves) rank the fold's
cases among all; the held-out figures are what counts. No labels enter the similarity itself
(the neighbourhood graph is built over all documents, as the product builds it over an
index). Every document is a case here (unit "document"), as in `qa similar --batch`.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from ingest.pipeline import ingest
from qa.case_model import NAME as CASE_MODEL_NAME, CaseModel
from qa.cases import CaseLibrary, CaseSettings
from qa.retrieve import open_retriever
from qa.similarity import CaseSimilarity, SimilaritySettings

# Diffusion stops at 0.95: nearer 1 every case's ranking tends to the same corpus-wide one,
# which lost on the smaller corpora below.
GRID = tuple(
    SimilaritySettings(dense_weight=round(float(w), 1), case_model_weight=b, neighbours=k, diffusion=a)
    for b in (0.0, 0.25, 0.5, 0.75, 1.0)
    for w in np.linspace(0.0, 1.0, 11) for k in (5, 10, 15, 20) for a in (0.8, 0.9, 0.95)
)
_SETTINGS = ("case_model_weight", "dense_weight", "neighbours", "diffusion")  # a GRID key, in order
FOLDS = 5
FOLD_SEEDS = tuple(range(1, 8))  # further fold splits, to show the split's own spread
K = 5
SUBSET_SIZES = (20, 40, 80)  # smaller corpora drawn from the labelled documents
SUBSET_DRAWS = 30


class LabelsError(ValueError):
    """A labelled folder that cannot be read; the message says what is missing."""


def read_labels(folder: Path) -> dict[str, str]:
    path = folder / "labels.jsonl"
    if not path.is_file() or not (folder / "corpus").is_dir():
        raise LabelsError(f"{folder} needs corpus/ and labels.jsonl (one {{\"doc\", \"label\"}} a line)")
    labels = {}
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    row = json.loads(line)
                    labels[row["doc"]] = row["label"]
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise LabelsError(f"{path} line {number}: needs {{\"doc\", \"label\"}} ({exc})") from None
    return labels


def cases_index(folder: Path, work: Path) -> Path:
    """The folder's index under `work`, named after the folder's path and rebuilt only when
    its files or the settings changed (ingest --if-stale; unchanged passages keep their vectors)."""
    dest = work / f"cases-{hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]}"
    result = ingest([folder / "corpus"], dest, if_stale=True)
    if result.build is None and not result.up_to_date:
        raise LabelsError(f"nothing in {folder / 'corpus'} could be indexed")
    return dest


def precision(similarity: np.ndarray, labels: np.ndarray, asked: np.ndarray, among: np.ndarray, k: int = K) -> tuple[float, float]:
    """Mean precision@1 and @k of the cases `asked`, each ranked against the cases `among`
    (itself left out) by `similarity`."""
    block = similarity[np.ix_(asked, among)].astype(np.float64)
    block[asked[:, None] == among[None, :]] = -np.inf
    nearest = among[np.argsort(-block, axis=1, kind="stable")[:, :k]]
    same = labels[nearest] == labels[asked][:, None]
    return float(same[:, 0].mean()), float(same.mean())


def _figures(p1: float, p5: float) -> dict:
    return {"precision@1": round(float(p1), 4), "precision@5": round(float(p5), 4)}


def cross_validated(blends: dict[tuple[float, ...], np.ndarray], labels: np.ndarray, folds: int = FOLDS, seed: int | None = None) -> dict:
    """Held-out precision of the blend whose settings (a key of `blends`: settings → similarity
    matrix) are chosen on the other folds, and the settings chosen per fold and on all labels.
    Ties go to the settings listed first. Folds: cases in index order (a fixed, label-blind
    split), or with `seed` a seeded permutation of them."""
    n = len(labels)
    order = np.arange(n) if seed is None else np.random.default_rng(seed).permutation(n)
    fold_of = order % folds
    everyone = np.arange(n)
    held_out, chosen = np.zeros(2), []
    for fold in range(folds):
        train, test = everyone[fold_of != fold], everyone[fold_of == fold]
        best = max(blends, key=lambda w: precision(blends[w], labels, train, train)[1])
        chosen.append(best)
        held_out += len(test) * np.array(precision(blends[best], labels, test, everyone))
    on_all = max(blends, key=lambda w: precision(blends[w], labels, everyone, everyone)[1])
    by_weight = {"/".join(map(str, w)): round(precision(blends[w], labels, everyone, everyone)[1], 4) for w in blends}
    return {
        **_figures(*(held_out / n)),
        "folds": folds, "weights_chosen_per_fold": [list(w) for w in chosen], "weights_chosen_on_all_labels": list(on_all),
        "precision@5_by_weights": by_weight,
    }


def other_splits(blends: dict[tuple[float, ...], np.ndarray], labels: np.ndarray, seeds: tuple[int, ...] = FOLD_SEEDS) -> dict:
    """The cross-validated precision@5 over seeded fold splits besides the fixed one: how much
    of a difference between methods the split alone makes (a few hundred labelled cases)."""
    figures = [cross_validated(blends, labels, seed=seed)["precision@5"] for seed in seeds]
    return {"seeds": list(seeds), "precision@5": figures, "mean": round(float(np.mean(figures)), 4),
            "min": min(figures), "max": max(figures)}


def _methods(similarity: CaseSimilarity, vectors: np.ndarray, settings: SimilaritySettings) -> dict[str, np.ndarray]:
    """Each method's case × case matrix: the baselines, the blend before diffusion, ours."""
    case_model = similarity.case_vectors
    return {
        "raw_mean_vector_cosine": vectors @ vectors.T,
        "lexical_alone": similarity.lexical,
        "centered_alone": similarity.dense,
        **({
            "case_model_raw_cosine": case_model @ case_model.T,
            "case_model_centered_alone": similarity.case_dense,
            "centered_both_models": similarity.combined_dense(settings),
        } if case_model is not None else {}),
        "centered_and_lexical_without_neighbourhoods": similarity.direct(settings),
        "ours": similarity.matrix,
    }


def smaller_corpora(vectors: np.ndarray, texts: list[str], labels: np.ndarray, settings: SimilaritySettings,
                    sizes: tuple[int, ...] = SUBSET_SIZES, draws: int = SUBSET_DRAWS,
                    case_vectors: np.ndarray | None = None) -> dict:
    """Mean precision@1/@5 of each method over random subsets of the labelled documents, each
    subset a corpus of its own (mean, idf, scales and graph from it alone): users' folders are
    often this small, and a method that wins at one corpus size only shows here. Fixed seed."""
    rng = np.random.default_rng(0)
    figures = {}
    for size in (s for s in sizes if s < len(labels)):
        sums: dict[str, np.ndarray] = {}
        for _ in range(draws):
            pick = np.sort(rng.choice(len(labels), size, replace=False))
            similarity = CaseSimilarity(vectors[pick], [texts[i] for i in pick], settings,
                                        None if case_vectors is None else case_vectors[pick])
            everyone = np.arange(size)
            for name, matrix in _methods(similarity, vectors[pick], settings).items():
                sums[name] = sums.get(name, 0) + np.array(precision(matrix, labels[pick], everyone, everyone))
        figures[str(size)] = {name: _figures(*(total / draws)) for name, total in sums.items()}
    return {"draws": draws, "by_size": figures}


def case_model_cost(vectors: np.ndarray, texts: list[str], settings: SimilaritySettings) -> dict:
    """What the case model adds to building the cases' similarity, side by side in one run:
    loading it, embedding every case text, and the similarity built without it."""
    model = CaseModel()
    started = time.perf_counter()
    model.embed(["載入"])
    loaded = time.perf_counter()
    model.embed(texts)
    embedded = time.perf_counter()
    CaseSimilarity(vectors, texts, settings)
    built = time.perf_counter()
    characters = sum(map(len, texts))
    return {
        "cases": len(texts), "characters": characters,
        "load_s": round(loaded - started, 3), "embed_s": round(embedded - loaded, 3),
        "embed_ms_per_case": round(1000 * (embedded - loaded) / len(texts), 2),
        "characters_per_s": round(characters / max(embedded - loaded, 1e-9)),
        "similarity_without_case_model_s": round(built - embedded, 3),
    }


def measure_cases(folder: Path, work: Path, settings: CaseSettings = CaseSettings()) -> dict:
    """Precision@1/@5 of each method on the labelled folder, the cross-validated blend, and
    each method on smaller corpora drawn from the folder."""
    labels_by_doc = read_labels(folder)
    library = CaseLibrary(open_retriever(cases_index(folder, work)), settings)
    if library.unit != "document":
        raise LabelsError(f"{folder / 'corpus'} has case headings: each file must be one case")
    names = [n for n in library.names if Path(n).name in labels_by_doc]
    if len(names) < FOLDS * 2:
        raise LabelsError(f"only {len(names)} labelled documents in {folder}: need at least {FOLDS * 2}")
    rows = np.array([library.names.index(n) for n in names])
    labels = np.array([labels_by_doc[Path(n).name] for n in names])
    similarity = library.similarity
    vectors = np.stack([library.case(n).vector for n in library.names])
    scores = {}
    for name, matrix in _methods(similarity, vectors, settings.similarity).items():
        sub = matrix[np.ix_(rows, rows)]
        scores[name] = _figures(*precision(sub, labels, np.arange(len(rows)), np.arange(len(rows))))
    grid = GRID if similarity.case_vectors is not None else tuple(g for g in GRID if g.case_model_weight == 0)
    blends = {tuple(getattr(g, key) for key in _SETTINGS): similarity.blended(g)[np.ix_(rows, rows)] for g in grid}
    counts = {label: int((labels == label).sum()) for label in sorted(set(labels))}
    chance = sum((c / len(labels)) * (c - 1) / (len(labels) - 1) for c in counts.values())
    return {
        "folder": str(folder),
        "cases": len(names),
        "labels": counts,
        "chance_precision": round(chance, 4),
        "case_model": CASE_MODEL_NAME if similarity.case_vectors is not None else None,
        "settings_order": list(_SETTINGS),
        "shipped_weights": [getattr(settings.similarity, key) for key in _SETTINGS],
        "methods": scores,
        "ours_cross_validated": cross_validated(blends, labels),
        "ours_cross_validated_other_splits": other_splits(blends, labels),
        "case_model_cost": case_model_cost(vectors[rows], [library.case(n).text for n in names], settings.similarity),
        "smaller_corpora": smaller_corpora(
            vectors[rows], [library.case(n).text for n in names], labels, settings.similarity,
            case_vectors=None if similarity.case_vectors is None else similarity.case_vectors[rows]),
    }
