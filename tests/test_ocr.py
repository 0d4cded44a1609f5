"""OCR of scanned pages: reading order, running lines, confidence and script marks, bad images,
and a rendered scan that round-trips through ingest and search with the real recognizer and
model. Page text is SYNTHETIC (tests/conftest.py), drawn by `bench.pages`."""
import json
import re
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from bench.pages import Layout, image_pdf, paginate, png, render
from index.records import Document, OcrNotes
from ingest import errors
from ingest.chunker import ChunkSettings, chunk_document
from ingest.formats import Limits, Ocr, OcrSettings, describe, read_document
from qa.display import ocr_progress
from ingest.formats.ocr import OcrLine, assemble, reading_order, simplified_pages
from ingest.pipeline import ocr_cache_dir

from .conftest import SYNTHETIC_SIMPLIFIED_GREEN, SYNTHETIC_TRADITIONAL, start_app
from .test_cli import run


def _line(text: str, x0: float, y0: float, x1: float, confidence: float = 0.99) -> OcrLine:
    return OcrLine(text, confidence, (x0, y0, x1, y0 + 30))


def _column(prefix: str, x0: float, x1: float, top: float, rows: int) -> list[OcrLine]:
    return [_line(f"{prefix}欄第{row}行的合成文字", x0, top + 50 * row, x1) for row in range(rows)]


def test_two_columns_are_read_column_by_column_between_full_width_lines():
    left_top, right_top = _column("左上", 100, 540, 150, 4), _column("右上", 640, 1100, 150, 4)
    left_low, right_low = _column("左下", 100, 530, 450, 4), _column("右下", 640, 1090, 450, 4)
    title = _line("合成測試標題橫跨兩欄", 100, 80, 1100)
    middle = _line("第二節 橫跨兩欄的小標題", 300, 380, 900)
    number = _line("— 3 —", 570, 700, 620)  # centred in the gutter
    shuffled = [number, *right_low, middle, *left_top, title, *left_low, *right_top]
    order = [line.text for line in reading_order(shuffled)]
    expected = [title, *left_top, *right_top, middle, *left_low, *right_low, number]
    assert order == [line.text for line in expected]


def test_a_right_column_of_two_lines_is_still_a_column():
    left, right = _column("左", 100, 540, 100, 7), _column("右", 640, 1100, 100, 2)
    assert [line.text for line in reading_order(right + left)] == [line.text for line in left + right]


def test_one_column_reads_top_to_bottom_and_joins_pieces_of_a_line():
    lines = [
        _line("第一行合成文字，寫滿整行。", 100, 100, 1100),
        _line("第二行", 100, 150, 400), _line("同一行的後半", 450, 152, 1100),  # one printed line, two boxes
        _line("短的末行。", 100, 200, 300),
        _line("12", 1050, 300, 1100),  # a page number at the right
    ]
    order = reading_order(list(reversed(lines)))
    assert [line.text for line in order] == ["第一行合成文字，寫滿整行。", "第二行同一行的後半", "短的末行。", "12"]
    assert order[1].box == (100, 150, 1100, 182)


def test_running_lines_dropped_and_unsure_lines_located_in_the_text():
    bodies = [["甲頁開頭的合成句子，", "接著寫完。"], ["乙頁另起一段合成文字，", "到此為止。"], ["丙頁最後的合成段落，", "全書結束。"]]
    pages = [
        [_line("合成測試書", 100, 20, 400), _line(first, 100, 100, 1100, 0.55 if n == 2 else 0.99), _line(second, 100, 150, 400), _line(str(n), 560, 900, 600)]
        for n, (first, second) in enumerate(bodies, start=1)
    ]
    text, starts, notes = assemble(pages, [0, 1, 2], OcrSettings(), seconds=6.0)
    assert text == "甲頁開頭的合成句子，接著寫完。\n乙頁另起一段合成文字，到此為止。\n丙頁最後的合成段落，全書結束。\n"
    assert starts == (0, 16, 33)
    assert notes.pages == (1, 2, 3) and notes.seconds == 6.0
    assert [text[s:e] for s, e in notes.spans] == [line for body in bodies for line in body]
    assert [text[s:e] for s, e in notes.unsure] == ["乙頁另起一段合成文字，"]


def test_text_layer_pages_are_not_marked_as_ocr():
    pages = [["文字層的第一頁，合成句子。"], [_line("掃描的第二頁，合成句子。", 100, 100, 1100)]]
    text, _, notes = assemble(pages, [1], OcrSettings(), seconds=1.0)
    assert notes.pages == (2,)
    assert [text[s:e] for s, e in notes.spans] == ["掃描的第二頁，合成句子。"]


