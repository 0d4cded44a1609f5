"""Exports: Markdown and Word carry each answer, its references and the verbatim passages."""
import io

from docx import Document

from index.records import Chunk
from qa.answer import Answer, Citation
from qa.export import conversation_docx, conversation_markdown, lesson_docx, lesson_markdown
from qa.retrieve import Hit

CHUNK = Chunk(id="c1", doc="book.txt", title="合成測試書", case=None, section="序 言", page=None, start=10, end=30, text="數字金融的本質是金融。\n第二行**不是粗體**。")
ANSWER = Answer(
    question="数字金融的本质是什么？", found=True, text="「數字金融的本質是金融。」[1]",
    citations=(Citation(n=1, hit=Hit(rank=1, chunk=CHUNK, score=0.5)),), mode="extractive",
)


def test_markdown_export_has_question_answer_reference_and_quote():
    text = conversation_markdown([ANSWER], "2026-11-27 10:00")
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
    text = conversation_markdown([ANSWER], "2026-11-27 10:00", t)
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
