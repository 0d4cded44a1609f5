"""An index that checks itself: each kind of file truncated, deleted and altered in turn gives
one line naming it (search, `ingest --verify`, the Python API), and `ingest --if-stale`
rebuilds it, reusing the embeddings whose files are intact. Fake embedder, SYNTHETIC corpus."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

import ingest.__main__ as ingest_cli
import ingest.pipeline as pipeline
import qa.__main__ as qa_cli
import qa.retrieve as retrieve
from index.store import IndexDamaged, open_index

from .conftest import FakeEmbedder, version_folder

FILES = (
    "vectors.npy", "sentence_vectors.npy", "sentence_offsets.npy", "vector_keys.json",
    "dense.faiss", "sentences.faiss", "bm25/data.csc.index.npy", "bm25/vocab.index.json",
    "chunks.jsonl", "manifest.json",
)


@pytest.fixture
def fake(monkeypatch, matcher):
    """The fake embedder everywhere, and one shared matcher (building one loads jieba, seconds)."""
    embedder = FakeEmbedder()
    for module in (retrieve, ingest_cli, pipeline):
        monkeypatch.setattr(module, "TextMatcher", lambda: matcher)
    monkeypatch.setattr(pipeline, "load_embedder", lambda **_: embedder)
    monkeypatch.setattr(retrieve, "load_embedder", lambda **_: embedder)
    for module in (retrieve, ingest_cli, pipeline):
        monkeypatch.setattr(module, "configured_model", lambda: embedder.name)
    return embedder


@pytest.fixture
def built(synthetic_corpus, tmp_path, fake, capsys):
    index = tmp_path / "idx"
    assert ingest_cli.main([str(synthetic_corpus), "--index", str(index)]) == 0
    capsys.readouterr()
    return synthetic_corpus, index


def _path(index: Path, name: str) -> Path:
    return index / name if name == "manifest.json" else version_folder(index) / name


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: min(100, len(data) // 2)])
    elif how == "delete":
        path.unlink()
    else:  # same size, other bytes: only a checksum notices
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes(b ^ 0x5A for b in data[middle : middle + 8]) + data[middle + 8 :])
        assert path.stat().st_size == len(data)


def run(main, capsys, *args) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # qa exits with its one-line message
        code, message = 1, str(exc.code)
        out, err = capsys.readouterr()
        return code, out, err + message + "\n"
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("how", ["truncate", "delete", "alter"])
@pytest.mark.parametrize("name", FILES)
def test_each_damaged_file_is_one_line_and_if_stale_rebuilds_it(built, capsys, fake, name, how):
    corpus, index = built
    damage(_path(index, name), how)
    shown = name.rsplit("/", 1)[-1]

    code, out, err = run(ingest_cli.main, capsys, "--verify", "--index", index)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"error: index at {index} is damaged: ")
    assert shown in err and "python -m ingest" in err and "Traceback" not in err

    code, out, err = run(qa_cli.main, capsys, "search", "農村小微企業貸款", "--index", index, "--json")
    if how != "alter" or code != 0:  # a same-size change in a file search does not parse may go unnoticed until verified
        assert code == 1 and len(err.strip().splitlines()) == 1 and "is damaged" in err and "Traceback" not in err
        if how != "alter":
            assert shown in err

    fake.embedded = 0
    code, out, err = run(ingest_cli.main, capsys, corpus, "--index", index, "--if-stale")
    assert code == 0 and "up to date" not in out
    assert f"the index at {index} was damaged (" in err and shown in err and "rebuilt" in err
    if name not in ("vectors.npy", "sentence_vectors.npy", "vector_keys.json"):
        assert fake.embedded == 0  # every embedding was still trusted
    code, out, _ = run(ingest_cli.main, capsys, "--verify", "--index", index)
    assert code == 0 and out.startswith(f"index at {index} is intact: ")
    code, out, _ = run(qa_cli.main, capsys, "search", "農村小微企業貸款", "--index", index, "--json")
    assert code == 0 and "三分鐘內完成審批" in out
    assert run(ingest_cli.main, capsys, corpus, "--index", index, "--if-stale")[1].strip() == f"index at {index} is up to date"


def test_only_the_damaged_vectors_are_embedded_again(built, capsys, fake):
    """Passage vectors are pooled from the sentence vectors: damaged ones are made again
    without the model; damaged sentence vectors are embedded again."""
    corpus, index = built
    damage(_path(index, "vectors.npy"), "alter")
    fake.embedded = 0
    assert run(ingest_cli.main, capsys, corpus, "--index", index, "--if-stale")[0] == 0
    assert fake.embedded == 0
    damage(_path(index, "sentence_vectors.npy"), "alter")
    assert run(ingest_cli.main, capsys, corpus, "--index", index, "--if-stale")[0] == 0
    assert fake.embedded > 0
    code, out, _ = run(ingest_cli.main, capsys, "--verify", "--index", index)
    assert code == 0 and out.startswith(f"index at {index} is intact: ")


def test_the_python_api_raises_index_damaged_naming_the_file(built, matcher, fake):
    _, index = built
    damage(_path(index, "dense.faiss"), "truncate")
    with pytest.raises(IndexDamaged, match=r"dense\.faiss is truncated .*python -m ingest") as caught:
        open_index(index, fake.name, matcher)
    assert "dense.faiss" in caught.value.what and "\n" not in str(caught.value)


def test_an_altered_file_is_found_by_verification_only(built, matcher, fake):
    _, index = built
    damage(_path(index, "vector_keys.json"), "alter")  # not read when searching
    open_index(index, fake.name, matcher).hold.release()
    with pytest.raises(IndexDamaged, match=r"vector_keys\.json was altered"):
        open_index(index, fake.name, matcher, verify=True)


def test_a_file_that_parses_but_disagrees_with_the_manifest_is_damaged(built, matcher, fake):
    """Sizes match and the file parses, but it holds fewer rows than the manifest says."""
    _, index = built
    path = _path(index, "sentence_offsets.npy")
    offsets = np.load(path)
    np.save(path, offsets[:-1] + 0)  # one entry short, so the size differs too
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    os.truncate(path, manifest["files"]["sentence_offsets.npy"]["size"])  # same size again, content short
    with pytest.raises(IndexDamaged, match="sentence_offsets.npy"):
        open_index(index, fake.name, matcher)


def test_an_index_of_the_previous_format_is_rebuilt_and_its_files_removed(built, capsys, fake):
    """Format 1 kept its files beside manifest.json; `--if-stale` rebuilds it into a version."""
    corpus, index = built
    folder = version_folder(index)
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    for path in folder.iterdir():
        path.rename(index / path.name)
    folder.rmdir()
    old = {k: v for k, v in manifest.items() if k not in ("version", "files", "checksum")}
    (index / "manifest.json").write_text(json.dumps({**old, "format": 1}), encoding="utf-8")
    code, out, err = run(qa_cli.main, capsys, "search", "農村小微企業貸款", "--index", index)
    assert code == 1 and "has format 1, this version reads 2; rebuild it" in err
    assert run(ingest_cli.main, capsys, corpus, "--index", index, "--if-stale")[0] == 0
    assert sorted(p.name for p in index.iterdir()) == sorted(["manifest.json", version_folder(index).name])
    assert run(ingest_cli.main, capsys, "--verify", "--index", index)[0] == 0
