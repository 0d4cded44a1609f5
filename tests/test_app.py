"""The Streamlit page through AppTest, with the real bundled model over the real corpus (slow)."""
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("app") / "index"
    subprocess.run([sys.executable, "-m", "ingest", "corpus", "--index", str(path)], cwd=REPO, check=True, capture_output=True)
    return path


def test_asking_shows_cited_passages(index_dir, monkeypatch):
    monkeypatch.setenv("INDEX_DIR", str(index_dir))
    monkeypatch.chdir(REPO)
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    assert not app.exception
    app.chat_input[0].set_value("數字金融如何推動綠色消費？").run()
    assert not app.exception
    assert app.expander[0].label.startswith("[1] ")
    assert any("推動了綠色消費的普及" in t.value for t in app.text)


def test_missing_index_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "none"))
    monkeypatch.chdir(REPO)
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert "no index at" in app.error[0].value
