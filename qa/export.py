"""Exports for a lesson: a conversation, and a lesson pack, as Markdown and as Word; every
passage quoted verbatim with its full reference. Headings and labels are in the interface
language of `t` (English by default); answers and passages stay as they are."""
from __future__ import annotations

import io
from typing import Sequence

from .answer import Answer
from .display import reference
from .i18n import Messages, messages
from .lesson import LessonPack


def conversation_markdown(answers: Sequence[Answer], exported_at: str, t: Messages | None = None) -> str:
    t = t or messages("en")
    lines = [f"# {t('export_title')}", "", t("exported_at", time=exported_at), ""]
    for number, answer in enumerate(answers, start=1):
        lines += [f"## {number}. {answer.question}", "", answer.text, ""]
        if answer.notice:
            lines += [f"> {t('export_note', notice=answer.notice)}", ""]
        if answer.citations:
            lines += [f"**{t('sources')}**", ""]
        for citation in answer.citations:
            lines += [f"[{citation.n}] {reference(citation.chunk, t)}", ""]
            lines += ["> " + line for line in citation.chunk.text.splitlines()] + [""]
    return "\n".join(lines)


def conversation_docx(answers: Sequence[Answer], exported_at: str, t: Messages | None = None) -> bytes:
    from docx import Document

    t = t or messages("en")
    document = Document()
    document.add_heading(t("export_title"), level=0)
    document.add_paragraph(t("exported_at", time=exported_at))
    for number, answer in enumerate(answers, start=1):
        document.add_heading(f"{number}. {answer.question}", level=1)
        for line in answer.text.splitlines():
            document.add_paragraph(line)
        if answer.notice:
            document.add_paragraph().add_run(t("export_note", notice=answer.notice)).italic = True
        if answer.citations:
            document.add_heading(t("sources"), level=2)
        for citation in answer.citations:
            document.add_paragraph(f"[{citation.n}] {reference(citation.chunk, t)}")
            document.add_paragraph(citation.chunk.text, style="Intense Quote")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _lesson_header(pack: LessonPack, exported_at: str, t: Messages) -> list[str]:
    """One paragraph each (joining sentences differs between Chinese and English)."""
    scope = [t("export_filters", filters=pack.filters)] if pack.filters else []
    return [t("exported_at", time=exported_at), *scope, t("export_verbatim")]


def lesson_markdown(pack: LessonPack, exported_at: str, t: Messages | None = None) -> str:
    t = t or messages("en")
    lines = [f"# {t('export_lesson_title', topic=pack.topic)}", ""]
    for line in _lesson_header(pack, exported_at, t):
        lines += [line, ""]
    if pack.notice:
        lines += [f"> {t('export_note', notice=pack.notice)}", ""]
    if pack.terms:
        lines += [f"## {t('key_terms')}", "", "、".join(pack.terms), ""]
    if pack.plan:
        lines += [f"## {t('export_outline', model=pack.model)}", "", pack.plan, ""]
    lines += [f"## {t('key_passages')}", ""]
    for n, hit in enumerate(pack.passages, start=1):
        lines += [f"[{n}] {reference(hit.chunk, t)}", ""]
        lines += ["> " + line for line in hit.chunk.text.splitlines()] + [""]
    return "\n".join(lines)


def lesson_docx(pack: LessonPack, exported_at: str, t: Messages | None = None) -> bytes:
    from docx import Document

    t = t or messages("en")
    document = Document()
    document.add_heading(t("export_lesson_title", topic=pack.topic), level=0)
    for line in _lesson_header(pack, exported_at, t):
        document.add_paragraph(line)
    if pack.notice:
        document.add_paragraph().add_run(t("export_note", notice=pack.notice)).italic = True
    if pack.terms:
        document.add_heading(t("key_terms"), level=1)
        document.add_paragraph("、".join(pack.terms))
    if pack.plan:
        document.add_heading(t("export_outline", model=pack.model), level=1)
        for line in pack.plan.splitlines():
            if line.startswith("#"):
                document.add_heading(line.lstrip("# ").strip(), level=2)
            elif line.lstrip().startswith(("- ", "* ")):
                document.add_paragraph(line.lstrip()[2:], style="List Bullet")
            elif line.strip():
                document.add_paragraph(line)
    document.add_heading(t("key_passages"), level=1)
    for n, hit in enumerate(pack.passages, start=1):
        document.add_paragraph(f"[{n}] {reference(hit.chunk, t)}")
        document.add_paragraph(hit.chunk.text, style="Intense Quote")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
