"""`python -m ingest` in-process with the fake embedder: the per-file report on a mixed
folder, exit codes, and that a failed run leaves the index as it was. SYNTHETIC fixtures."""
import json
from pathlib import Path

import pytest

import ingest.__main__ as cli
import ingest.pipeline as pipeline

from . import synthetic_book as book
from .conftest import FakeEmbedder, version_folder
from .test_bad_input import BAD


@pytest.fixture
def embedder(monkeypatch):
    fake = FakeEmbedder()
    monkeypatch.setattr(pipeline, "load_embedder", lambda **_: fake)
    return fake


def run(capsys, *args):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def report(out: str) -> dict[str, str]:
    return {line[9:].split(": ", 1)[0]: line for line in out.splitlines()}


@pytest.fixture
def mixed_folder(tmp_path):
    folder = tmp_path / "corpus"
    (folder / "books").mkdir(parents=True)
    (folder / "books" / "book.pdf").write_bytes(book.pdf_book().data)
    (folder / "books" / "book.docx").write_bytes(book.docx_book())
    (folder / "books" / "book.epub").write_bytes(book.epub_book())
    (folder / "book.html").write_bytes(book.html_book())
    (folder / "notes.txt").write_text("一、合成測試筆記\n這是一份合成的純文字筆記,用來測試混合資料夾。\n", encoding="gb18030")
    for name, (data, _, _) in BAD.items():
        (folder / "bad" / name).parent.mkdir(exist_ok=True)
        (folder / "bad" / name).write_bytes(data)
    return folder


def test_mixed_folder_reports_every_file_and_indexes_the_good_ones(mixed_folder, tmp_path, capsys, embedder):
    code, out, _ = run(capsys, mixed_folder, "--index", tmp_path / "idx")
    assert code == 0
    lines = report(out)
    assert lines["books/book.pdf"] == "indexed  books/book.pdf: 8 chunks, pdf, 4 pages"
    assert lines["books/book.docx"].startswith("indexed  books/book.docx: ") and lines["books/book.docx"].endswith(" chunks, docx")
    assert lines["books/book.epub"].endswith(" chunks, epub")
    assert lines["book.html"].endswith(" chunks, html, utf-8")
    assert lines["notes.txt"].endswith(" chunks, gb18030")
    for name, (_, _, reason) in BAD.items():
        line = lines[f"bad/{name}"]
        status = "skipped" if name.endswith(".doc") else "error  "
        assert line.startswith(f"{status}  bad/{name}: ") and reason in line, line
    assert len(lines) == 5 + len(BAD)
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["documents"]) == {"books/book.pdf", "books/book.docx", "books/book.epub", "book.html", "notes.txt"}
    assert manifest["documents"]["books/book.pdf"]["format"] == "pdf"


def test_nothing_readable_leaves_the_previous_index_unchanged(mixed_folder, tmp_path, capsys, embedder):
    assert run(capsys, mixed_folder, "--index", tmp_path / "idx")[0] == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "idx").iterdir() if p.is_file()}
    code, out, err = run(capsys, mixed_folder / "bad", "--index", tmp_path / "idx")
    assert code == 1 and "unchanged" in err
    assert len(report(out)) == len(BAD)
    assert {p.name: p.read_bytes() for p in (tmp_path / "idx").iterdir() if p.is_file()} == before


def _keys(index: Path) -> set[str]:
    return set(json.loads((version_folder(index) / "vector_keys.json").read_text(encoding="utf-8")))


def _chunk_ids(index: Path) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = {}
    for line in (version_folder(index) / "chunks.jsonl").read_text(encoding="utf-8").splitlines():
        chunk = json.loads(line)
        ids.setdefault(chunk["doc"], set()).add(chunk["id"])
    return ids


