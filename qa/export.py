"""Exports for a lesson: a conversation, and a lesson pack, as Markdown and as Word; every
passage quoted verbatim with its full reference. Headings and labels are in the interface
language of `t` (English by default); answers and passages stay as they are.

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
from .i18n import Messages, messages
from .lesson import LessonPack

# Characters XML 1.0 does not allow (lxml refuses them).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


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


def _quote(text: str) -> list[str]:
    return ["> " + escape_markdown(line) for line in text.splitlines()]


def conversation_markdown(answers: Sequence[Answer], exported_at: str, t: Messages | None = None) -> str:
    """Every text from a document, a model or a server escaped: a Markdown viewer shows it as
    written, and a planted link or image stays text."""
    t = t or messages("en")
    lines = [f"# {t('export_title')}", "", t("exported_at", time=exported_at), ""]
    for number, answer in enumerate(answers, start=1):
        lines += [f"## {number}. {escape_markdown(answer.question)}", "", escape_markdown(answer.text), ""]
        if answer.notice:
            lines += [f"> {t('export_note', notice=escape_markdown(answer.notice))}", ""]
        if answer.citations:
            lines += [f"**{t('sources')}**", ""]
        for citation in answer.citations:
            lines += [f"\\[{citation.n}\\] {escape_markdown(reference(citation.chunk, t))}", ""]
            lines += _quote(citation.chunk.text) + [""]
    return "\n".join(lines)


def conversation_docx(answers: Sequence[Answer], exported_at: str, t: Messages | None = None) -> bytes:
    """Raises ExportError."""
    return _saved(_conversation, answers, exported_at, t or messages("en"))


def _conversation(document, answers: Sequence[Answer], exported_at: str, t: Messages) -> None:
    document.add_heading(t("export_title"), level=0)
    document.add_paragraph(t("exported_at", time=exported_at))
    for number, answer in enumerate(answers, start=1):
        document.add_heading(_xml(f"{number}. {answer.question}"), level=1)
        for line in answer.text.splitlines():
            document.add_paragraph(_xml(line))
        if answer.notice:
            document.add_paragraph().add_run(_xml(t("export_note", notice=answer.notice))).italic = True
        if answer.citations:
            document.add_heading(t("sources"), level=2)
        for citation in answer.citations:
            document.add_paragraph(_xml(f"[{citation.n}] {reference(citation.chunk, t)}"))
            document.add_paragraph(_xml(citation.chunk.text), style="Intense Quote")


def _lesson_header(pack: LessonPack, exported_at: str, t: Messages) -> list[str]:
    """One paragraph each (joining sentences differs between Chinese and English)."""
    scope = [t("export_filters", filters=pack.filters)] if pack.filters else []
    return [t("exported_at", time=exported_at), *scope, t("export_verbatim")]


def lesson_markdown(pack: LessonPack, exported_at: str, t: Messages | None = None) -> str:
    """Escaped like `conversation_markdown`; the outline keeps its headings and bullets."""
    t = t or messages("en")
    lines = [f"# {escape_markdown(t('export_lesson_title', topic=pack.topic))}", ""]
    for line in _lesson_header(pack, exported_at, t):
        lines += [escape_markdown(line), ""]
    if pack.notice:
        lines += [f"> {t('export_note', notice=escape_markdown(pack.notice))}", ""]
    if pack.terms:
        lines += [f"## {t('key_terms')}", "", escape_markdown("、".join(pack.terms)), ""]
    if pack.plan:
        lines += [f"## {t('export_outline', model=escape_markdown(pack.model))}", "", outline_markdown(pack.plan), ""]
    lines += [f"## {t('key_passages')}", ""]
    for n, hit in enumerate(pack.passages, start=1):
        lines += [f"\\[{n}\\] {escape_markdown(reference(hit.chunk, t))}", ""]
        lines += _quote(hit.chunk.text) + [""]
    return "\n".join(lines)


def lesson_docx(pack: LessonPack, exported_at: str, t: Messages | None = None) -> bytes:
    """Raises ExportError."""
    return _saved(_lesson, pack, exported_at, t or messages("en"))


def _lesson(document, pack: LessonPack, exported_at: str, t: Messages) -> None:
    document.add_heading(_xml(t("export_lesson_title", topic=pack.topic)), level=0)
    for line in _lesson_header(pack, exported_at, t):
        document.add_paragraph(_xml(line))
    if pack.notice:
        document.add_paragraph().add_run(_xml(t("export_note", notice=pack.notice))).italic = True
    if pack.terms:
        document.add_heading(t("key_terms"), level=1)
        document.add_paragraph(_xml("、".join(pack.terms)))
    if pack.plan:
        document.add_heading(_xml(t("export_outline", model=pack.model)), level=1)
        for line in _xml(pack.plan).splitlines():
            if line.startswith("#"):
                document.add_heading(line.lstrip("# ").strip(), level=2)
            elif line.lstrip().startswith(("- ", "* ")):
                document.add_paragraph(line.lstrip()[2:], style="List Bullet")
            elif line.strip():
                document.add_paragraph(line)
    document.add_heading(t("key_passages"), level=1)
    for n, hit in enumerate(pack.passages, start=1):
        document.add_paragraph(_xml(f"[{n}] {reference(hit.chunk, t)}"))
        document.add_paragraph(_xml(hit.chunk.text), style="Intense Quote")
