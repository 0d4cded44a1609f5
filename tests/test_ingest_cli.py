"""`python -m ingest` in-process with the fake embedder: the per-file report on a mixed
folder, exit codes, and that a failed run leaves the index as it was. SYNTHETIC fixtures."""
import json
from pathlib import Path

import pytest

import ingest.__main__ as cli

from . import synthetic_book as book
from .conftest import FakeEmbedder
from .test_bad_input import BAD


@pytest.fixture
def embedder(monkeypatch):
    fake = FakeEmbedder()
    monkeypatch.setattr(cli, "load_embedder", lambda: fake)
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
        status = "skipped" if name.endswith((".png", ".doc")) else "error  "
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
