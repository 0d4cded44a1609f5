"""Display helpers: script conversion, literal Markdown, references."""
import re

import pytest

from index.records import Chunk
from qa.display import escape_markdown, in_script, reference, supporting_span

CHUNK = Chunk(id="x", doc="book.txt", title="數字金融創新案例", case="案例一 某銀行", section="案例一 某銀行 > 二、實施路徑", page=12, start=100, end=180, text="...")


def test_script_conversion_for_display_only():
    assert in_script("數字金融", "simplified") == "数字金融"
    assert in_script("数字金融", "traditional") == "數字金融"
    assert in_script("數字金融", "original") == "數字金融"
    with pytest.raises(ValueError, match="original, simplified, traditional"):
        in_script("x", "klingon")


def test_markdown_and_html_in_documents_stay_literal():
    escaped = escape_markdown("**粗體** <script>alert(1)</script> [link](http://x) # 標題")
    assert "\\*\\*粗體\\*\\*" in escaped
    assert "\\<script\\>" in escaped
    assert "\\[link\\]\\(http\\:" in escaped


def test_reference_names_everything_a_teacher_needs():
    assert reference(CHUNK) == "《數字金融創新案例》 · 案例一 某銀行 > 二、實施路徑 · p. 12 · book.txt, characters 100–180"


def test_supporting_sentence_is_the_one_the_claim_quotes():
    passage = "第一句講背景。移動支付讓農村居民無需前往網點即可轉賬。最後一句講別的。"
    answer = "「移動支付讓農村居民無需前往網點即可轉賬。」[2] 另一件事[1]"
    start, end = supporting_span(passage, answer, 2)
    assert passage[start:end] == "移動支付讓農村居民無需前往網點即可轉賬。"
    assert supporting_span(passage, answer, 3) is None


def test_planted_links_images_and_bare_urls_stay_text():
    from markdown_it import MarkdownIt

    planted = "![x](http://127.0.0.1:9/x) [click](http://127.0.0.1:9/c) <img src=x> http://127.0.0.1:9/a www.example.com a@example.com :red[x] $x$"
    escaped = escape_markdown(planted)
    html = MarkdownIt("commonmark").render(escaped)
    assert "<a " not in html and "<img" not in html and "<span" not in html
    # GFM's autolink literals read text after escapes: none may remain in what is shown
    shown = re.sub(r"\\(.)", r"\1", escaped)
    assert not re.search(r"https?://|www\.|@\w", shown)
    assert shown.replace("\u2060", "") == planted  # nothing visible changes
