"""The app with the real bundled model (slow): a damaged index is rebuilt with a notice, and an
upload indexes beside a file whose name is GBK bytes on disk. SYNTHETIC contents."""
import os
import shutil
import subprocess
import sys

import pytest

from index.embedder import configured_model
from index.store import open_index

from .conftest import REPO, SYNTHETIC_SIMPLIFIED_GREEN, SYNTHETIC_TRADITIONAL, shown, start_app, version_folder

pytestmark = pytest.mark.slow
GBK_NAME = "数字金融案例.txt"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("app-index")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "case1_synthetic.txt").write_text(SYNTHETIC_TRADITIONAL, encoding="utf-8")
    with open(os.path.join(os.fsencode(corpus), GBK_NAME.encode("gbk")), "wb") as fh:
        fh.write(SYNTHETIC_SIMPLIFIED_GREEN.encode("utf-8"))
    subprocess.run([sys.executable, "-m", "ingest", str(corpus), "--index", str(root / "index")], cwd=REPO, check=True, capture_output=True)
    return root


@pytest.fixture
def library(built, tmp_path):
    """A fresh copy of the built corpus and index for each test."""
    shutil.copytree(built / "corpus", tmp_path / "corpus")
    shutil.copytree(built / "index", tmp_path / "index")
    return tmp_path


def start(library, monkeypatch):
    return start_app(monkeypatch, library / "index", library / "corpus", timeout=300)


def test_a_damaged_index_is_rebuilt_with_a_notice(library, monkeypatch, matcher):
    vectors = version_folder(library / "index") / "vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:100])
    app = start(library, monkeypatch)
    assert not app.exception and not app.error
    assert any("index is damaged" in w.value and "vectors\\.npy is truncated" in w.value for w in app.warning)  # escaped Markdown
    open_index(library / "index", configured_model(), matcher, verify=True).hold.release()  # healed on disk
    app.chat_input[0].set_value("區塊鏈如何記錄能耗數據？").run()
    assert not app.exception and any(GBK_NAME in c.value for c in app.code)


def test_an_upload_is_indexed_beside_a_gbk_named_file(library, monkeypatch):
    app = start(library, monkeypatch)
    assert not app.exception and not app.warning
    app.sidebar.get("file_uploader")[0].set_value([
        ("養老金融 案例（合成）.txt", "合成測試：某銀行為老年客戶提供線上養老金賬戶服務。".encode("utf-8"), "text/plain"),
    ]).run()
    next(b for b in app.sidebar.button if b.label == "Add and index").click().run()
    assert not app.exception and not app.sidebar.error
    indexed = [shown(s.value) for s in app.sidebar.success]  # as a reader sees the escaped lines
    assert any(v.startswith("uploads/養老金融 案例（合成）.txt: ") for v in indexed)
    assert any(v.startswith(f"{GBK_NAME}: ") and "read as GB18030" in v for v in indexed)
    app.chat_input[0].set_value("某銀行為老年客戶提供了什麼線上服務？").run()
    assert any("uploads/養老金融 案例（合成）.txt" in c.value for c in app.code)
