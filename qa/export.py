"""Exports for a lesson: a conversation, and a lesson pack, as Markdown and as Word; every
passage quoted verbatim with its full reference."""
from __future__ import annotations

import io
from typing import Sequence

from .answer import Answer
from .display import reference
from .lesson import LessonPack

TITLE = "數字金融創新案例 · 問答摘錄"
LESSON_TITLE = "數字金融創新案例 · 教學資料包"


def conversation_markdown(answers: Sequence[Answer], exported_at: str) -> str:
    lines = [f"# {TITLE}", "", f"Exported {exported_at}.", ""]
    for number, answer in enumerate(answers, start=1):
        lines += [f"## {number}. {answer.question}", "", answer.text, ""]
        if answer.notice:
            lines += [f"> Note: {answer.notice}", ""]
        if answer.citations:
            lines += ["**Sources**", ""]
        for citation in answer.citations:
            lines += [f"[{citation.n}] {reference(citation.chunk)}", ""]
            lines += ["> " + line for line in citation.chunk.text.splitlines()] + [""]
    return "\n".join(lines)


def conversation_docx(answers: Sequence[Answer], exported_at: str) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(TITLE, level=0)
    document.add_paragraph(f"Exported {exported_at}.")
    for number, answer in enumerate(answers, start=1):
        document.add_heading(f"{number}. {answer.question}", level=1)
        for line in answer.text.splitlines():
            document.add_paragraph(line)
        if answer.notice:
            document.add_paragraph().add_run(f"Note: {answer.notice}").italic = True
        if answer.citations:
            document.add_heading("Sources", level=2)
        for citation in answer.citations:
            document.add_paragraph(f"[{citation.n}] {reference(citation.chunk)}")
            document.add_paragraph(citation.chunk.text, style="Intense Quote")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _lesson_header(pack: LessonPack, exported_at: str) -> list[str]:
    scope = f" Filters: {pack.filters}." if pack.filters else ""
    return [f"Exported {exported_at}.{scope} Every passage is quoted verbatim with its full reference."]


def lesson_markdown(pack: LessonPack, exported_at: str) -> str:
    lines = [f"# {LESSON_TITLE}：{pack.topic}", "", *_lesson_header(pack, exported_at), ""]
    if pack.notice:
        lines += [f"> Note: {pack.notice}", ""]
    if pack.terms:
        lines += ["## Key terms", "", "、".join(pack.terms), ""]
    if pack.plan:
        lines += [f"## Outline and discussion questions (written by {pack.model}, citing the passages below)", "", pack.plan, ""]
    lines += ["## Key passages", ""]
    for n, hit in enumerate(pack.passages, start=1):
        lines += [f"[{n}] {reference(hit.chunk)}", ""]
        lines += ["> " + line for line in hit.chunk.text.splitlines()] + [""]
    return "\n".join(lines)


def lesson_docx(pack: LessonPack, exported_at: str) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(f"{LESSON_TITLE}：{pack.topic}", level=0)
    for line in _lesson_header(pack, exported_at):
        document.add_paragraph(line)
    if pack.notice:
        document.add_paragraph().add_run(f"Note: {pack.notice}").italic = True
    if pack.terms:
        document.add_heading("Key terms", level=1)
        document.add_paragraph("、".join(pack.terms))
    if pack.plan:
        document.add_heading(f"Outline and discussion questions (written by {pack.model})", level=1)
        for line in pack.plan.splitlines():
            if line.startswith("#"):
                document.add_heading(line.lstrip("# ").strip(), level=2)
            elif line.lstrip().startswith(("- ", "* ")):
                document.add_paragraph(line.lstrip()[2:], style="List Bullet")
            elif line.strip():
                document.add_paragraph(line)
    document.add_heading("Key passages", level=1)
    for n, hit in enumerate(pack.passages, start=1):
        document.add_paragraph(f"[{n}] {reference(hit.chunk)}")
        document.add_paragraph(hit.chunk.text, style="Intense Quote")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
