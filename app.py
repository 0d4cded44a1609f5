"""Streamlit app: ask the casebook, read cited answers, open each source in context, find
comparable cases and compare them side by side, build a lesson pack, add documents, export.

Thin by design: it reads top to bottom; conversation state lives in st.session_state, the
retriever in st.cache_resource, everything else in `qa` and `ingest`. Document and model text
is shown as plain text or escaped Markdown, never as HTML. The API key typed here stays in
this browser session's memory only.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import streamlit as st

from index.embedder import EmbedderError
from index.records import Chunk
from index.store import IndexBusy, IndexDamaged, IndexUnavailable, default_index_dir
from ingest.formats import SUFFIXES, ocr_progress
from ingest.pipeline import ingest
from ingest.errors import IngestError
from ingest.uploads import remove_refused, save_upload
from qa.answer import Answer, Restart, TextDelta, Turn
from qa.assistant import Assistant, AssistantSettings
from qa.case_export import Table, comparison_table, similar_table, table_csv, table_xlsx
from qa.case_views import COLOUR_BY, MAP_SELECTION, case_map, similarity_heatmap, theme_type_counts
from qa.cases import ROLE_LABELS, CaseLibrary
from qa.chat import LlmError, LlmSettings
from qa.display import DISPLAY_SCRIPTS, escape_markdown, in_script, ocr_notice, outline_markdown, reference, supporting_span, tag_label
from qa.export import ExportError, conversation_docx, conversation_markdown, lesson_docx, lesson_markdown
from qa.filters import Filters, tag_values
from qa.lesson import LessonBuilder, LessonSettings
from qa.limits import InputRefused, Limits, LimitsConfigError
from qa.retrieve import Retriever, open_retriever

CORPUS_DIR = Path(os.environ.get("CORPUS_DIR") or "corpus")
UPLOAD_DIR = CORPUS_DIR / "uploads"
CONTEXT_CHARS = 160  # neighbouring text shown around an opened passage
SCRIPT_LABELS = {"original": "原文 original", "simplified": "简体", "traditional": "繁體"}
EXAMPLES = {
    "Ask a question": "数字信贷如何缓解小微企业的资金压力？",
    "Prepare a lesson": "數字金融如何推動綠色消費？",
    "Find comparable cases": "Which cases use data to assess the credit of technology companies?",
}

# The Cases tab's own words (issue 15), together.
CASES_TEXT = {
    "section": "Each case is a case section of a document (案例一 …).",
    "document": "No case headings (案例一 …) were found, so each document is one case.",
    "kept": " Filters keep {kept} of {total} cases.",
    "map": "Cases placed by their content (similar cases lie close). Hover a point to see the case; click it to choose it.",
    "counts": "**Cases per theme and institution type**",
    "counts_note": "A case counts under each theme its passages mention.",
    "choose": "Choose a case (or click one on the map) to see its nearest cases",
    "score": "similarity {score:.0f}/100",
    "heatmap": "How alike the cases are",
    "heatmap_note": "Similarity 0–100: the share of all pairs of cases in the index that are less alike. {n} cases shown",
    "heatmap_nearest": ", the chosen case and its nearest first.",
    "csv": "Download CSV",
    "excel": "Download Excel",
    "filtered_out": " the filters accept",
}
HEATMAP_CASES = 25  # more would not be readable
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

st.set_page_config(page_title="數字金融案例助手 · Casebook", page_icon="📚", layout="wide")


@st.cache_resource(show_spinner="Loading the index and the embedding model…")
def load_retriever(index_dir: str) -> Retriever:
    return open_retriever(Path(index_dir))


@st.cache_resource(show_spinner=False, max_entries=2)  # an older index version is let go
def load_assistant(index_dir: str, version: str, _retriever: Retriever, _limits: Limits) -> Assistant:
    """What answering needs per index (its chunk maps, prompts, checks), built once per index
    version and shared by every session; each question takes a light copy (`for_session`).
    The limits come from the environment, fixed for the process."""
    return Assistant(_retriever, limits=_limits)


@st.cache_resource(show_spinner="Reading the cases…")
def load_cases(index_dir: str, built_at: str, _retriever: Retriever) -> CaseLibrary:
    return CaseLibrary(_retriever)


def neighbours(retriever: Retriever, chunk: Chunk) -> tuple[str, str]:
    """The text just before and just after `chunk` in its document (from adjacent chunks)."""
    same_doc = sorted((c for c in retriever.index.chunks if c.doc == chunk.doc), key=lambda c: c.start)
    before = [c for c in same_doc if c.start < chunk.start]
    after = [c for c in same_doc if c.end > chunk.end and c.start > chunk.start]
    head = before[-1].text[: max(0, chunk.start - before[-1].start)] if before else ""
    tail = after[0].text[max(0, chunk.end - after[0].start) :] if after else ""
    return head[-CONTEXT_CHARS:], tail[:CONTEXT_CHARS]


def highlighted(text: str, span: tuple[int, int] | None, script: str) -> str:
    """Escaped Markdown of `text` with `span` (the supporting sentence) highlighted."""
    if span is None:
        return escape_markdown(in_script(text, script))
    start, end = span
    parts = (in_script(text[:start], script), in_script(text[start:end], script), in_script(text[end:], script))
    return f"{escape_markdown(parts[0])}:orange-background[{escape_markdown(parts[1])}]{escape_markdown(parts[2])}"


def show_answer(answer: Answer, number: int, retriever: Retriever, script: str) -> None:
    st.markdown(escape_markdown(in_script(answer.text, script)))
    if answer.notice:
        st.warning(escape_markdown(answer.notice), icon="⚠️")
    for sentence in answer.flagged:
        st.warning(f"Not supported by its cited source: {escape_markdown(sentence)}")
    mode = "offline · quotes from the sources" if answer.mode == "extractive" else "LLM · checked against its sources"
    st.caption(mode + (f" · searched as: {escape_markdown(answer.standalone_question)}" if answer.standalone_question else ""))
    if not answer.citations:
        return
    chosen = st.radio(
        "Sources", [c.n for c in answer.citations], horizontal=True, key=f"source-{number}",
        format_func=lambda n: f"[{n}]", help="Open a source in its context",
    )
    citation = next(c for c in answer.citations if c.n == chosen)
    chunk = citation.chunk
    with st.container(border=True):
        st.markdown(f"**[{citation.n}]** {escape_markdown(reference(chunk))}")
        if notice := ocr_notice(chunk):
            st.warning(escape_markdown(notice), icon="🔎")
        before, after = neighbours(retriever, chunk)
        if before:
            st.caption("…" + escape_markdown(in_script(before, script)))
        st.markdown(highlighted(chunk.text, supporting_span(chunk.text, answer.text, citation.n), script))
        if after:
            st.caption(escape_markdown(in_script(after, script)) + "…")
        if script != "original":
            st.caption("Verbatim source")
            st.text(chunk.text)
        st.code(f"{chunk.text}\n—— {reference(chunk)}", language=None, wrap_lines=True)
        st.caption("Copy the quotation with its reference (button at the top right of the box).")


def show_passage(chunk: Chunk, script: str, label: str = "") -> None:
    """A passage, escaped, with its full reference under it."""
    st.markdown(escape_markdown(in_script(chunk.text, script)))
    st.caption((label + " " if label else "") + escape_markdown(reference(chunk)))


def download_table(table: Table, stem: str) -> None:
    """CSV and Excel downloads of an analyst's table (citations as columns)."""
    left, right = st.columns(2)
    left.download_button(CASES_TEXT["csv"], table_csv(table), f"{stem}.csv", "text/csv", key=f"{stem}-csv", width="stretch")
    right.download_button(CASES_TEXT["excel"], table_xlsx(table), f"{stem}.xlsx", XLSX, key=f"{stem}-xlsx", width="stretch")


