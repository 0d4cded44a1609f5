"""File names in GBK, Big5 and invalid bytes (a Windows ZIP unpacked on Linux): every file is
read, its name shown decoded with a note, kept reversibly in the manifest, and one bad file
never stops the others. In-process CLI with the fake embedder; one real `python -m ingest`.
SYNTHETIC contents."""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import ingest.__main__ as cli
import ingest.pipeline as pipeline

from .conftest import REPO, SYNTHETIC_SIMPLIFIED_GREEN, SYNTHETIC_TRADITIONAL, FakeEmbedder, version_folder

GOOD = "good_synthetic.txt"
NAMES = {  # bytes on disk -> (name shown, note)
    "数字金融案例.txt".encode("gbk"): ("数字金融案例.txt", "file name not UTF-8, read as GB18030"),
    "數位金融案例.txt".encode("big5"): ("數位金融案例.txt", "file name not UTF-8, read as BIG5"),
    b"\xff\xfe case.txt": ("\\xff\\xfe case.txt", "file name not UTF-8, GB18030 or Big5: bad bytes shown as \\xNN"),
}


@pytest.fixture
def embedder(monkeypatch, matcher):
    fake = FakeEmbedder()
    monkeypatch.setattr(pipeline, "load_embedder", lambda **_: fake)
    monkeypatch.setattr(pipeline, "configured_model", lambda: fake.name)
    monkeypatch.setattr(pipeline, "TextMatcher", lambda: matcher)  # building one loads jieba (seconds)
    return fake


def write(folder: Path, name: bytes, text: str) -> None:
    with open(os.path.join(os.fsencode(folder), name), "wb") as fh:
        fh.write(text.encode("utf-8"))


@pytest.fixture
def folder(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / GOOD).write_text(SYNTHETIC_TRADITIONAL, encoding="utf-8")
    for raw in NAMES:
        write(corpus, raw, SYNTHETIC_SIMPLIFIED_GREEN)
    return corpus


def run(capsys, *args):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    out.encode("utf-8")  # printable as UTF-8: no surrogate escapes reach the terminal
    return code, out, err


def strict_json(path: Path):
    return json.loads(path.read_bytes().decode("utf-8"))


def test_names_in_gbk_big5_and_bad_bytes_are_indexed_shown_and_kept(folder, tmp_path, capsys, embedder):
    index = tmp_path / "idx"
    code, out, err = run(capsys, folder, "--index", index)
    assert code == 0, err
    lines = sorted(out.splitlines())
    assert len(lines) == 4 and all(line.startswith("indexed  ") for line in lines)
    for shown, note in NAMES.values():
        assert any(line.startswith(f"indexed  {shown}: ") and line.endswith(f", utf-8 ({note})") for line in lines), (shown, lines)
    assert f"indexed  {GOOD}: " in out and f"{GOOD}: " in out and "(file name" not in next(l for l in lines if GOOD in l)

    manifest = strict_json(index / "manifest.json")
    documents = manifest["documents"]
    assert set(documents) == {GOOD} | {shown for shown, _ in NAMES.values()} == set(manifest["sources"])
    for raw, (shown, _) in NAMES.items():
        assert unquote_to_bytes(documents[shown]["path_bytes"]) == raw  # reversible: the exact bytes on disk
        assert os.path.exists(os.path.join(os.fsencode(folder), unquote_to_bytes(documents[shown]["path_bytes"])))
    assert "path_bytes" not in documents[GOOD]
    chunks = [json.loads(line) for line in (version_folder(index) / "chunks.jsonl").read_bytes().decode("utf-8").splitlines()]
    assert {c["doc"] for c in chunks} == set(documents)

    ids = {c["id"] for c in chunks}
    code, out, err = run(capsys, folder, "--index", index)  # again: the same files, unchanged
    assert code == 0 and "documents 0 added, 0 changed, 4 unchanged, 0 removed" in err
    assert {json.loads(l)["id"] for l in (version_folder(index) / "chunks.jsonl").read_text(encoding="utf-8").splitlines()} == ids
    assert run(capsys, folder, "--index", index, "--if-stale")[1].strip() == f"index at {index} is up to date"


