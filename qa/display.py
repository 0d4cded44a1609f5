"""Showing source text to people: script conversion for display, Markdown-safe text, and
the formatted reference of a passage. Conversion never touches what is stored or cited."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import opencc

from index.records import Chunk
from index.sentences import sentence_spans

from .i18n import Messages, messages

if TYPE_CHECKING:  # only types here; embedding and reading pages are index's and ingest's jobs
    from index.store import EmbedProgress
    from ingest.formats import PageDone

DisplayScript = Literal["original", "simplified", "traditional"]
DISPLAY_SCRIPTS: tuple[DisplayScript, ...] = ("original", "simplified", "traditional")
_CONFIGS = {"simplified": "t2s", "traditional": "s2t"}
# Every character CommonMark or Streamlit's Markdown gives a meaning to.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-=.!|~<>$:&])")
# GFM links bare URLs, www. names and e-mail addresses found in text after escapes are read,
# so escaping cannot stop them: an invisible word joiner inside "://", "www." and "@" does.
_AUTOLINK_LITERAL = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)


@lru_cache(maxsize=None)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def in_script(text: str, script: DisplayScript) -> str:
    """`text` converted for display; "original" returns it unchanged."""
    if script == "original":
        return text
    if script not in _CONFIGS:
        raise ValueError(f"unknown display script {script!r}; use one of {', '.join(DISPLAY_SCRIPTS)}")
    return _converter(_CONFIGS[script]).convert(text)


def escape_markdown(text: str) -> str:
    """`text` shown literally by Markdown: no emphasis, links, headings or HTML from a document,
    a model or a server. The one escape for all such text on the page."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _AUTOLINK_LITERAL.sub("\u2060", text)).replace("\n", "  \n")


def outline_markdown(text: str) -> str:
    """Model-written Markdown shown safely: headings become bold lines and "- " bullets stay
    bullets; everything else on each line is escaped (no links, HTML or emphasis)."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            lines.append(f"**{escape_markdown(stripped.lstrip('#').strip())}**")
        elif stripped.startswith(("- ", "* ")):
            lines.append(f"- {escape_markdown(stripped[2:].strip())}")
        else:
            lines.append(escape_markdown(stripped))
    return "\n".join(lines)


def tag_label(tag: str, t: Messages | None = None) -> str:
    """"theme:綠色金融" → "綠色金融 (theme)" (or "綠色金融（主題）"): a tag as people read it."""
    t = t or messages("en")
    kind, _, value = tag.partition(":")
    kinds = {
        "institution_type": t("tag_kind_institution_type"), "theme": t("tag_kind_theme"), "scenario": t("tag_kind_scenario"),
    }
    return t("tag", value=value, kind=kinds.get(kind, kind)) if value else tag


def reference(chunk: Chunk, t: Messages | None = None) -> str:
    """A full reference: title, case, section, page, file and character offsets, and whether
    the text was read by OCR, worded in the interface language of `t` (English by default)."""
    t = t or messages("en")
    parts = [f"《{chunk.title}》"]
    if chunk.case and chunk.case not in chunk.section:
        parts.append(chunk.case)
    if chunk.section:
        parts.append(chunk.section)
    if chunk.page:
        parts.append(t("reference_page", page=chunk.page))
    parts.append(t("reference_span", doc=chunk.doc, start=chunk.start, end=chunk.end))
    if chunk.ocr:
        parts.append(t("reference_ocr_unsure") if chunk.ocr_unsure else t("reference_ocr"))
    return " · ".join(parts)


def ocr_notice(chunk: Chunk, t: Messages | None = None) -> str | None:
    """What a reader must know before quoting a passage read by OCR; None for other text."""
    if not chunk.ocr:
        return None
    t = t or messages("en")
    where = t("ocr_where_page", page=chunk.page, doc=chunk.doc) if chunk.page else chunk.doc
    return t("ocr_notice_unsure", where=where) if chunk.ocr_unsure else t("ocr_notice", where=where)


def ocr_progress(page: PageDone, t: Messages | None = None) -> str:
    """"OCR scan.pdf: page 3 of 200 (2.4 s)": progress text for one page read by OCR."""
    t = t or messages("en")
    if page.cached:
        return t("ocr_progress_cached", doc=page.doc, page=page.page, pages=page.pages)
    return t("ocr_progress", doc=page.doc, page=page.page, pages=page.pages, seconds=f"{page.seconds:.1f}")


def embed_progress(state: EmbedProgress, t: Messages | None = None) -> str:
    """One line for a progress bar: "Embedding 120/2068 new passages · files 12/383 · about 1 min 40 s left"."""
    t = t or messages("en")
    line = t("embedding_progress", done=state.passages_done, total=state.passages_total, files_done=state.files_done, files_total=state.files_total)
    eta = state.eta_s
    if eta is not None and state.passages_done < state.passages_total:
        minutes, seconds = divmod(round(eta), 60)
        line += " · " + (t("time_left_minutes", minutes=minutes, seconds=seconds) if minutes else t("time_left", seconds=seconds))
    return line


def _bigrams(text: str) -> set[str]:
    squashed = re.sub(r"\W+", "", text)
    return {squashed[i : i + 2] for i in range(len(squashed) - 1)}


def supporting_span(passage: str, answer_text: str, n: int) -> tuple[int, int] | None:
    """The sentence of `passage` that best supports what `answer_text` says before each `[n]`,
    as offsets into `passage`; None when nothing overlaps."""
    claims = [m.group(1) for m in re.finditer(rf"([^\[\]]*?)\[{n}\]", answer_text)]
    claim_grams = set().union(*(_bigrams(c) for c in claims)) if claims else set()
    best, best_overlap = None, 0
    for start, end in sentence_spans(passage):
        overlap = len(_bigrams(passage[start:end]) & claim_grams)
        if overlap > best_overlap:
            best, best_overlap = (start, end), overlap
    return best