def show_similar(library: CaseLibrary, case: str, filters: Filters, script: str) -> list[str]:
    """The three cases nearest `case`, each with why, and their export; returns their names."""
    similar = library.similar(case=case, k=3, where=filters.accepts if filters else None)
    if not similar:
        st.info("No other case matches the filters." if filters else "No other case in the index.")
        return []
    download_table(similar_table(case, similar, filters.describe()), "casebook-similar-cases")
    for s in similar:
        with st.container(border=True):
            st.markdown(f"**{s.rank}. {escape_markdown(s.case)}** · " + CASES_TEXT["score"].format(score=s.score))
            reasons = [f"shared tags: {', '.join(map(tag_label, s.shared_tags))}"] if s.shared_tags else []
            reasons += [f"shared terms: {'、'.join(in_script(t, script) for t in s.shared_terms)}"] if s.shared_terms else []
            st.caption(escape_markdown(" · ".join(reasons) or "similar wording only (no shared tags or terms)"))
            with st.expander("Best matching passages"):
                for pair in s.pairs:
                    left, right = st.columns(2)
                    with left:
                        show_passage(pair.mine, script, "this case ·")
                    with right:
                        show_passage(pair.theirs, script, f"≈ {pair.score:.2f} ·")
    return [s.case for s in similar]


