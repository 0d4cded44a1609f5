"""The hybrid retriever's fusion: hand-made scores, and the retriever over the SYNTHETIC corpus
with the fake embedder (the real model's figures are `python -m bench ranking` / `quality`)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from index.store import open_index
from qa.retrieve import RetrievalSettings, Retriever, Signals, fuse

from .test_store import _build


def _signals(chunk, sentence, bm25) -> Signals:
    return Signals(rows=np.arange(len(bm25)), chunk_cosine=np.array(chunk), sentence_cosine=np.array(sentence), bm25=np.array(bm25, dtype=float))


def test_fuse_mixes_scaled_scores_by_the_dense_share():
    # row 0: the best dense, no word in common; row 1: close on dense, the best BM25; row 2: neither
    signals = _signals([0.82, 0.80, 0.70], [0.90, 0.88, 0.72], [0.0, 6.0, 3.0])
    assert [row for row, _ in fuse(signals, 1.0, 0.5)] == [0, 1, 2]
    assert [row for row, _ in fuse(signals, 0.0, 0.5)] == [1, 2, 0]
    fused = dict(fuse(signals, 0.65, 0.5))
    assert max(fused, key=fused.get) == 1  # nearly the best dense and the best BM25
    assert fused[1] == pytest.approx(0.65 * (0.84 - 0.71) / (0.86 - 0.71) + 0.35)
    assert fused[2] == pytest.approx(0.35 * 0.5)  # dense is scaled from the lowest candidate, BM25 from 0


def test_whole_chunk_weight_mixes_chunk_and_best_sentence():
    signals = _signals([0.9, 0.7], [0.7, 0.95], [0.0, 0.0])
    assert fuse(signals, 1.0, 1.0)[0][0] == 0
    assert fuse(signals, 1.0, 0.0)[0][0] == 1


def test_settings_are_checked():
    with pytest.raises(ValueError, match="dense_share must lie in"):
        RetrievalSettings(dense_share=1.5)
    with pytest.raises(ValueError, match="candidates must be at least 1"):
        RetrievalSettings(candidates=0)
    settings = RetrievalSettings()
    assert settings.share("綠色信貸怎麼審批？") == settings.dense_share
    assert settings.share("How are green loans approved?") == settings.dense_share_cross_language


@pytest.fixture
def retriever(synthetic_corpus, tmp_path, fake_embedder, matcher) -> Retriever:
    _build(synthetic_corpus, tmp_path / "idx", fake_embedder, matcher)
    return Retriever(open_index(tmp_path / "idx", fake_embedder.name, matcher), fake_embedder, matcher)


QUESTION = "農村小微企業貸款審批需要多久？"


def test_search_ranks_by_the_fused_scores(retriever):
    signals = retriever.signals(QUESTION)
    assert list(signals.rows) == sorted(set(signals.rows)) and len(signals.rows) > 0
    hits = retriever.search(QUESTION, k=3)
    expected = fuse(signals, retriever.settings.dense_share, retriever.settings.whole_chunk_weight)[:3]
    assert [retriever.index.chunks.index(h.chunk) for h in hits] == [row for row, _ in expected]
    assert [h.score for h in hits] == pytest.approx([score for _, score in expected])
    assert all(0.0 <= h.score <= 1.0 for h in hits)


def test_a_ranker_without_a_share_is_not_run(retriever):
    bm25_only = retriever.signals(QUESTION, share=0.0)
    assert not bm25_only.chunk_cosine.any() and not bm25_only.sentence_cosine.any()
    assert (bm25_only.bm25 > 0).all()  # its candidates are BM25's matches only
    dense_only = retriever.signals(QUESTION, share=1.0)
    assert not dense_only.bm25.any() and dense_only.sentence_cosine.any()
    only = Retriever(retriever.index, retriever.embedder, retriever.matcher, dataclasses.replace(retriever.settings, dense_share=0.0))
    assert [h.chunk for h in only.search(QUESTION, k=3)] == [retriever.index.chunks[r] for r, _ in fuse(bm25_only, 0.0, 0.5)[:3]]


def test_filtered_search_ranks_only_the_accepted_chunks(retriever):
    first_doc = retriever.index.chunks[0].doc
    rows = retriever.rows(lambda c: c.doc == first_doc)
    assert set(retriever.signals(QUESTION, rows).rows) <= set(rows)
    assert all(h.chunk.doc == first_doc for h in retriever.search(QUESTION, k=10, where=lambda c: c.doc == first_doc))
