"""Exports: Markdown and Word carry each answer, its references and the verbatim passages."""
import io

import pytest
from docx import Document

from index.records import Chunk
from qa.answer import Answer, Citation
from qa.export import conversation_docx, conversation_markdown, lesson_docx, lesson_markdown
from qa.retrieve import Hit

from .conftest import shown

CHUNK = Chunk(id="c1", doc="book.txt", title="合成測試書", case=None, section="序 言", page=None, start=10, end=30, text="數字金融的本質是金融。\n第二行**不是粗體**。")
ANSWER = Answer(
    question="数字金融的本质是什么？", found=True, text="「數字金融的本質是金融。」[1]",
    citations=(Citation(n=1, hit=Hit(rank=1, chunk=CHUNK, score=0.5)),), mode="extractive",
)


def test_markdown_export_has_question_answer_reference_and_quote():
    text = shown(conversation_markdown([ANSWER], "2026-11-27 10:00"))  # as a Markdown viewer shows it
    assert "## 1. 数字金融的本质是什么？" in text
    assert "「數字金融的本質是金融。」[1]" in text
    assert "[1] 《合成測試書》 · 序 言 · book.txt, characters 10–30" in text
    assert "> 數字金融的本質是金融。\n> 第二行**不是粗體**。" in text


def test_word_export_opens_and_reads_back():
    document = Document(io.BytesIO(conversation_docx([ANSWER], "2026-11-27 10:00")))
    paragraphs = [p.text for p in document.paragraphs]
    assert "1. 数字金融的本质是什么？" in paragraphs
    assert "[1] 《合成測試書》 · 序 言 · book.txt, characters 10–30" in paragraphs
    assert CHUNK.text in paragraphs


def test_exports_use_the_interface_language_for_headings_and_keep_the_text():
    from qa.i18n import messages
    from qa.lesson import LessonPack

    t = messages("zh-Hant")
    text = shown(conversation_markdown([ANSWER], "2026-11-27 10:00", t))  # as a Markdown viewer shows it
    assert text.startswith("# 數字金融創新案例 · 問答摘錄\n\n匯出時間：2026-11-27 10:00。")
    assert "**來源**" in text and "[1] 《合成測試書》 · 序 言 · book.txt，第 10–30 字" in text
    assert "## 1. 数字金融的本质是什么？" in text and "> 數字金融的本質是金融。" in text  # question and quote as they are
    pack = LessonPack(topic="数字金融", filters="", passages=(Hit(rank=1, chunk=CHUNK, score=0.5),), terms=("數字金融",), notice="需要大语言模型")
    lesson = Document(io.BytesIO(lesson_docx(pack, "2026-11-27 10:00", messages("zh-Hans"))))
    paragraphs = [p.text for p in lesson.paragraphs]
    assert paragraphs[:3] == ["数字金融创新案例 · 教学资料包：数字金融", "导出时间：2026-11-27 10:00。", "每段引文均照录原文，并附完整出处。"]
    assert {"关键词", "重点段落", "注：需要大语言模型", "[1] 《合成測試書》 · 序 言 · book.txt，第 10–30 字"} <= set(paragraphs)
    english = messages("en")
    for words in (text, "\n".join(paragraphs), lesson_markdown(pack, "2026-11-27 10:00", messages("zh-Hans"))):
        assert not [key for key in ("exported_at", "sources", "key_terms", "key_passages", "export_note") if english(key).split()[0] in words]


CONTROL = Chunk(id="c2", doc="ctl.txt", title="合成", case=None, section="", page=None, start=0, end=14, text="第一頁\f第二頁\x0b換行\x00結束。")


def test_word_export_drops_characters_xml_cannot_hold_and_keeps_the_rest():
    answer = Answer(question="问\f题", found=True, text="「第一頁\f第二頁」[1]", citations=(Citation(n=1, hit=Hit(rank=1, chunk=CONTROL, score=0.5)),), mode="extractive", notice="注\x00意")
    document = Document(io.BytesIO(conversation_docx([answer], "2026-11-27 10:00")))
    paragraphs = [p.text for p in document.paragraphs]
    assert "第一頁第二頁換行結束。" in paragraphs and "1. 问题" in paragraphs
    assert CONTROL.text == "第一頁\f第二頁\x0b換行\x00結束。"  # the passage itself stays verbatim
    assert "\f" in conversation_markdown([answer], "2026-11-27 10:00")


def test_lesson_word_export_drops_them_too():
    from qa.export import lesson_docx
    from qa.lesson import LessonPack

    pack = LessonPack("題\f目", "", (Hit(rank=1, chunk=CONTROL, score=0.5),), ("術\x0b語",), plan="## 大綱\f\n- 一\x00點 [1]", model="m")
    paragraphs = [p.text for p in Document(io.BytesIO(lesson_docx(pack, "2026-11-27 10:00"))).paragraphs]
    assert "第一頁第二頁換行結束。" in paragraphs and "術語" in paragraphs and "一點 [1]" in paragraphs


def test_a_word_export_that_fails_is_a_named_error(monkeypatch):
    import docx

    import qa.export
    from qa.export import ExportError

    def broken():
        raise ValueError("All strings must be XML compatible")

    monkeypatch.setattr(docx, "Document", broken)
    with pytest.raises(ExportError, match=r"could not be built \(ValueError: All strings must be XML compatible\)"):
        qa.export.conversation_docx([ANSWER], "2026-11-27 10:00")


def test_planted_links_and_images_in_markdown_exports_stay_text():
    from markdown_it import MarkdownIt

    from qa.export import lesson_markdown
    from qa.lesson import LessonPack

    planted = "![x](http://127.0.0.1:9/x) [click](http://127.0.0.1:9/c)"
    chunk = Chunk(id="c3", doc="p.txt", title="合成", case=None, section="", page=None, start=0, end=len(planted), text=planted)
    hit = Hit(rank=1, chunk=chunk, score=0.5)
    answer = Answer(question=planted, found=True, text=f"{planted}[1]", citations=(Citation(n=1, hit=hit),), mode="llm", notice=planted)
    pack = LessonPack(planted, "", (hit,), (planted,), plan=f"## {planted}\n- {planted} [1]", model=planted, notice=planted)
    for text in (conversation_markdown([answer], "now"), lesson_markdown(pack, "now")):
        html = MarkdownIt("commonmark").render(text)
        assert "<a " not in html and "<img" not in html and "click" in html