def test_a_simplified_page_in_a_traditional_book_is_named():
    traditional = "數字金融創新案例，銀行與機構的實踐經驗。" * 5
    simplified = "数字金融创新案例，银行与机构的实践经验。"
    assert simplified_pages({1: traditional, 2: simplified}, traditional + simplified) == (2,)
    assert simplified_pages({1: simplified}, simplified) == ()  # a simplified book is not flagged
    document = Document(
        doc="scan.pdf", title="scan", text=traditional, encoding="pdf", sha256="x", page_starts=(0, 50), format="pdf",
        ocr=OcrNotes(pages=(1, 2), spans=((0, 100),), unsure=((0, 10),), simplified_pages=(2,), seconds=5.0),
    )
    assert describe(document) == (
        "pdf, 2 pages, all by OCR (2.5 s/page); 1 line read with low confidence (passages marked); "
        "page 2 came out in simplified script in a traditional book (quotes may differ from the print)"
    )


def test_chunks_say_which_text_came_from_ocr():
    text = SYNTHETIC_TRADITIONAL
    scanned = text.index("二、實施路徑")
    unsure = text.index("平臺上線一年")
    notes = OcrNotes(pages=(2,), spans=((scanned, len(text)),), unsure=((unsure, unsure + 10),))
    document = Document(doc="d.pdf", title="d", text=text, encoding="pdf", sha256="x", page_starts=(0, scanned), format="pdf", ocr=notes)
    chunks = chunk_document(document, ChunkSettings())
    assert [(c.section.split(" > ")[-1], c.ocr, c.ocr_unsure) for c in chunks] == [
        ("一、創新背景", False, False), ("二、實施路徑", True, False), ("三、應用成效", True, True),
    ]


def _png_header(width: int, height: int, rows: bytes = b"") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height, reason", [
    (20000, 20000, "image of 400 megapixels, over the 40-megapixel limit; not decoded"),
    (8000, 6000, "image of 8000×6000 pixels, over the 40-megapixel limit; not decoded"),
])
def test_huge_images_are_refused_before_decoding(width, height, reason):
    data = _png_header(width, height, zlib.compress(b"\x00" * 64))  # pixels that were never there
    with pytest.raises(errors.TooLarge) as caught:
        read_document("huge.png", ".png", data, Limits())
    assert str(caught.value) == reason


