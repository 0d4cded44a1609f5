"""Uploads: names are labels, never paths; nothing is overwritten or duplicated."""
import pytest

from ingest.uploads import safe_name, save_upload


@pytest.mark.parametrize(
    "uploaded, expected",
    [
        ("案例集.PDF", "案例集.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        (".hidden.txt", "hidden.txt"),
        ("a<b>c|d?.md", "a_b_c_d.md"),
        ("..", "upload"),
        ("", "upload"),
        ("報告\x00\n.txt", "報告.txt"),
        ("x" * 300 + ".docx", "x" * 95 + ".docx"),
    ],
)
def test_safe_name(uploaded, expected):
    assert safe_name(uploaded) == expected


def test_same_name_different_content_gets_a_new_name(tmp_path):
    first, created_first = save_upload(tmp_path, "book.txt", "第一版".encode())
    second, created_second = save_upload(tmp_path, "book.txt", "第二版".encode())
    assert (first.name, second.name) == ("book.txt", "book (2).txt")
    assert created_first and created_second
    assert first.read_text(encoding="utf-8") == "第一版"


def test_uploading_the_same_file_twice_keeps_one_copy(tmp_path):
    save_upload(tmp_path, "book.txt", b"same")
    path, created = save_upload(tmp_path, "book.txt", b"same")
    assert (path.name, created) == ("book.txt", False)
    assert [p.name for p in tmp_path.iterdir()] == ["book.txt"]


def test_traversal_stays_inside_the_folder(tmp_path):
    folder = tmp_path / "corpus" / "uploads"
    path, _ = save_upload(folder, "../../../escape.txt", b"x")
    assert path.parent == folder
