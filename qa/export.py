"""Exports for a lesson: a conversation, and a lesson pack, as Markdown and as Word; every
passage quoted verbatim with its full reference.

Word (XML) cannot hold most control characters that plain-text sources keep (form feed,
vertical tab, NUL): they are dropped from the Word file only; the index and the page keep the
verbatim text. Any failure to build a Word file is an `ExportError`, for a message beside
the button.
"""
from __future__ import annotations

import io
import re
from typing import Sequence

from .answer import Answer
from .display import escape_markdown, outline_markdown, reference
from .lesson import LessonPack

# Characters XML 1.0 does not allow (lxml refuses them).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

TITLE = "數字金融創新案例 · 問答摘錄"


class ExportError(Exception):
    """A Word file could not be built; the message says why."""


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)


def _saved(build, *args) -> bytes:
    """The .docx bytes of `build(document, *args)`, or ExportError."""
    from docx import Document

    try:
        document = Document()
        build(document, *args)
        buffer = io.BytesIO()
        document.save(buffer)
    except Exception as exc:  # python-docx and lxml raise many types; all mean "no file"
        raise ExportError(f"the Word file could not be built ({type(exc).__name__}: {exc})") from exc
    return buffer.getvalue()
LESSON_TITLE = "數字金融創新案例 · 教學資料包"


def _quote(text: str) -> list[str]:
    return ["> " + escape_markdown(line) for line in text.splitlines()]


def conversation_markdown(answers: Sequence[Answer], exported_at: str) -> str:
    """Every text from a document, a model or a server escaped: a Markdown viewer shows it as
    written, and a planted link or image stays text."""
    lines = [f"# {TITLE}", "", f"Exported {exported_at}.", ""]
    for number, answer in enumerate(answers, start=1):
        lines += [f"## {number}. {escape_markdown(answer.question)}", "", escape_markdown(answer.text), ""]
        if answer.notice:
            lines += [f"> Note: {escape_markdown(answer.notice)}", ""]
        if answer.citations:
            lines += ["**Sources**", ""]
        for citation in answer.citations:
            lines += [f"\\[{citation.n}\\] {escape_markdown(reference(citation.chunk))}", ""]
            lines += _quote(citation.chunk.text) + [""]
    return "\n".join(lines)


def conversation_docx(answers: Sequence[Answer], exported_at: str) -> bytes:
    """Raises ExportError."""
    return _saved(_conversation, answers, exported_at)


def _conversation(document, answers: Sequence[Answer], exported_at: str) -> None:
    document.add_heading(TITLE, level=0)
    document.add_paragraph(f"Exported {exported_at}.")
    for number, answer in enumerate(answers, start=1):
        document.add_heading(_xml(f"{number}. {answer.question}"), level=1)
        for line in answer.text.splitlines():
            document.add_paragraph(_xml(line))
        if answer.notice:
            document.add_paragraph().add_run(_xml(f"Note: {answer.notice}")).italic = True
        if answer.citations:
            document.add_heading("Sources", level=2)
        for citation in answer.citations:
            document.add_paragraph(_xml(f"[{citation.n}] {reference(citation.chunk)}"))
            document.add_paragraph(_xml(citation.chunk.text), style="Intense Quote")


def _lesson_header(pack: LessonPack, exported_at: str) -> list[str]:
    scope = f" Filters: {pack.filters}." if pack.filters else ""
    return [f"Exported {exported_at}.{scope} Every passage is quoted verbatim with its full reference."]


def lesson_markdown(pack: LessonPack, exported_at: str) -> str:
    """Escaped like `conversation_markdown`; the outline keeps its headings and bullets."""
    lines = [f"# {LESSON_TITLE}：{escape_markdown(pack.topic)}", "", *map(escape_markdown, _lesson_header(pack, exported_at)), ""]
    if pack.notice:
        lines += [f"> Note: {escape_markdown(pack.notice)}", ""]
    if pack.terms:
        lines += ["## Key terms", "", escape_markdown("、".join(pack.terms)), ""]
    if pack.plan:
        lines += [f"## Outline and discussion questions (written by {escape_markdown(pack.model)}, citing the passages below)", "", outline_markdown(pack.plan), ""]
    lines += ["## Key passages", ""]
    for n, hit in enumerate(pack.passages, start=1):
        lines += [f"\\[{n}\\] {escape_markdown(reference(hit.chunk))}", ""]
        lines += _quote(hit.chunk.text) + [""]
    return "\n".join(lines)


def lesson_docx(pack: LessonPack, exported_at: str) -> bytes:
    """Raises ExportError."""
    return _saved(_lesson, pack, exported_at)


def _lesson(document, pack: LessonPack, exported_at: str) -> None:
    document.add_heading(_xml(f"{LESSON_TITLE}：{pack.topic}"), level=0)
    for line in _lesson_header(pack, exported_at):
        document.add_paragraph(_xml(line))
    if pack.notice:
        document.add_paragraph().add_run(_xml(f"Note: {pack.notice}")).italic = True
    if pack.terms:
        document.add_heading("Key terms", level=1)
        document.add_paragraph(_xml("、".join(pack.terms)))
    if pack.plan:
        document.add_heading(_xml(f"Outline and discussion questions (written by {pack.model})"), level=1)
        for line in _xml(pack.plan).splitlines():
            if line.startswith("#"):
                document.add_heading(line.lstrip("# ").strip(), level=2)
            elif line.lstrip().startswith(("- ", "* ")):
                document.add_paragraph(line.lstrip()[2:], style="List Bullet")
            elif line.strip():
                document.add_paragraph(line)
    document.add_heading("Key passages", level=1)
    for n, hit in enumerate(pack.passages, start=1):
        document.add_paragraph(_xml(f"[{n}] {reference(hit.chunk)}"))
        document.add_paragraph(_xml(hit.chunk.text), style="Intense Quote")
