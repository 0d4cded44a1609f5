"""Each format round-trips the SYNTHETIC two-case book (tests/synthetic_book.py): text,
headings, cases and sections, PDF pages, verbatim chunk offsets."""
import re

import pytest

from ingest.chunker import ChunkSettings, chunk_document
from ingest.formats import Limits, describe, read_document
from ingest.formats.pdf_layout import drop_running_lines, join_pages

from . import synthetic_book as book

SETTINGS = ChunkSettings()
FORMATS = {
    "book.pdf": lambda: book.pdf_book().data,
    "book.docx": book.docx_book,
    "book.epub": book.epub_book,
    "book.html": book.html_book,
}


def read(name: str, data: bytes, limits: Limits = Limits()):
    return read_document(name, "." + name.rsplit(".", 1)[-1], data, limits)


@pytest.fixture(scope="module", params=sorted(FORMATS))
def document(request):
    return read(request.param, FORMATS[request.param]())


def test_every_sentence_is_extracted_whole(document):
    """Line breaks never fall inside a sentence, whatever the source wrapped."""
    for paragraph in book.paragraphs():
        for sentence in re.findall(r"[^。]+。?", paragraph):
            assert sentence in document.text, (document.doc, sentence)


def test_title_and_label(document):
    assert document.title == book.BOOK_TITLE
    assert describe(document) == {"pdf": "pdf, 4 pages", "html": "html, utf-8"}.get(document.format, document.format)


def test_cases_and_sections_are_found(document):
    chunks = chunk_document(document, SETTINGS)
    found = {(c.case, c.section.split(" > ")[-1]) for c in chunks if c.section.split(" > ")[-1] != c.case}
    assert found >= book.sections()
    for chunk in chunks:
        assert document.text[chunk.start : chunk.end] == chunk.text
    by_sentence = {c.text: c for c in chunks}
    loan = next(c for t, c in by_sentence.items() if "三分鐘內完成審批" in t)
    assert loan.case == book.CASES[0][0] and loan.section.endswith("二、實施路徑")
    carbon = next(c for t, c in by_sentence.items() if "區塊鏈記錄能耗數據" in t)
    assert carbon.case == book.CASES[1][0] and carbon.section.endswith("二、實施路徑")


def test_pdf_drops_running_header_and_footer_and_keeps_pages():
    pdf = book.pdf_book()
    document = read("book.pdf", pdf.data)
    assert book.BOOK_TITLE not in document.text and "—" not in document.text
    assert len(document.page_starts) == len(pdf.pages)
    line_pages, cursor = [], 0  # (offset of each drawn line in the text, its page), in order
    for number, lines in enumerate(pdf.pages, start=1):
        for line in lines:
            cursor = document.text.index(line, cursor)
            line_pages.append((cursor, number))
    for chunk in chunk_document(document, SETTINGS):
        expected = max(page for offset, page in line_pages if offset <= chunk.start)
        assert chunk.page == expected, chunk.text
    assert {c.page for c in chunk_document(document, SETTINGS)} == {1, 2, 3, 4}


def test_pdf_sentence_cut_by_a_page_break_is_joined_and_cited_where_it_starts():
    pdf = book.pdf_book()
    document = read("book.pdf", pdf.data)
    last_line_of_page_1 = pdf.pages[0][-1]
    first_line_of_page_2 = pdf.pages[1][0]
    assert last_line_of_page_1 + first_line_of_page_2 in document.text
    assert document.page_at(document.text.index(last_line_of_page_1)) == 1
    assert document.page_at(document.text.index(first_line_of_page_2)) == 2


def test_layout_rules_on_hand_written_pages():
    pages = [
        ["某書（合成）", "第一段的前半,", "接著寫完。", "English words", "wrap here.", "- 1 -"],
        ["某書（合成）", "案例二 某機構（合成）", "短行", "正文。", "- 2 -"],
        [],
    ]
    text, starts = join_pages(drop_running_lines(pages))
    assert text == "第一段的前半,接著寫完。\nEnglish words wrap here.\n案例二 某機構（合成）\n短行\n正文。\n"
    assert starts == (0, text.index("案例二"), len(text))