def show_comparison(library: CaseLibrary, cases: list[str], filters: Filters, script: str) -> None:
    """Rows for background, approach and results; one cited passage per cell (only passages
    the filters accept), and its export."""
    comparison = library.compare(cases, where=filters.accepts if filters else None)
    if comparison.cells:
        download_table(comparison_table(comparison, filters.describe()), "casebook-comparison")
    header = st.columns(len(comparison.cases))
    for column, case in zip(header, comparison.cases):
        column.markdown(f"**{escape_markdown(case)}**")
    for role, cells in comparison.cells:
        st.markdown(f"##### {ROLE_LABELS[role]}")
        for column, chunk in zip(st.columns(len(cells), border=True), cells):
            with column:
                if chunk is None:
                    st.caption("No section of this kind in this case.")
                else:
                    show_passage(chunk, script)
    if not comparison.cells:
        st.info("None of these cases has 創新背景 / 實施路徑 / 應用成效 sections" + (CASES_TEXT["filtered_out"] if filters else "") + " to line up.")


def word_button(container, label: str, build, file_name: str, **options) -> None:
    """A download button for the Word file `build()` makes, or, if it cannot be made, why."""
    try:
        data = build()
    except ExportError as exc:
        container.error(escape_markdown(str(exc)))
    else:
        container.download_button(label, data, file_name, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", **options)


def chat_model(base_url: str, model: str, typed_key: str):
    """The LLM for this session, or None for offline answers. Kept in the session only."""
    settings = LlmSettings.for_visitor(base_url, model, typed_key)
    if settings is None:
        return None
    from qa.llm import OpenAIChat  # LangChain loads only when an LLM is configured

    return OpenAIChat(settings)


def rebuilt_retriever(index_dir: str, damage: IndexDamaged) -> Retriever:
    """Rebuild a damaged index from the corpus folder, saying so while it runs (the intact
    embeddings are reused); raises what stops it."""
    st.warning(f"The index is damaged ({escape_markdown(damage.what)}): rebuilding it from `{CORPUS_DIR}`…", icon="🛠️")
    with st.spinner("Rebuilding the index…"):
        result = ingest([CORPUS_DIR], Path(index_dir), if_stale=True)
    if result.build is None and not result.up_to_date:
        raise damage
    load_retriever.clear()
    return load_retriever(index_dir)


index_dir = str(default_index_dir())
try:
    limits = Limits.from_env()
    try:
        retriever = load_retriever(index_dir)
    except IndexDamaged as damage:
        retriever = rebuilt_retriever(index_dir, damage)
except (IndexUnavailable, EmbedderError, LimitsConfigError) as exc:
    st.error(escape_markdown(str(exc)))
    st.info("Add documents to the corpus folder and run `make run` (or `python -m ingest corpus`).")
    st.stop()

st.session_state.setdefault("history", [])
manifest = retriever.index.manifest

with st.sidebar:
    st.header("Index")
    documents = manifest["documents"]
    st.write(f"{len(documents)} document{'s' if len(documents) != 1 else ''} · {manifest['chunks']} passages")
    st.caption(escape_markdown(f"Model {manifest['embedding_model']} · built {manifest['built_at']} · corpus folder {CORPUS_DIR}"))

    st.header("Search")
    top_k = st.slider("Sources per answer", 1, 10, 5)
    script = st.radio("Show text in", DISPLAY_SCRIPTS, format_func=SCRIPT_LABELS.get, horizontal=True)

    st.header("Filters")
    st.caption("Applied before ranking, to answers, similar cases and lessons.")
    chunks = retriever.index.chunks
    chosen_docs = st.multiselect("Documents", sorted(documents), placeholder="All documents")
    cases = sorted({c.case for c in chunks if c.case})
    chosen_cases = st.multiselect("Cases", cases, placeholder="All cases") if cases else []
    chosen_tags = {
        key: st.multiselect(label, values, placeholder=f"All {label.lower()}")
        for key, label in (("institution_type", "Institution types"), ("theme", "Themes"), ("scenario", "Scenarios"))
        if (values := sorted({v for c in chunks for v in tag_values(c, key)}))
    }
    filters = Filters(
        docs=frozenset(chosen_docs), cases=frozenset(chosen_cases),
        institution_types=frozenset(chosen_tags.get("institution_type", ())),
        themes=frozenset(chosen_tags.get("theme", ())), scenarios=frozenset(chosen_tags.get("scenario", ())),
    )
    if filters and retriever.rows(filters.accepts).size == 0:
        st.warning(f"No passages match the filters ({escape_markdown(filters.describe())}): clear one to see results.")

    with st.expander("LLM (optional)"):
        st.caption("Any OpenAI-compatible server. Empty: offline answers quoted from the sources.")
        base_url = st.text_input("Base URL", value=os.environ.get("LLM_BASE_URL", ""), placeholder="https://api.deepseek.com/v1")
        model = st.text_input("Model", value=os.environ.get("LLM_MODEL", ""), placeholder="deepseek-chat")
        typed_key = st.text_input("API key", type="password", help="Kept in this session's memory only; never saved or logged.")
    try:
        chat = chat_model(base_url, model, typed_key)
    except LlmError as exc:
        st.error(escape_markdown(str(exc)))
        chat = None
    st.caption(f"Answers: LLM · {escape_markdown(chat.name)}" if chat else "Answers: offline, quoted from the sources")

    st.header("Add documents")
    uploads = st.file_uploader(
        "PDF, Word, EPUB, HTML, TXT, Markdown or page images (scans are read by OCR)", type=sorted(s.lstrip(".") for s in SUFFIXES), accept_multiple_files=True
    )
    if st.button("Add and index", disabled=not uploads, type="primary"):
        saved = []
        for upload in uploads:
            try:
                path, created = save_upload(UPLOAD_DIR, upload.name, upload.getvalue())
            except IngestError as exc:
                st.error(escape_markdown(str(exc)))
                continue
            saved.append(path)
            st.caption(f"{'Saved' if created else 'Already in the corpus'}: {escape_markdown(str(path.relative_to(CORPUS_DIR)))}")
        bar = st.progress(0.0, text="Reading files…")
        try:
            result = ingest(
                [CORPUS_DIR], Path(index_dir),
                progress=lambda state: bar.progress(state.fraction, text=state.summary()),
                on_page=lambda page: bar.progress(page.page / page.pages, text=escape_markdown(ocr_progress(page))),
            )
        except (IndexBusy, EmbedderError) as exc:
            st.error(f"{escape_markdown(str(exc))}. The current index keeps answering.")
        else:
            bar.progress(1.0, text="Done")
            for file in result.files:
                {"indexed": st.success, "skipped": st.info, "error": st.error}[file.status](escape_markdown(f"{file.name}: {file.detail}"))
            removed = remove_refused(saved, CORPUS_DIR, [f.name for f in result.files if f.status != "indexed"])
            if removed:
                st.info(f"Removed from the corpus (it cannot be indexed): {escape_markdown(', '.join(p.name for p in removed))}")
            if result.build is None:
                st.error("Nothing could be indexed; the current index keeps answering.")
            else:
                load_retriever.clear()
                st.toast(f"Index updated: {escape_markdown(str(result.changes))}")

    st.header("Conversation")
    if st.session_state.history:
        stamp = time.strftime("%Y-%m-%d %H:%M")
        st.download_button("Export Markdown", conversation_markdown(st.session_state.history, stamp), "casebook-conversation.md", "text/markdown")
        word_button(st, "Export Word", lambda: conversation_docx(st.session_state.history, stamp), "casebook-conversation.docx")
    if st.button("Clear conversation"):
        st.session_state.history = []
        st.rerun()

st.title("數字金融創新案例 · 問答")
ask_tab, cases_tab, lesson_tab = st.tabs(["Ask", "Cases", "Lesson"])

with ask_tab:
    st.caption("Ask in simplified or traditional Chinese, or in English. Every claim cites the passage it comes from.")
    picked = None
    if not st.session_state.history:
        st.write("Try one of these:")
        for column, (kind, example) in zip(st.columns(len(EXAMPLES)), EXAMPLES.items()):
            with column:
                st.caption(kind)
                if st.button(example, key=f"example-{kind}", use_container_width=True):
                    picked = example

    for number, answer in enumerate(st.session_state.history):
        with st.chat_message("user"):
            st.text(answer.question)
        with st.chat_message("assistant"):
            show_answer(answer, number, retriever, script)

    question = st.chat_input("例如：数字信贷如何缓解小微企业的资金压力？", max_chars=limits.question_chars) or picked
    if question:
        assistant = load_assistant(index_dir, manifest["version"], retriever, limits).for_session(chat, AssistantSettings(passages=top_k))
        history = [Turn(a.question, a.text) for a in st.session_state.history]
        try:
            limits.text(question)  # refused before it is shown as asked (the assistant checks it too)
        except InputRefused as exc:
            st.warning(exc.message, icon="✏️")
        else:
            with st.chat_message("user"):
                st.text(question)
            with st.chat_message("assistant"):
                placeholder, text = st.empty(), ""
                placeholder.caption("Searching the sources…")
                for event in assistant.stream(question, history, filters):
                    if isinstance(event, TextDelta):
                        text += event.text
                        placeholder.markdown(escape_markdown(in_script(text, script)))
                    elif isinstance(event, Restart):
                        text = ""
                        st.warning(escape_markdown(event.notice), icon="⚠️")
                    else:
                        st.session_state.history.append(event)
            st.rerun()

with cases_tab:
    library = load_cases(index_dir, manifest["built_at"], retriever)
    shown = [n for n in library.names if not filters or any(filters.accepts(chunks[r]) for r in library.case(n).rows)]
    st.caption(CASES_TEXT[library.unit] + (CASES_TEXT["kept"].format(kept=len(shown), total=len(library.names)) if filters else ""))
    map_column, table_column = st.columns([3, 2])
    with map_column:
        colour_by = st.radio("Colour by", list(COLOUR_BY), format_func=COLOUR_BY.get, horizontal=True)
        st.caption(CASES_TEXT["map"])
        event = st.altair_chart(case_map(library, shown, colour_by), on_select="rerun", selection_mode=MAP_SELECTION, key="case-map", width="stretch")
        picked = [p["case"] for p in event.selection.get(MAP_SELECTION, []) if p.get("case") in library.names]
        if picked and picked[0] != st.session_state.get("case-map-picked"):  # a new click, not the one already applied
            st.session_state["case-map-picked"] = st.session_state["case-choice"] = picked[0]
    with table_column:
        st.markdown(CASES_TEXT["counts"])
        st.caption(CASES_TEXT["counts_note"])
        st.dataframe(theme_type_counts(library, shown), width="stretch")
    case = st.selectbox("Case", library.names, index=None, key="case-choice", placeholder=CASES_TEXT["choose"])
    if case:
        st.subheader("Similar cases")
        nearest = show_similar(library, case, filters, script)
        st.subheader("Side by side")
        others = st.multiselect(
            "Compare with (one or two cases)", [n for n in library.names if n != case],
            default=nearest[:2], max_selections=2, key=f"compare-{case}",
        )
        if others:
            show_comparison(library, [case, *others], filters, script)
    if len(shown) > 1:
        st.subheader(CASES_TEXT["heatmap"])
        ranked = [case, *(s.case for s in library.similar(case=case, k=HEATMAP_CASES - 1))] if case else shown[:HEATMAP_CASES]
        heat = [n for n in ranked if n in shown][:HEATMAP_CASES]
        st.caption(CASES_TEXT["heatmap_note"].format(n=len(heat)) + (CASES_TEXT["heatmap_nearest"] if case else "."))
        st.altair_chart(similarity_heatmap(library, heat), width="stretch")

with lesson_tab:
    st.caption("Key passages on a topic, each quoted with its full reference, key terms and — with an LLM — an outline and discussion questions.")
    topic = st.text_input("Lesson topic", placeholder="例如：數字金融如何支持小微企業融資", max_chars=limits.question_chars)
    passages = st.slider("Key passages", 3, 12, LessonSettings.passages)
    if st.button("Build lesson pack", type="primary", disabled=not topic.strip()):
        with st.spinner("Collecting passages" + (f" and asking {escape_markdown(chat.name)}…" if chat else "…")):
            try:
                st.session_state.lesson = LessonBuilder(retriever, chat, LessonSettings(passages=passages), limits=limits).build(topic.strip(), filters)
            except InputRefused as exc:
                st.warning(exc.message, icon="✏️")
    pack = st.session_state.get("lesson")
    if pack is not None:
        st.subheader(escape_markdown(pack.topic))
        if pack.notice:
            st.info(escape_markdown(pack.notice))
        if pack.passages:
            stamp = time.strftime("%Y-%m-%d %H:%M")
            left, right = st.columns(2)
            left.download_button("Download lesson (Markdown)", lesson_markdown(pack, stamp), "casebook-lesson.md", "text/markdown", use_container_width=True)
            word_button(right, "Download lesson (Word)", lambda: lesson_docx(pack, stamp), "casebook-lesson.docx", use_container_width=True)
            st.markdown("**Key terms** · " + escape_markdown("、".join(in_script(t, script) for t in pack.terms)))
            if pack.plan:
                st.caption(f"Outline and discussion questions by {escape_markdown(pack.model)}; [n] refers to the passages below.")
                st.markdown(outline_markdown(in_script(pack.plan, script)))
            st.markdown("**Key passages**")
            for n, hit in enumerate(pack.passages, start=1):
                with st.container(border=True):
                    show_passage(hit.chunk, script, f"[{n}]")