def test_reingest_embeds_only_changed_passages_and_follows_the_folder(tmp_path, capsys, embedder):
    from .conftest import SYNTHETIC_SIMPLIFIED_GREEN, SYNTHETIC_TRADITIONAL

    folder, index = tmp_path / "corpus", tmp_path / "idx"
    folder.mkdir()
    (folder / "book.pdf").write_bytes(book.pdf_book().data)
    (folder / "case1_synthetic.txt").write_text(SYNTHETIC_TRADITIONAL, encoding="utf-8")
    (folder / "case2_synthetic.txt").write_text(SYNTHETIC_SIMPLIFIED_GREEN, encoding="utf-8")
    assert run(capsys, folder, "--index", index)[0] == 0
    first_keys, first_ids = _keys(index), _chunk_ids(index)
    # sentences and titles are embedded; passage vectors are pooled from them (keys, no texts)
    assert sum(map(len, first_ids.values())) < embedder.embedded < len(first_keys)

    embedder.embedded = 0  # nothing changed: nothing embedded
    code, _, err = run(capsys, folder, "--index", index)
    assert code == 0 and embedder.embedded == 0
    assert "documents 0 added, 0 changed, 3 unchanged, 0 removed" in err

    # one passage edited, one file deleted, one file added
    edited = SYNTHETIC_TRADITIONAL.replace("累計發放貸款十二億元", "累計發放貸款十三億元")
    (folder / "case1_synthetic.txt").write_text(edited, encoding="utf-8")
    (folder / "case2_synthetic.txt").unlink()
    (folder / "notes_synthetic.md").write_text("# 合成筆記\n\n一段新的合成測試文字,講述養老金融服務。\n", encoding="utf-8")
    code, out, err = run(capsys, folder, "--index", index)
    assert code == 0
    assert "documents 1 added, 1 changed, 1 unchanged, 1 removed" in err
    ids = _chunk_ids(index)
    assert set(ids) == {"book.pdf", "case1_synthetic.txt", "notes_synthetic.md"}
    assert ids["book.pdf"] == first_ids["book.pdf"]
    changed_chunks = ids["case1_synthetic.txt"] - first_ids["case1_synthetic.txt"]
    assert len(changed_chunks) == 1 and len(ids["case1_synthetic.txt"]) == len(first_ids["case1_synthetic.txt"])
    # embedded: the edited chunk's edited sentence and its section title (title vectors, pooled
    # into their passage's, are not stored); the new note's two sentences (heading line and
    # text); the two passages' vectors pooled from them. Nothing of the unchanged PDF or
    # passages again.
    assert embedder.embedded == 4 and len(_keys(index) - first_keys) == 5
    assert "(2 passages embedded as 4 texts" in err


def test_a_second_ingest_on_the_same_index_is_refused(tmp_path, capsys, embedder):
    from index.store import index_lock

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.html").write_bytes(book.html_book())
    with index_lock(tmp_path / "idx"):
        code, out, err = run(capsys, folder, "--index", tmp_path / "idx")
        assert code == 1 and out == ""
        assert err.startswith(f"error: another ingest (pid {__import__('os').getpid()}) is updating the index at {tmp_path / 'idx'}")
    assert not (tmp_path / "idx").exists()
    assert run(capsys, folder, "--index", tmp_path / "idx")[0] == 0  # released


def test_the_lock_holds_across_processes(tmp_path, capsys, embedder):
    import subprocess
    import sys

    from .conftest import REPO

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from index.store import index_lock\n"
         "with index_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(30)", str(tmp_path / "idx")],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        folder = tmp_path / "corpus"
        folder.mkdir()
        (folder / "a.html").write_bytes(book.html_book())
        code, _, err = run(capsys, folder, "--index", tmp_path / "idx")
        assert code == 1 and f"another ingest (pid {holder.pid})" in err
    finally:
        holder.kill()
        holder.wait()
    assert run(capsys, folder, "--index", tmp_path / "idx")[0] == 0  # the OS released it


def test_if_stale_rebuilds_an_index_whose_sentence_vectors_were_made_another_way(tmp_path, capsys, embedder, monkeypatch):
    monkeypatch.setattr(pipeline, "configured_model", lambda: embedder.name)
    folder, index = tmp_path / "corpus", tmp_path / "idx"
    folder.mkdir()
    (folder / "a.html").write_bytes(book.html_book())
    code, _, err = run(capsys, folder, "--index", index)
    assert code == 0 and "passage" in err and "files 1/1" in err  # the progress bar counts both
    assert run(capsys, folder, "--index", index, "--if-stale")[1].startswith(f"index at {index} is up to date")
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sentence_vectors"] == "pooled"
    (index / "manifest.json").write_text(json.dumps({**manifest, "sentence_vectors": "late"}), encoding="utf-8")
    code, out, _ = run(capsys, folder, "--index", index, "--if-stale")
    assert code == 0 and "up to date" not in out
