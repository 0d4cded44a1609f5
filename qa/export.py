"""Exporting a conversation for a lesson: Markdown and Word, every answer with its full references
and the verbatim passages it cites."""
from __future__ import annotations

import io
from typing import Sequence

from .answer import Answer
from .display import reference

TITLE = "數字金融創新案例 · 問答摘錄"


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
