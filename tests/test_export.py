"""Exports: Markdown and Word carry each answer, its references and the verbatim passages."""
import io

from docx import Document

from index.records import Chunk
from qa.answer import Answer, Citation
from qa.export import conversation_docx, conversation_markdown
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