def test_a_name_read_differently_never_takes_another_files_name(tmp_path, capsys, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "数字金融案例.txt").write_text(SYNTHETIC_TRADITIONAL, encoding="utf-8")
    write(corpus, "数字金融案例.txt".encode("gbk"), SYNTHETIC_SIMPLIFIED_GREEN)
    code, out, _ = run(capsys, corpus, "--index", tmp_path / "idx")
    assert code == 0
    documents = strict_json(tmp_path / "idx" / "manifest.json")["documents"]
    assert len(documents) == 2 and "数字金融案例.txt" in documents, out
    other = next(name for name in documents if name != "数字金融案例.txt")
    assert other.startswith("数字金融案例 [") and other.endswith("].txt") and unquote_to_bytes(documents[other]["path_bytes"]) == "数字金融案例.txt".encode("gbk")


def test_an_unexpected_error_in_one_file_is_its_line_and_the_rest_is_indexed(folder, tmp_path, capsys, embedder, monkeypatch):
    chunk_document = pipeline.chunk_document

    def flaky(document, settings):
        if document.doc == GOOD:
            raise RecursionError("chunker bug")
        return chunk_document(document, settings)

    monkeypatch.setattr(pipeline, "chunk_document", flaky)
    code, out, _ = run(capsys, folder, "--index", tmp_path / "idx")
    assert code == 0
    assert f"error    {GOOD}: could not be read (RecursionError: chunker bug)" in out.splitlines()
    assert sum(line.startswith("indexed  ") for line in out.splitlines()) == len(NAMES)


NAME_BYTES = st.binary(min_size=1, max_size=80).filter(lambda b: b"/" not in b and b"\x00" not in b and not b.startswith(b"."))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stem=NAME_BYTES, suffix=st.sampled_from([b".txt", b".md", b"", b".pdf", b".TXT"]), body=st.sampled_from(["text", "empty"]))
def test_any_name_bytes_never_stop_the_other_files(capsys, embedder, stem, suffix, body):
    assume(stem + suffix != GOOD.encode())
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        (corpus / GOOD).write_text(SYNTHETIC_TRADITIONAL, encoding="utf-8")
        write(corpus, stem + suffix, SYNTHETIC_SIMPLIFIED_GREEN if body == "text" else "")
        code, out, err = run(capsys, corpus, "--index", Path(tmp) / "idx")
        assert code == 0, err
        lines = out.splitlines()
        assert len(lines) == 2 and f"indexed  {GOOD}: " in out
        manifest = strict_json(Path(tmp) / "idx" / "manifest.json")
        assert GOOD in manifest["documents"]
        for entry in manifest["documents"].values():
            if "path_bytes" in entry:
                assert unquote_to_bytes(entry["path_bytes"]) == stem + suffix


@pytest.mark.slow
def test_the_real_command_line_prints_and_stores_a_gbk_name(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write(corpus, "数字金融案例.txt".encode("gbk"), SYNTHETIC_SIMPLIFIED_GREEN)
    write(corpus, b"\xb0\xb8\xc0\xfd.txt", "")  # 案例 in GBK, an empty file: its error names it decoded
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-m", "ingest", str(corpus), "--index", str(tmp_path / "idx")], cwd=REPO, env=env, capture_output=True, timeout=600
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    out = result.stdout.decode("utf-8")
    assert "error    案例.txt: empty file (file name not UTF-8, read as GB18030)" in out.splitlines()
    assert any(line.startswith("indexed  数字金融案例.txt: ") for line in out.splitlines())
    search = subprocess.run(
        [sys.executable, "-m", "qa", "search", "碳账户", "--index", str(tmp_path / "idx"), "--json", "-k", "1"],
        cwd=REPO, capture_output=True, timeout=600,
    )
    assert search.returncode == 0
    assert json.loads(search.stdout.decode("utf-8"))["hits"][0]["doc"] == "数字金融案例.txt"


def test_an_uploaded_name_with_lone_surrogates_is_saved_and_indexed(tmp_path, capsys, embedder):
    """A browser's name is a str; one with unpaired surrogates (no UTF-8 form) still makes a file."""
    from ingest.uploads import save_upload

    path, created = save_upload(tmp_path / "corpus" / "uploads", "数字\udcff金融\ud800案例.txt", SYNTHETIC_TRADITIONAL.encode("utf-8"))
    assert created and path.name == "数字金融案例.txt"
    code, out, _ = run(capsys, tmp_path / "corpus", "--index", tmp_path / "idx")
    assert code == 0 and out.startswith("indexed  uploads/数字金融案例.txt: ")
