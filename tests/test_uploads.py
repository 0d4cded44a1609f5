"""Uploads: names are labels, never paths; nothing is overwritten or duplicated."""
import shutil

import pytest

from ingest.errors import NoSpace
from ingest.uploads import MAX_UPLOAD_FILES, max_upload_files, safe_name, save_upload


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


def test_an_upload_over_the_cap_or_of_an_unread_format_is_never_written(tmp_path):
    from ingest.errors import TooLarge, UnsupportedFile
    from ingest.formats import Limits

    with pytest.raises(TooLarge, match="book.txt: larger than the 1 MB limit; not saved"):
        save_upload(tmp_path, "book.txt", b"x" * (2**20 + 1), Limits(max_file_bytes=2**20))
    with pytest.raises(UnsupportedFile, match="run.sh: unsupported format .sh"):
        save_upload(tmp_path, "run.sh", b"echo")
    assert list(tmp_path.iterdir()) == []


def test_refused_uploads_are_removed_and_nothing_else(tmp_path):
    from ingest.uploads import remove_refused

    kept, _ = save_upload(tmp_path / "uploads", "good.txt", "合成測試".encode())
    bad, _ = save_upload(tmp_path / "uploads", "bad.txt", b"\x00\x01")
    other = tmp_path / "bad.txt"  # same name, not an upload of this batch
    other.write_bytes(b"\x00")
    assert remove_refused([kept, bad], tmp_path, ["uploads/bad.txt", "bad.txt"]) == [bad]
    assert kept.exists() and other.exists() and not bad.exists()


def test_the_servers_upload_cap_is_the_ingests():
    import tomllib

    from ingest.formats import Limits

    from .conftest import REPO

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] * 2**20 == Limits().max_file_bytes


def test_an_upload_that_would_leave_the_disk_nearly_full_is_never_written(tmp_path):
    free = shutil.disk_usage(tmp_path).free
    with pytest.raises(NoSpace, match="new.txt: not saved: the disk would have less than"):
        save_upload(tmp_path / "uploads", "new.txt", b"data", min_free_bytes=free + 1)
    assert not list((tmp_path / "uploads").iterdir())
    assert save_upload(tmp_path / "uploads", "new.txt", b"data", min_free_bytes=free // 2)[1]


@pytest.mark.parametrize("value, expected", [(None, MAX_UPLOAD_FILES), ("", MAX_UPLOAD_FILES), ("3", 3), (" 12 ", 12)])
def test_files_per_upload_come_from_the_environment(value, expected):
    assert max_upload_files({} if value is None else {"MAX_UPLOAD_FILES": value}) == expected


@pytest.mark.parametrize("value", ["0", "-1", "many", "2.5"])
def test_a_bad_files_per_upload_setting_names_itself(value):
    with pytest.raises(ValueError, match="MAX_UPLOAD_FILES"):
        max_upload_files({"MAX_UPLOAD_FILES": value})
