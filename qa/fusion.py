"""Fusion of rankings: small pure functions over ranked or scored lists.

`rrf` fuses ranked lists by rank alone (the Chatchat-style peer of `bench.peers` uses it);
`score_fusion` fuses the scores themselves, each scaled to [0, 1] over the candidates, which
keeps how far apart the candidates are (`qa.retrieve` ranks by it)."""
from __future__ import annotations

from typing import Hashable, Sequence

import numpy as np


def rrf(rankings: Sequence[Sequence[Hashable]], weights: Sequence[float] | None = None, k: int = 60) -> list[tuple[Hashable, float]]:
    """Fuse ranked lists (best first) into one: score(x) = Σ weight / (k + rank), rank from 1.
    A ranking of weight 0 is left out (its items don't enter the result). Ties keep the order
    in which items were first seen, so the result is deterministic."""
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"rrf got {len(rankings)} rankings but {len(weights)} weights")
    scores: dict[Hashable, float] = {}
    for ranking, weight in zip(rankings, weights):
        if weight == 0:
            continue
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda pair: (-pair[1], order[pair[0]]))


def scaled(scores: np.ndarray, floor: float | None = None) -> np.ndarray:
    """`scores` mapped linearly onto [0, 1]: the highest to 1, `floor` (default: the lowest)
    to 0. A floor says what a score means on its own: BM25's 0 is "no word in common", whereas
    the lowest cosine among candidates is merely the least similar of them. All equal: zeros."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return scores
    low = scores.min() if floor is None else floor
    span = scores.max() - low
    return (scores - low) / span if span > 0 else np.zeros_like(scores)


def score_fusion(items: Sequence[Hashable], signals: Sequence[np.ndarray], weights: Sequence[float]) -> list[tuple[Hashable, float]]:
    """Rank `items` by Σ weight · signal, each signal one score per item already scaled to
    [0, 1] (see `scaled`), best first; ties keep the order of `items`."""
    if len(signals) != len(weights):
        raise ValueError(f"score_fusion got {len(signals)} signals but {len(weights)} weights")
    if any(len(s) != len(items) for s in signals):
        raise ValueError(f"score_fusion needs one score per item ({len(items)}) in every signal")
    total = np.zeros(len(items))
    for signal, weight in zip(signals, weights):
        total += weight * np.asarray(signal, dtype=np.float64)
    order = np.argsort(-total, kind="stable")
    return [(items[i], float(total[i])) for i in order]