def test_docx_tables_are_rows_and_styles_are_headings():
    document = read("book.docx", book.docx_book())
    assert "貸款餘額 | 十二億元\n服務農戶 | 八千餘戶" in document.text
    levels = {document.text[s:e]: level for s, e, level in document.headings}
    assert levels[book.CASES[0][0]] == 1 and levels["二、實施路徑"] == 2


def test_epub_follows_the_spine_not_the_manifest():
    document = read("book.epub", book.epub_book())
    assert document.text.index(book.CASES[0][0]) < document.text.index(book.CASES[1][0])


def test_html_keeps_the_main_text_only():
    document = read("book.html", book.html_book())
    assert "不應被索引" not in document.text
    assert "指標 | 數值" in document.text


def test_sentence_ends_of_both_widths_end_lines_and_other_marks_do_not():
    pages = [["這一行的寬度是典型的寬度，問題出現了?", "下一句從這裡開始．", "全角逗號結尾的一行也是典型寬度，", "接著寫,半角逗號也一樣寬度的行,", "然後結束。"]]
    text, _ = join_pages(pages)
    assert text == "這一行的寬度是典型的寬度，問題出現了?\n下一句從這裡開始．\n全角逗號結尾的一行也是典型寬度，接著寫,半角逗號也一樣寬度的行,然後結束。\n"


def test_text_that_mentions_a_pdf_header_is_still_text():
    document = read("notes.txt", "合成筆記：PDF 文件以 %PDF-1.7 開頭。\n".encode("utf-8"))
    assert document.format == "text" and "%PDF-1.7" in document.text


def test_page_at_with_pages_without_text():
    from index.records import Document

    document = Document("a.pdf", "a", "x" * 100, "pdf", "0" * 64, page_starts=(0, 10, 10, 50), format="pdf")
    assert [document.page_at(o) for o in (0, 9, 10, 49, 50, 99)] == [1, 1, 3, 3, 4, 4]


def test_headers_alternating_on_odd_and_even_pages_are_dropped_and_contents_lines_kept():
    pages = [
        ["目錄", "案例一 某銀行（合成） ........ 3", "案例二 某公司（合成） ........ 9", "1"],
        ["合成樣書", "案例一 某銀行（合成）", "正文第一頁的一句話。", "2"],
        ["案例一 某銀行（合成）", "正文第二頁的一句話。", "3"],
        ["合成樣書", "正文第三頁的一句話。", "4"],
        ["案例一 某銀行（合成）", "正文第四頁的一句話。", "5"],
    ]
    text, _ = join_pages(drop_running_lines(pages))
    assert text == (
        "目錄\n案例一 某銀行（合成） ........ 3\n案例二 某公司（合成） ........ 9\n"
        "案例一 某銀行（合成）\n正文第一頁的一句話。\n正文第二頁的一句話。\n正文第三頁的一句話。\n正文第四頁的一句話。\n"
    )


def test_section_headings_at_page_tops_are_not_running_lines():
    pages = [["一、創新背景", "第一個案例的正文。"], ["二、實施路徑", "正文。"], ["一、創新背景", "第二個案例的正文。"]]
    text, _ = join_pages(drop_running_lines(pages))
    assert text.count("一、創新背景") == 2


def test_owner_password_pdf_and_font_obfuscated_epub_are_read():
    from reportlab.lib.pdfencrypt import StandardEncryption

    pdf = read("open.pdf", book.pdf_book(encrypt=StandardEncryption("", ownerPassword="owner-only")).data)
    assert "三分鐘內完成審批" in pdf.text
    epub = read("fonts.epub", book.epub_book(encryption=book.FONT_OBFUSCATION))
    assert "三分鐘內完成審批" in epub.text