def test_truncated_image_is_a_damaged_image():
    whole = png(Image.new("L", (400, 300), 200))
    with pytest.raises(errors.CorruptDocument, match="damaged image, cannot be decoded"):
        read_document("cut.png", ".png", whole[: len(whole) // 2], Limits())


def test_image_without_text_says_so():
    with pytest.raises(errors.EmptyDocument, match=r"no text found by OCR \(an image without text\?\)"):
        read_document("blank.png", ".png", png(Image.new("L", (600, 400), 255)), Limits())


def test_progress_text_names_the_page_and_its_time():
    from ingest.formats import PageDone

    assert ocr_progress(PageDone("scan.pdf", 3, 200, 2.41, cached=False)) == "OCR scan.pdf: page 3 of 200 (2.4 s)"
    assert ocr_progress(PageDone("scan.pdf", 4, 200, 0.0, cached=True)) == "OCR scan.pdf: page 4 of 200 (from the OCR cache)"


# ---- end to end: real recognizer, real embedding model --------------------------------------

_LAYOUT = Layout(char_px=28, width_chars=30, lines_per_page=6)
_COLUMNS = Layout(char_px=28, width_chars=30, columns=2, lines_per_page=7)


def _scan() -> tuple[bytes, list[list[list[str]]]]:
    pages = paginate(SYNTHETIC_TRADITIONAL, _LAYOUT)
    images = [render(page, _LAYOUT, header="合成測試書", number=n) for n, page in enumerate(pages, start=1)]
    return image_pdf(images), pages


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    root = tmp_path_factory.mktemp("ocr")
    corpus = root / "corpus"
    corpus.mkdir()
    scan, pages = _scan()
    (corpus / "scan.pdf").write_bytes(scan)
    (corpus / "columns.png").write_bytes(png(render(paginate(SYNTHETIC_SIMPLIFIED_GREEN, _COLUMNS)[0], _COLUMNS)))
    (corpus / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (corpus / "empty.jpg").write_bytes(b"")
    (corpus / "huge.png").write_bytes(_png_header(20000, 20000, zlib.compress(b"\x00" * 64)))
    (corpus / "blank.tif").write_bytes(_tiff(Image.new("L", (500, 300), 255)))
    index = root / "index"
    result = run("-m", "ingest", str(corpus), "--index", str(index))
    return corpus, index, result, pages


def _tiff(image: Image.Image) -> bytes:
    import io

    out = io.BytesIO()
    image.save(out, "TIFF")
    return out.getvalue()


@pytest.mark.slow
def test_scans_are_indexed_and_bad_images_refused_one_by_one(scanned):
    _, _, result, pages = scanned
    assert result.returncode == 0, result.stderr
    lines = {line.split()[1].rstrip(":"): line for line in result.stdout.splitlines()}
    assert lines["corrupt.png"] == "error    corrupt.png: damaged image, cannot be read (no image data Pillow can decode)"
    assert lines["empty.jpg"] == "error    empty.jpg: empty file"
    assert lines["huge.png"] == "error    huge.png: image of 400 megapixels, over the 40-megapixel limit; not decoded"
    assert lines["blank.tif"] == "error    blank.tif: no text found by OCR (an image without text?)"
    assert re.fullmatch(rf"indexed  scan\.pdf: \d chunks, pdf, {len(pages)} pages, all by OCR \(\d+\.\d s/page\)", lines["scan.pdf"])
    assert re.fullmatch(r"indexed  columns\.png: \d chunks, image, 1 page, all by OCR \(\d+\.\d s/page\)", lines["columns.png"])
    assert "OCR scan.pdf" in result.stderr and "page" in result.stderr  # per-page progress


@pytest.mark.slow
def test_scanned_text_is_found_quoted_with_its_page_and_marked_as_ocr(scanned):
    corpus, index, _, pages = scanned
    result = run("-m", "qa", "search", "手機銀行多久完成審批？", "碳账户和区块链记录能耗数据", "--index", str(index), "-k", "2", "--json")
    assert result.returncode == 0, result.stderr
    approval, carbon = (json.loads(line)["hits"] for line in result.stdout.splitlines())
    # the passage starts with its section's heading: on the page the heading was printed on
    page = next(n for n, page in enumerate(pages, start=1) if any("二、實施路徑" in column for column in page))
    assert (approval[0]["doc"], approval[0]["section"].split(" > ")[-1], approval[0]["page"], approval[0]["ocr"]) == ("scan.pdf", "二、實施路徑", page, True)
    assert "系統在三分鐘" in approval[0]["text"] and "完成審批" in approval[0]["text"]
    assert (carbon[0]["doc"], carbon[0]["section"].split(" > ")[-1], carbon[0]["ocr"]) == ("columns.png", "二、实施路径", True)
    # read down the left column, then the right: the sentence is whole
    assert "公司利用区块链记录能耗数据，为每家企业建立碳账户" in carbon[0]["text"]
    # citations quote the OCR text, verbatim; re-reading the unchanged scans costs no OCR (cache)
    def from_cache(page):
        assert page.cached, f"{page.doc} page {page.page} was read again"

    ocr = Ocr(OcrSettings(cache_dir=ocr_cache_dir(index)), on_page=from_cache)
    for hit in (approval[0], carbon[0]):
        document = read_document(hit["doc"], Path(hit["doc"]).suffix, (corpus / hit["doc"]).read_bytes(), Limits(), ocr)
        assert document.text[hit["start"] : hit["end"]] == hit["text"]


@pytest.mark.slow
def test_app_marks_ocr_sources_and_reads_an_uploaded_page_image(scanned, monkeypatch):
    corpus, index, _, _ = scanned
    app = start_app(monkeypatch, index, corpus, timeout=300)
    app.chat_input[0].set_value("手機銀行多久完成審批？").run()
    assert not app.exception
    assert any(m.value.startswith("**[1]** 《") and "text read by OCR" in m.value for m in app.markdown)
    assert any("Read by OCR from a scanned page" in w.value for w in app.warning)
    page = render(paginate("合成測試：某保險公司用手機拍照完成理賠，審核只需十分鐘。", _LAYOUT)[0], _LAYOUT)
    app.sidebar.get("file_uploader")[0].set_value([("claims.png", png(page), "image/png")]).run()
    next(b for b in app.sidebar.button if b.label == "Add and index").click().run()
    assert not app.exception
    assert any("claims" in s.value and "by OCR" in s.value for s in app.sidebar.success)  # escaped Markdown
