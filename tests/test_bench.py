"""The benchmark's scoring and synthetic indexes, at tiny sizes (the full run is `make bench`)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from bench.integrity import measure_checks
from bench.peers import PeerRetriever, PeerSettings, chatchat_split, langchain_default_split
from bench.quality import load_scorer, score_hits
from bench.synthetic import synthetic_index
from index.store import build_index, open_index
from ingest.chunker import ChunkSettings, chunk_document
from ingest.loaders import discover, load_document
from qa.retrieve import Retriever, top_rows

from .conftest import REPO, SYNTHETIC_TRADITIONAL

SCORE_PY = REPO.parent / "shared" / "eval" / "score.py"


@pytest.mark.skipif(not SCORE_PY.exists(), reason="the shared scorer is not beside this checkout")
def test_scoring_equals_score_py_on_a_hand_made_case(tmp_path):
    questions = [
        {"id": "a", "question": "甲", "evidence": ["農村地區的小微企業"]},
        {"id": "b", "question": "乙", "evidence": ["累計發放貸款十二億元"]},
        {"id": "c", "question": "丙", "evidence": ["不存在的句子內容"]},
        {"id": "d", "question": "丁", "evidence": []},
    ]
    hits = {
        "甲": ["農村地區的 小微企業長期面臨融資難", "別的"],
        "乙": ["別的", "無關", "平臺上線一年，累計發放貸款十二億元"],
        "丙": ["無關"],
        "丁": ["無關"],
    }
    figures, misses = score_hits(load_scorer(SCORE_PY), questions, hits)
    (tmp_path / "q.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    rows = [{"question": q, "hits": [{"text": t} for t in texts]} for q, texts in hits.items()]
    (tmp_path / "h.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    done = subprocess.run([sys.executable, str(SCORE_PY), "search", str(tmp_path / "q.jsonl"), str(tmp_path / "h.jsonl")], capture_output=True, text=True)
    reference = json.loads(done.stdout.strip().splitlines()[-1])
    assert {k: figures[k] for k in ("recall@1", "recall@5", "mrr@10")} == {k: round(reference[k], 4) for k in ("recall@1", "recall@5", "mrr@10")}
    assert figures["recall@1"] == pytest.approx(1 / 3, abs=1e-4) and figures["mrr@10"] == pytest.approx(4 / 9, abs=1e-4)
    assert figures["avg_hit_chars"] == pytest.approx(44 / 7, abs=0.05)  # the top five of each question
    assert misses == ["c"]


def test_char_accuracy_is_one_minus_the_character_error_rate():
    from bench.ocr import char_accuracy

    assert char_accuracy("數字金融創新", "數字金融創新") == 1.0
    assert char_accuracy("數字金融創新", "数字金融新") == pytest.approx(1 - 2 / 6)  # one substitution, one deletion
    assert char_accuracy("數字", "") == 0.0


def test_top_rows_equals_a_stable_argsort_of_positive_scores():
    rng = np.random.default_rng(1)
    for _ in range(200):
        scores = rng.integers(0, 4, rng.integers(1, 40)).astype(float)
        n = int(rng.integers(1, 12))
        expected = [r for r in np.argsort(-scores, kind="stable")[:n] if scores[r] > 0]
        assert list(top_rows(scores, n)) == expected


def test_peer_splitters_cover_the_text():
    text = SYNTHETIC_TRADITIONAL * 8
    assert all(len(p) <= 1000 for p in langchain_default_split(text))
    pieces = chatchat_split(text)
    assert all(len(p) <= 250 for p in pieces) and all(p in text for p in pieces)
    assert max(len(p) for p in pieces) > 100  # pieces are merged up to the size, not one per clause


def test_peer_retriever_fuses_bm25_and_dense(fake_embedder):
    pieces = [("a.txt", "農村小微企業貸款"), ("b.txt", "碳賬戶與綠色債券"), ("b.txt", "養老金融服務")]
    peer = PeerRetriever(pieces, (fake_embedder, fake_embedder), PeerSettings(bm25_weight=0.5, dense_weight=0.5), tokenize=list)
    assert peer.search("綠色債券", 2)[0] == {"doc": "b.txt", "text": "碳賬戶與綠色債券"}


def test_peer_vectors_are_cached_by_content(fake_embedder, tmp_path):
    pieces = [("a.txt", "農村小微企業貸款"), ("b.txt", "碳賬戶與綠色債券")]
    first = PeerRetriever(pieces, (fake_embedder, fake_embedder), cache=tmp_path)
    assert len(list(tmp_path.glob("*.npy"))) == 1
    again = PeerRetriever(pieces, (fake_embedder, fake_embedder), cache=tmp_path)
    PeerRetriever(pieces[:1], (fake_embedder, fake_embedder), cache=tmp_path)
    assert len(list(tmp_path.glob("*.npy"))) == 2  # other texts, other vectors
    assert again.search("綠色債券", 1) == first.search("綠色債券", 1)


def test_synthetic_index_is_cached_opens_and_answers(synthetic_corpus, tmp_path, fake_embedder, matcher):
    documents = [load_document(root, f) for root, f in discover([synthetic_corpus])]
    chunks = [c for d in documents for c in chunk_document(d, ChunkSettings())]
    build_index(documents, chunks, fake_embedder, matcher, ChunkSettings().to_json(), tmp_path / "real", {})
    real = open_index(tmp_path / "real", fake_embedder.name, matcher)
    dest = tmp_path / "synthetic"
    assert synthetic_index(real, matcher, 300, dest) is True
    assert synthetic_index(real, matcher, 300, dest) is False  # cached
    big = open_index(dest, fake_embedder.name, matcher)
    assert len(big.chunks) == 300 and big.dense.ntotal == 300
    assert len(big.sentence_offsets) == 301 and big.sentence_dense.ntotal == big.sentence_offsets[-1]
    assert np.allclose(np.linalg.norm(big.vectors, axis=1), 1.0, atol=1e-5)
    assert big.chunks[: len(chunks)] == real.chunks
    assert all("synthetic" in c.text for c in big.chunks[len(chunks):])
    hits = Retriever(big, fake_embedder, matcher).search("農村小微企業的貸款審批", k=5)
    rows = json.loads(json.dumps([h.to_json() for h in hits], ensure_ascii=False))  # the `qa search --json` hits
    assert len(rows) == 5 and [r["chunk_id"] for r in rows] == [h.chunk.id for h in hits]
    assert all(r["text"] == h.chunk.text and r["rank"] == h.rank for r, h in zip(rows, hits, strict=True))
    checks = measure_checks(dest, matcher, repeats=1)
    assert (checks["chunks"], checks["files"]) == (300, len(big.manifest["files"]))
    assert checks["open_s"] > 0 and checks["open_verified_s"] > 0 and checks["index_mb"] > 0


@pytest.mark.slow
@pytest.mark.skipif(not SCORE_PY.exists(), reason="the shared dev set is not beside this checkout")
def test_bench_runs_end_to_end_at_a_tiny_size(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--json", "--parts", "retrieval,ocr", "--sizes", "100", "--repeats", "1", "--ingest-repeats", "1", "--load-sessions", "2",
         "--limits-repeats", "1", "--api-users", "3", "--api-seconds", "2", "--ingest-configs", "shipped,st-late", "--drcd-files", "2",
         "--work", str(tmp_path / "work"), "--report", str(tmp_path / "report.md")],
        cwd=REPO, capture_output=True, text=True, timeout=850,  # under pytest's 900 s; minutes under heavy load
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(results["quality"]) == {"ours", "bm25", "dense", "langchain_default", "chatchat_style"}
    assert all(set(q) == {"recall@1", "recall@5", "mrr@10", "avg_hit_chars"} for q in results["quality"].values())
    speed = results["speed"]
    assert set(speed["search_p50_ms"]) == set(speed["search_p95_ms"]) == {"100"}
    assert speed["ingest_passages_per_s"] > 0 and speed["query_embed_p50_ms"] > 0 and speed["rss_mb"] > 0
    assert speed["app_first_render_s"] > 0
    ingest = speed["ingest"]["corpora"]
    assert set(ingest) == {"corpus", "drcd-2"} and all(set(rows) == {"shipped", "st-late"} for rows in ingest.values())
    shipped, late = ingest["drcd-2"]["shipped"], ingest["drcd-2"]["st-late"]
    assert shipped["files"] == late["files"] == 2 and shipped["passages"] == late["passages"]
    # late chunking: about one text per passage; shipped embeds every sentence on its own
    assert late["passages"] <= late["texts_embedded"] < shipped["texts_embedded"]
    assert all(0 <= row[k] <= 1 for row in (shipped, late) for k in ("mrr@10", "cited_evidence", "answer_has_text"))
    assert results["machine"]["device"] == "cpu" and results["machine"]["usable_cpus"] >= 1
    assert results["integrity"]["chunks"] == 100 and results["integrity"]["open_verified_s"] > 0
    load = results["load"]
    assert load["answers"] == 10 and load["errors"] == load["invalid_citations"] == [] and load["answer_p95_s"] >= load["answer_p50_s"] > 0
    ocr = results["ocr"]
    assert set(ocr["accuracy"]) == {f"{source}_{setup}" for source in ("corpus", "drcd") for setup in ("28px", "20px", "2col_28px")}
    assert all(0 < row["char_accuracy_nfkc"] <= 1 and row["s_per_page"] > 0 for row in ocr["accuracy"].values())
    assert ocr["retrieval"]["questions"] > 0 and set(ocr["goals"]) == {"char_accuracy_clean_traditional", "ocr_mrr_gap", "s_per_page"}
    limits, api = results["limits"], results["api"]
    assert limits["max_length_ask_p50_ms"] > 0 and limits["refusal_of_100k_chars_p50_ms"] is not None
    assert api["one_user"]["requests"] > 0 and api["concurrent"]["users"] == 3 and api["concurrent"]["errors"] == 0
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## Goals" in report and "## Many users at once" in report and "## HTTP API under load" in report
    assert "## Question limits" in report and "## Index self-checks" in report and "## OCR" in report
    assert "## Ingest: configurations side by side" in report
