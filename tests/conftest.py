"""Shared fixtures: a tiny synthetic Chinese corpus and a deterministic fake embedder.

The corpus below is SYNTHETIC, written for these tests; it is not content from the book.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from index.records import Document
from index.text import TextMatcher

REPO = Path(__file__).resolve().parent.parent
SHARED_CORPUS = REPO / "corpus"

# SYNTHETIC test text (traditional script, like the book), three sections.
SYNTHETIC_TRADITIONAL = """案例一 某農商銀行的數字普惠金融實踐（合成測試文本）
一、創新背景
農村地區的小微企業長期面臨融資難、融資貴的問題。傳統信貸依賴抵押物，審批流程長達兩周。
二、實施路徑
該行搭建了線上信貸平臺，整合稅務、社保和水電數據，建立信用評估模型。客戶通過手機銀行提交申請，系統在三分鐘內完成審批。
三、應用成效
平臺上線一年，累計發放貸款十二億元，服務農戶八千余戶，不良率控制在百分之一以內。
"""

SYNTHETIC_SIMPLIFIED_GREEN = """案例二 某证券公司的碳账户平台（合成测试文本）
一、创新背景
企业碳排放数据分散在不同系统中，难以核算。
二、实施路径
公司利用区块链记录能耗数据，为每家企业建立碳账户，并据此提供绿色债券承销服务。
"""


class FakeEmbedder:
    """Deterministic bag-of-character-bigrams embedder for fast unit tests. Texts sharing
    characters get similar vectors; it knows nothing else."""

    name = "fake-bigram"
    dim = 64
    engine = "bigram hashing"

    def __init__(self):
        self.calls = 0
        self.embedded = 0

    def embed(self, texts, kind):
        self.calls += 1
        self.embedded += len(texts)
        return self._vectors(texts)

    def embed_spans(self, texts, spans, kind="passage"):
        """Late chunking's shape (one pass per text, a vector per span); a span's vector is
        its own text's."""
        self.calls += 1
        self.embedded += len(texts)
        return self._vectors(texts), [list(self._vectors([t[s:e] for s, e in sp])) for t, sp in zip(texts, spans)]

    def _vectors(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for a, b in zip(text, text[1:] + " "):
                bucket = int.from_bytes(hashlib.md5((a + b).encode()).digest()[:4], "little") % self.dim
                out[row, bucket] += 1.0
            out[row] /= max(np.linalg.norm(out[row]), 1e-12)
        return out


@pytest.fixture(scope="session")
def matcher() -> TextMatcher:
    return TextMatcher()


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def synthetic_corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "case1_synthetic.txt").write_text(SYNTHETIC_TRADITIONAL, encoding="utf-8")
    (folder / "case2_synthetic.txt").write_text(SYNTHETIC_SIMPLIFIED_GREEN, encoding="utf-8")
    return folder


def make_document(text: str, name: str = "doc.txt") -> Document:
    return Document(doc=name, title=Path(name).stem, text=text, encoding="utf-8", sha256=hashlib.sha256(text.encode()).hexdigest())


def version_folder(index: Path) -> Path:
    """The folder of the committed version of the index at `index` (see `index.commit`)."""
    return index / json.loads((index / "manifest.json").read_text(encoding="utf-8"))["version"]


def shown(markdown: str) -> str:
    """What a reader sees of escaped Markdown (`qa.display.escape_markdown`): the backslashes
    gone, for comparing AppTest element values with plain text."""
    return re.sub(r"\\(.)", r"\1", markdown)


def start_app(monkeypatch, index: Path, corpus: Path | None = None, *, locale: str | None = None, timeout: float = 180, **env: str):
    """The app (Streamlit's AppTest) over `index` and `corpus`, as a visitor of `make run` first
    opens it: no LLM in the environment unless `env` sets one; visitors may choose an LLM, as
    on `make run`'s loopback address (AppTest has no address: pass APP_VISITOR_LLM="" to test
    that case); `locale` is the browser's language."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("INDEX_DIR", str(index))
    if corpus is not None:
        monkeypatch.setenv("CORPUS_DIR", str(corpus))
    for name in ("LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"APP_VISITOR_LLM": "allow", **env}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(REPO)
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout)
    if locale is not None:
        app.context["locale"] = locale
    return app.run()


def indexed_library(root: Path, extra: dict[str, str]) -> Path:
    """`root/corpus`: the default corpus plus the `extra` files (name -> text, SYNTHETIC),
    indexed into `root/index` by the real ingest CLI. Returns `root`."""
    import shutil
    import subprocess
    import sys

    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    for name, text in extra.items():
        (corpus / name).write_text(text, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "ingest", str(corpus), "--index", str(root / "index")], cwd=REPO, check=True, capture_output=True)
    return root
