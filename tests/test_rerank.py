"""Re-ranking with the second model (qa/rerank.py): the pure re-ranking on hand-made scores, the
per-passage cache with a counting fake model, and when the retriever asks for it (the real
model's test is in test_rerank_model.py; its figures are `python -m bench ranking`)."""
from __future__ import annotations

import numpy as np
import pytest

from index.store import open_index
from qa.rerank import SentenceCosines, rerank
from qa.retrieve import RetrievalSettings, Retriever, fuse

from .conftest import FakeEmbedder
from .test_store import _build


def test_rerank_reorders_the_first_rows_by_the_weighted_scaled_scores():
    fused = [(7, 0.9), (3, 0.8), (5, 0.7), (1, 0.6), (2, 0.5)]
    dense, bm25 = np.array([0.9, 0.8, 0.7]), np.array([2.0, 0.0, 1.0])
    second = np.array([0.1, 0.2, 0.6])  # the second model prefers row 5, then row 3
    assert [r for r, _ in rerank(fused, dense, bm25, second, (1.0, 0.0, 0.0))][:3] == [7, 3, 5]
    out = rerank(fused, dense, bm25, second, (0.35, 0.05, 0.6))
    assert [r for r, _ in out] == [5, 7, 3, 1, 2]
    assert out[0][1] == pytest.approx(0.35 * 0.0 + 0.05 * 0.5 + 0.6 * 1.0)
    assert out[1][1] == pytest.approx(0.35 * 1.0 + 0.05 * 1.0 + 0.0)
    # the rows after the re-ranked ones keep their order, and no score rises along the ranking
    assert [s for _, s in out] == sorted((s for _, s in out), reverse=True)
    assert out[3][1] == out[4][1] == pytest.approx(min(s for _, s in out[:3]))


def test_rerank_of_nothing_or_of_mismatched_scores():
    fused = [(1, 0.9), (2, 0.4)]
    empty = np.zeros(0)
    assert rerank(fused, empty, empty, empty, (0.35, 0.05, 0.6)) == fused
    with pytest.raises(ValueError, match="one dense, BM25 and second-model score"):
        rerank(fused, np.ones(2), np.ones(1), np.ones(2), (0.35, 0.05, 0.6))
    with pytest.raises(ValueError, match="one dense, BM25 and second-model score"):
        rerank(fused, np.ones(3), np.ones(3), np.ones(3), (0.35, 0.05, 0.6))


def test_settings_of_the_second_model_are_checked():
    with pytest.raises(ValueError, match="second_model_top must be at least 0"):
        RetrievalSettings(second_model_top=-1)
    with pytest.raises(ValueError, match="second_model_weights must be three weights"):
        RetrievalSettings(second_model_weights=(0.5, 0.5))
    with pytest.raises(ValueError, match="second_model_weights must be three weights"):
        RetrievalSettings(second_model_weights=(0.5, -0.1, 0.6))


class CountingModel:
    """The case model's `embed` with the fake bigram vectors, counting the texts it is given."""

    def __init__(self):
        self._fake = FakeEmbedder()
        self.texts: list[str] = []

    def embed(self, texts):
        self.texts += texts
        return self._fake.embed(list(texts), "passage")


@pytest.fixture
def index(synthetic_corpus, tmp_path, fake_embedder, matcher):
    _build(synthetic_corpus, tmp_path / "idx", fake_embedder, matcher)
    return open_index(tmp_path / "idx", fake_embedder.name, matcher)


def test_sentence_cosines_read_each_passage_once_and_keep_the_last_used(index, matcher):
    model = CountingModel()
    cosines = SentenceCosines(index, matcher, model, passages=2)
    sentences = np.diff(index.sentence_offsets)
    assert len(index.chunks) >= 3 and (sentences[:3] > 0).all()
    first = cosines.best("green loans", [0, 1])
    read = len(model.texts)
    assert read == 1 + sentences[0] + sentences[1]  # the question and each passage's sentences
    assert np.allclose(cosines.best("green loans", [1, 0]), first[::-1]) and len(model.texts) == read  # all cached
    cosines.best("green loans", [2])  # passage 1, used least recently, makes room
    assert len(model.texts) == read + sentences[2]
    cosines.best("green loans", [0])
    assert len(model.texts) == read + sentences[2]
    cosines.best("green loans", [1])
    assert len(model.texts) == read + sentences[2] + sentences[1]
    with pytest.raises(ValueError, match="passages must be at least 1"):
        SentenceCosines(index, matcher, model, passages=0)


def test_best_is_the_highest_cosine_with_one_of_the_passage_sentences(index, matcher):
    model = CountingModel()
    best = SentenceCosines(index, matcher, model).best("某某", [0])[0]
    *sentences, question = model.texts  # the passages' sentences, then the question
    assert question == matcher.normalize("某某") and len(sentences) == np.diff(index.sentence_offsets)[0]
    assert best == pytest.approx(float((model.embed(sentences) @ model.embed([question])[0]).max()))


