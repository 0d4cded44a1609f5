"""Bad files are refused one by one, by name, with a reason; nothing else is lost. The
fixtures are SYNTHETIC (tests/synthetic_book.py)."""
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ingest import errors
from ingest.formats import SUFFIXES, Limits, read_document
from ingest.loaders import load_document

from . import synthetic_book as book

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
TEXT = "案例一 合成測試文本\n一、創新背景\n這是一段合成的測試文字。\n".encode("utf-8")


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


BAD = {
    "empty.txt": (b"", errors.EmptyDocument, "empty file"),
    "blank.md": (b" \n\t\n", errors.EmptyDocument, "empty file"),
    "binary.txt": (b"\x00\x01\x02binary\xff" * 50, errors.UndecodableText, "binary"),
    "undecodable.txt": (bytes(range(0x80, 0x100)) * 8, errors.UndecodableText, ""),
    "picture.txt": (PNG, errors.WrongContent, "named .txt but is a PNG image"),
    "page.html": (b"\xff\xd8\xff\xe0 jpeg", errors.WrongContent, "named .html but is a JPEG image"),
    "notes.pdf": (TEXT, errors.WrongContent, "named .pdf but is not a PDF file (no PDF or ZIP signature; plain text?)"),
    "truncated.pdf": (b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n", errors.CorruptDocument, "damaged PDF"),
    "half.pdf": (book.pdf_book().data[:900], errors.CorruptDocument, "damaged PDF"),
    "locked.pdf": (book.pdf_book(encrypt="secret").data, errors.EncryptedDocument, "needs a password"),
    "scan.pdf": (book.scanned_pdf(), errors.NoTextLayer, "no text layer in its 2 page(s) (a scan?); OCR is not supported"),
    "text.docx": (TEXT, errors.WrongContent, "named .docx but is not a DOCX file"),
    "other.docx": (_zip({"readme.txt": b"hello"}), errors.WrongContent, "without a Word document"),
    "broken.docx": (book.docx_book()[:2000], errors.CorruptDocument, "damaged DOCX"),
    "bad-xml.docx": (_zip({"word/document.xml": b"<not xml", "[Content_Types].xml": b"<x/>"}), errors.CorruptDocument, "damaged DOCX"),
    "locked.docx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), errors.EncryptedDocument, "password-protected"),
    "text.epub": (TEXT, errors.WrongContent, "named .epub but is not an EPUB file"),
    "other.epub": (_zip({"a.txt": b"x"}), errors.CorruptDocument, "without META-INF/container.xml"),
    "drm.epub": (book.epub_book(encryption=book.AES), errors.EncryptedDocument, "encrypted EPUB (DRM)"),
    "picture.png": (PNG, errors.UnsupportedFile, "unsupported format .png"),
    "old.doc": (b"\xd0\xcf\x11\xe0", errors.UnsupportedFile, "save it as .docx"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_is_refused_with_its_reason(name):
    data, error, reason = BAD[name]
    with pytest.raises(error) as caught:
        read_document(name, Path(name).suffix, data, Limits())
    assert reason in str(caught.value)


def test_zip_bombs_are_refused_before_inflating():
    limits = Limits(max_unzipped_bytes=5 * 2**20)
    bomb = book.zip_bomb("word/document.xml", 6 * 2**20)
    assert len(bomb) < 20_000
    for name in ("bomb.docx", "bomb.epub"):
        with pytest.raises(errors.TooLarge, match="unpacks to 6 MB, over the 5 MB limit"):
            read_document(name, Path(name).suffix, bomb, limits)


def test_files_over_the_size_cap_are_refused_unread(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(2 * 2**20)  # sparse: never read
    with pytest.raises(errors.TooLarge, match="larger than the 1 MB limit"):
        load_document(tmp_path, big, Limits(max_file_bytes=2**20))


def test_pdfs_over_the_page_cap_are_refused_before_their_pages_are_read():
    pdf = book.pdf_book()  # four pages
    assert read_document("book.pdf", ".pdf", pdf.data, Limits(max_pdf_pages=4)).page_starts
    with pytest.raises(errors.TooLarge, match="4 pages, more than the 3-page limit"):
        read_document("book.pdf", ".pdf", pdf.data, Limits(max_pdf_pages=3))


_MAGIC_PREFIXES = st.sampled_from([b"", b"%PDF-1.4\n", b"PK\x03\x04", b"\xef\xbb\xbf", b"<html><body><h1>", b"\x89PNG"])
_NAMES = st.sampled_from(sorted(SUFFIXES) + [".png", "", ".bin", ".PDF", ".Docx"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=_MAGIC_PREFIXES, body=st.binary(max_size=2048), suffix=_NAMES)
def test_arbitrary_bytes_under_any_name_never_crash(prefix, body, suffix):
    try:
        document = read_document(f"f{suffix}", suffix, prefix + body, Limits())
    except errors.IngestError as exc:
        assert str(exc)
    else:
        assert document.text.strip()


@settings(max_examples=100, deadline=None)
@given(members=st.dictionaries(
    st.sampled_from(["word/document.xml", "META-INF/container.xml", "OEBPS/content.opf", "[Content_Types].xml", "x"]),
    st.binary(max_size=300), max_size=4,
), suffix=st.sampled_from([".docx", ".epub"]))
def test_arbitrary_zip_members_never_crash(members, suffix):
    try:
        read_document(f"f{suffix}", suffix, _zip(members), Limits())
    except errors.IngestError as exc:
        assert str(exc)


_VALID = {".pdf": book.pdf_book().data, ".docx": book.docx_book(), ".epub": book.epub_book()}


@settings(max_examples=150, deadline=None)
@given(
    suffix=st.sampled_from(sorted(_VALID)),
    cut=st.floats(min_value=0.0, max_value=1.0),
    flips=st.lists(st.tuples(st.floats(min_value=0.0, max_value=1.0), st.integers(0, 255)), max_size=8),
)
def test_damaged_copies_of_valid_files_never_crash(suffix, cut, flips):
    """Truncated and bit-flipped copies of the synthetic book: refused with a reason or read."""
    data = bytearray(_VALID[suffix][: max(1, int(len(_VALID[suffix]) * cut))])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    try:
        document = read_document(f"f{suffix}", suffix, bytes(data), Limits())
    except errors.IngestError as exc:
        assert str(exc)
    else:
        assert document.text.strip()