def test_the_retriever_re_ranks_only_questions_without_chinese_characters(index, matcher, fake_embedder):
    plain = Retriever(index, fake_embedder, matcher)
    second = Retriever(index, fake_embedder, matcher, second_model=CountingModel())
    settings = plain.settings
    for question in ("農村小微企業貸款審批需要多久？", "rural loans 審批"):
        assert [h.chunk for h in second.search(question, k=5)] == [h.chunk for h in plain.search(question, k=5)]
    assert not second.second.model.texts  # never asked for a Chinese question

    question = "How long does approval of rural small business loans take?"
    signals = second.signals(question)
    fused = fuse(signals, settings.share(question), settings.whole_chunk_weight)
    top = np.array([r for r, _ in fused[: settings.second_model_top]])
    at = np.searchsorted(signals.rows, top)
    w = settings.whole_chunk_weight
    dense = w * signals.chunk_cosine[at] + (1 - w) * signals.sentence_cosine[at]
    expected = rerank(fused, dense, signals.bm25[at], second.second.best(question, top), settings.second_model_weights)
    assert [h.chunk for h in second.search(question, k=5)] == [index.chunks[r] for r, _ in expected[:5]]
    assert [h.chunk for h in second.search(question, k=5)] != [h.chunk for h in plain.search(question, k=5)]
    off = Retriever(index, fake_embedder, matcher, RetrievalSettings(second_model_top=0), second_model=CountingModel())
    assert [h.chunk for h in off.search(question, k=5)] == [h.chunk for h in plain.search(question, k=5)]


def test_bench_ranking_re_ranks_as_the_retriever_does(index, matcher, fake_embedder):
    from bench.ranking import TOPS, cases, english_cases, measure_english, weight_grid

    grid = weight_grid()
    assert len(grid) == 210 and all(abs(sum(w) - 1) < 1e-9 and w[2] > 0 and min(w) >= 0 for w in grid)
    retriever = Retriever(index, fake_embedder, matcher, second_model=CountingModel())
    chunks = index.chunks
    questions = [
        {"question": q, "doc": chunks[row].doc, "evidence": [chunks[row].text[:8]]}
        for q, row in (("How long does loan approval take?", 0), ("green bonds and carbon accounts", len(chunks) - 1),
                       ("rural small business credit", 1), ("What did the bank build?", 2))
    ]
    english = english_cases(retriever, cases(retriever, questions, lambda text, evidence: evidence in text))
    settings = retriever.settings
    for e, q in zip(english, questions):
        assert len(e.second) == min(max(TOPS), len(e.fused))
        shipped = retriever.hits(e.ranking(settings.second_model_top, settings.second_model_weights), 5)
        assert [h.chunk for h in shipped] == [h.chunk for h in retriever.search(q["question"], k=5)]
    result = measure_english(retriever, english, folds=2)
    assert result["variants"][0]["variant"].startswith("shipped fusion, no second model")
    assert len(result["variants"]) == len(TOPS) + 2 and len(result["picks"]) == 2
    assert 0 <= result["cross-validated over N and weights"] <= 1


def test_each_sentence_gets_the_second_models_cosine_and_the_best_is_their_max(index, matcher, fake_embedder):
    """`of_sentences` (read by the English quote selector) gives every scored sentence
    its own cosine, from the vectors re-ranking read: `best` is their maximum per passage."""
    from qa.evidence import EvidenceFinder

    model = CountingModel()
    retriever = Retriever(index, fake_embedder, matcher, second_model=model)
    question = "How long does approval of rural small business loans take?"
    hits = retriever.search(question, k=3)
    sentences = EvidenceFinder(retriever).sentences(question, hits)
    read = len(model.texts)  # re-ranking read these passages already: nothing more is embedded
    cosines = retriever.second.of_sentences(question, sentences)
    assert len(model.texts) == read and cosines.shape == (len(sentences),)
    q = model.embed([matcher.normalize(question)])[0]
    assert cosines == pytest.approx([float(model.embed([matcher.normalize(s.text)])[0] @ q) for s in sentences], abs=1e-5)
    rows = {c.id: r for r, c in enumerate(index.chunks)}
    best = retriever.second.best(question, [rows[h.chunk.id] for h in hits])
    for hit, top in zip(hits, best):
        assert top == pytest.approx(max(c for s, c in zip(sentences, cosines) if s.hit is hit), abs=1e-5) or any(
            s.hit is not hit and s.hit.chunk.doc == hit.chunk.doc for s in sentences)  # a sentence shared with a better passage is scored there
