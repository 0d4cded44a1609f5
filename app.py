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
from ingest.formats import SUFFIXES
from ingest.pipeline import ingest
from ingest.errors import IngestError
from ingest.uploads import max_upload_files, remove_refused, save_upload
from qa.answer import Answer, Restart, TextDelta, Turn
from qa.assistant import Assistant, AssistantSettings
from qa.case_export import Table, comparison_table, similar_table, table_csv, table_xlsx
from qa.case_views import MAP_SELECTION, case_map, similarity_heatmap, theme_type_counts
from qa.cases import CaseLibrary
from qa.chat import LlmError, LlmSettings, visitors_choose_llm
from qa.display import DISPLAY_SCRIPTS, embed_progress, escape_markdown, in_script, ocr_notice, ocr_progress, outline_markdown, reference, supporting_span, tag_label
from qa.export import ExportError, conversation_docx, conversation_markdown, lesson_docx, lesson_markdown
from qa.filters import Filters, tag_values
from qa.i18n import LANGUAGES, Messages, language_for_locale, messages
from qa.lesson import LessonBuilder, LessonSettings
from qa.limits import InputRefused, Limits, LimitsConfigError
from qa.retrieve import Retriever, open_retriever

CORPUS_DIR = Path(os.environ.get("CORPUS_DIR") or "corpus")
UPLOAD_DIR = CORPUS_DIR / "uploads"
CONTEXT_CHARS = 160  # neighbouring text shown around an opened passage

HEATMAP_CASES = 25  # more would not be readable
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The interface language: the browser's by default, then the sidebar's choice for the session.
language = st.session_state.setdefault("language", language_for_locale(st.context.locale))
t = messages(language)
st.set_page_config(page_title=t("page_title"), page_icon="📚", layout="wide")


@st.cache_resource(show_spinner=False)  # the caller shows a spinner in the interface language
def load_retriever(index_dir: str) -> Retriever:
    return open_retriever(Path(index_dir))


@st.cache_resource(show_spinner=False, max_entries=2)  # an older index version is let go
def load_assistant(index_dir: str, version: str, _retriever: Retriever, _limits: Limits) -> Assistant:
    """What answering needs per index (its chunk maps, prompts, checks), built once per index
    version and shared by every session; each question takes a light copy (`for_session`).
    The limits come from the environment, fixed for the process."""
    return Assistant(_retriever, limits=_limits)


@st.cache_resource(show_spinner=False, max_entries=2)  # as for answering: an older index version is let go
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


def show_answer(answer: Answer, number: int, retriever: Retriever, script: str, t: Messages) -> None:
    st.markdown(escape_markdown(in_script(answer.text, script)))
    if answer.notice:
        st.warning(escape_markdown(answer.notice), icon="⚠️")
    for sentence in answer.flagged:
        st.warning(t("flagged_sentence", sentence=escape_markdown(sentence)))
    # A refusal quotes nothing and asks no LLM: it says how it was decided instead.
    mode = [t("mode_extractive") if answer.mode == "extractive" else t("mode_llm")] if answer.found else [t("mode_refused")]
    mode += [t("searched_as", question=escape_markdown(answer.standalone_question))] if answer.standalone_question else []
    st.caption(" · ".join(mode))
    if not answer.found and answer.nearest:
        with st.expander(t("nearest_passages")):
            for hit in answer.nearest:
                show_passage(hit.chunk, script, t)
    if not answer.citations:
        return
    chosen = st.radio(
        t("sources"), [c.n for c in answer.citations], horizontal=True, key=f"source-{number}",
        format_func=lambda n: f"[{n}]", help=t("sources_help"),
    )
    citation = next(c for c in answer.citations if c.n == chosen)
    chunk = citation.chunk
    with st.container(border=True):
        st.markdown(f"**[{citation.n}]** {escape_markdown(reference(chunk, t))}")
        if notice := ocr_notice(chunk, t):
            st.warning(escape_markdown(notice), icon="🔎")
        before, after = neighbours(retriever, chunk)
        if before:
            st.caption("…" + escape_markdown(in_script(before, script)))
        st.markdown(highlighted(chunk.text, supporting_span(chunk.text, answer.text, citation.n), script))
        if after:
            st.caption(escape_markdown(in_script(after, script)) + "…")
        if script != "original":
            st.caption(t("verbatim_source"))
            st.text(chunk.text)
        st.code(f"{chunk.text}\n—— {reference(chunk, t)}", language=None, wrap_lines=True)
        st.caption(t("copy_hint"))


def show_passage(chunk: Chunk, script: str, t: Messages, label: str = "") -> None:
    """A passage, escaped, with its full reference under it."""
    st.markdown(escape_markdown(in_script(chunk.text, script)))
    st.caption((label + " " if label else "") + escape_markdown(reference(chunk, t)))


def download_table(table: Table, stem: str, t: Messages) -> None:
    """CSV and Excel downloads of an analyst's table (citations as columns)."""
    left, right = st.columns(2)
    left.download_button(t("download_csv"), table_csv(table), f"{stem}.csv", "text/csv", key=f"{stem}-csv", width="stretch")
    right.download_button(t("download_excel"), table_xlsx(table), f"{stem}.xlsx", XLSX, key=f"{stem}-xlsx", width="stretch")


def show_similar(library: CaseLibrary, case: str, filters: Filters, script: str, t: Messages) -> list[str]:
    """The three cases nearest `case`, each with why, and their export; returns their names."""
    similar = library.similar(case=case, k=3, where=filters.accepts if filters else None)
    if not similar:
        st.info(t("no_other_case_filtered") if filters else t("no_other_case"))
        return []
    download_table(similar_table(case, similar, filters.describe()), "casebook-similar-cases", t)
    for s in similar:
        with st.container(border=True):
            st.markdown(f"**{s.rank}. {escape_markdown(s.case)}** · {t('similarity', score=s.score)}")
            reasons = [t("shared_tags", tags=t("list_separator").join(tag_label(tag, t) for tag in s.shared_tags))] if s.shared_tags else []
            reasons += [t("shared_terms", terms="、".join(in_script(term, script) for term in s.shared_terms))] if s.shared_terms else []
            st.caption(escape_markdown(" · ".join(reasons) or t("similar_wording_only")))
            with st.expander(t("best_passages")):
                for pair in s.pairs:
                    left, right = st.columns(2)
                    with left:
                        show_passage(pair.mine, script, t, t("this_case"))
                    with right:
                        show_passage(pair.theirs, script, t, f"≈ {pair.score:.2f} ·")
    return [s.case for s in similar]


def show_comparison(library: CaseLibrary, cases: list[str], filters: Filters, script: str, t: Messages) -> None:
    """Rows for background, approach and results; one cited passage per cell (only passages
    the filters accept), and its export."""
    comparison = library.compare(cases, where=filters.accepts if filters else None)
    if comparison.cells:
        download_table(comparison_table(comparison, filters.describe()), "casebook-comparison", t)
    roles = {"background": t("role_background"), "approach": t("role_approach"), "results": t("role_results")}
    header = st.columns(len(comparison.cases))
    for column, case in zip(header, comparison.cases):
        column.markdown(f"**{escape_markdown(case)}**")
    for role, cells in comparison.cells:
        st.markdown(f"##### {roles[role]}")
        for column, chunk in zip(st.columns(len(cells), border=True), cells):
            with column:
                if chunk is None:
                    st.caption(t("no_section"))
                else:
                    show_passage(chunk, script, t)
    if not comparison.cells:
        st.info(t("no_sections_to_compare_filtered") if filters else t("no_sections_to_compare"))


def word_button(container, label: str, build, file_name: str, **options) -> None:
    """A download button for the Word file `build()` makes, or, if it cannot be made, why."""
    try:
        data = build()
    except ExportError as exc:
        container.error(escape_markdown(str(exc)))
    else:
        container.download_button(label, data, file_name, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", **options)


def chat_model(base_url: str, model: str, typed_key: str):
    """The LLM a visitor chose for this session, or None for offline answers. Kept in the session only."""
    return _chat(LlmSettings.for_visitor(base_url, model, typed_key))


def operator_chat_model():
    """The operator's LLM (LLM_* in the environment), or None: what visitors get when they may not choose."""
    return _chat(LlmSettings.from_env())


def _chat(settings: LlmSettings | None):
    if settings is None:
        return None
    from qa.llm import OpenAIChat  # LangChain loads only when an LLM is configured

    return OpenAIChat(settings)


def add_uploads(uploads, index_dir: str, t: Messages) -> None:
    """Save the visitor's files into the corpus (capped, never overwriting) and re-index,
    reporting each file; refused files are removed again."""
    try:
        most = max_upload_files()
    except ValueError as exc:
        st.error(escape_markdown(str(exc)))
        return
    saved = []
    if len(uploads) > most:
        names = t("list_separator").join(escape_markdown(u.name) for u in uploads[most:])
        st.error(t("upload_too_many", limit=most, names=names))
    for upload in uploads[:most]:
        try:
            path, created = save_upload(UPLOAD_DIR, upload.name, upload.getvalue())
        except IngestError as exc:
            st.error(escape_markdown(str(exc)))
            continue
        saved.append(path)
        shown = escape_markdown(str(path.relative_to(CORPUS_DIR)))
        st.caption(t("upload_saved", path=shown) if created else t("upload_exists", path=shown))
    bar = st.progress(0.0, text=t("reading_files"))
    try:
        result = ingest(
            [CORPUS_DIR], Path(index_dir),
            progress=lambda state: bar.progress(state.fraction, text=embed_progress(state, t)),
            on_page=lambda page: bar.progress(page.page / page.pages, text=escape_markdown(ocr_progress(page, t))),
        )
    except (IndexBusy, EmbedderError) as exc:
        st.error(t("index_failed", error=escape_markdown(str(exc))))
    else:
        bar.progress(1.0, text=t("progress_done"))
        for file in result.files:
            {"indexed": st.success, "skipped": st.info, "error": st.error}[file.status](escape_markdown(f"{file.name}: {file.detail}"))
        removed = remove_refused(saved, CORPUS_DIR, [f.name for f in result.files if f.status != "indexed"])
        if removed:
            st.info(t("upload_removed", names=escape_markdown(t("list_separator").join(p.name for p in removed))))
        if result.build is None:
            st.error(t("nothing_indexed"))
        else:
            load_retriever.clear()
            st.toast(t("index_updated", changes=escape_markdown(str(result.changes))))


def rebuilt_retriever(index_dir: str, damage: IndexDamaged, t: Messages) -> Retriever:
    """Rebuild a damaged index from the corpus folder, saying so while it runs (the intact
    embeddings are reused); raises what stops it."""
    st.warning(t("index_damaged", what=escape_markdown(damage.what), folder=CORPUS_DIR), icon="🛠️")
    with st.spinner(t("rebuilding_index")):
        result = ingest([CORPUS_DIR], Path(index_dir), if_stale=True)
    if result.build is None and not result.up_to_date:
        raise damage
    load_retriever.clear()
    return load_retriever(index_dir)


index_dir = str(default_index_dir())
try:
    limits = Limits.from_env()
    try:
        with st.spinner(t("loading_index")):
            retriever = load_retriever(index_dir)
    except IndexDamaged as damage:
        retriever = rebuilt_retriever(index_dir, damage, t)
except (IndexUnavailable, EmbedderError, LimitsConfigError) as exc:
    st.error(escape_markdown(str(exc)))
    st.info(t("no_index_hint"))
    st.stop()

st.session_state.setdefault("history", [])
manifest = retriever.index.manifest
kinds = {  # filter keys as people read them
    "doc": t("kind_doc"), "case": t("kind_case"), "institution_type": t("kind_institution_type"),
    "theme": t("kind_theme"), "scenario": t("kind_scenario"),
}

with st.sidebar:
    st.segmented_control(
        t("language_label"), LANGUAGES, key="language", required=True,
        format_func=lambda code: messages(code)("language_name"),
    )
    st.header(t("index_header"))
    documents = manifest["documents"]
    st.write(t("index_size", documents=len(documents), passages=manifest["chunks"]))
    st.caption(escape_markdown(t("index_details", model=manifest["embedding_model"], built_at=manifest["built_at"], folder=CORPUS_DIR)))

    st.header(t("search_header"))
    top_k = st.slider(t("sources_per_answer"), 1, 10, 5)
    script_labels = {"original": t("script_original"), "simplified": t("script_simplified"), "traditional": t("script_traditional")}
    script = st.radio(t("show_text_in"), DISPLAY_SCRIPTS, format_func=script_labels.get, horizontal=True)

    st.header(t("filters_header"))
    st.caption(t("filters_hint"))
    chunks = retriever.index.chunks
    chosen_docs = st.multiselect(kinds["doc"], sorted(documents), placeholder=t("filter_all"))
    cases = sorted({c.case for c in chunks if c.case})
    chosen_cases = st.multiselect(kinds["case"], cases, placeholder=t("filter_all")) if cases else []
    chosen_tags = {
        key: st.multiselect(kinds[key], values, placeholder=t("filter_all"))
        for key in ("institution_type", "theme", "scenario")
        if (values := sorted({v for c in chunks for v in tag_values(c, key)}))
    }
    filters = Filters(
        docs=frozenset(chosen_docs), cases=frozenset(chosen_cases),
        institution_types=frozenset(chosen_tags.get("institution_type", ())),
        themes=frozenset(chosen_tags.get("theme", ())), scenarios=frozenset(chosen_tags.get("scenario", ())),
    )
    if filters and retriever.rows(filters.accepts).size == 0:
        described = t("list_separator").join(t("filter_item", kind=kinds[key], value=value) for key, value in filters.items())
        st.warning(t("filters_match_nothing", filters=escape_markdown(described)))

    try:
        if visitors_choose_llm(os.environ, st.get_option("server.address")):
            with st.expander(t("llm_header")):
                st.caption(t("llm_hint"))
                base_url = st.text_input(t("llm_base_url"), value=os.environ.get("LLM_BASE_URL", ""), placeholder="https://api.deepseek.com/v1")
                model = st.text_input(t("llm_model"), value=os.environ.get("LLM_MODEL", ""), placeholder="deepseek-chat")
                typed_key = st.text_input(t("llm_api_key"), type="password", help=t("llm_api_key_help"))
            chat = chat_model(base_url, model, typed_key)
        else:
            chat = operator_chat_model()
    except LlmError as exc:
        st.error(escape_markdown(str(exc)))
        chat = None
    st.caption(t("answers_llm", model=escape_markdown(chat.name)) if chat else t("answers_offline"))

    st.header(t("add_header"))
    uploads = st.file_uploader(t("upload_label"), type=sorted(s.lstrip(".") for s in SUFFIXES), accept_multiple_files=True)
    if st.button(t("add_and_index"), disabled=not uploads, type="primary"):
        add_uploads(uploads, index_dir, t)

    st.header(t("conversation_header"))
    if st.session_state.history:
        stamp = time.strftime("%Y-%m-%d %H:%M")
        st.download_button(t("export_markdown"), conversation_markdown(st.session_state.history, stamp, t), "casebook-conversation.md", "text/markdown")
        word_button(st, t("export_word"), lambda: conversation_docx(st.session_state.history, stamp, t), "casebook-conversation.docx")
    if st.button(t("clear_conversation")):
        st.session_state.history = []
        st.rerun()

st.title(t("title"))
ask_tab, cases_tab, lesson_tab = st.tabs([t("tab_ask"), t("tab_cases"), t("tab_lesson")])

with ask_tab:
    st.caption(t("ask_hint"))
    picked = None
    if not st.session_state.history:
        st.write(t("try_these"))
        examples = {
            "question": (t("example_kind_question"), t("example_question")),
            "lesson": (t("example_kind_lesson"), t("example_lesson")),
            "cases": (t("example_kind_cases"), t("example_cases")),
        }
        for column, (kind, (label, example)) in zip(st.columns(len(examples)), examples.items()):
            with column:
                st.caption(label)
                if st.button(example, key=f"example-{kind}", use_container_width=True):
                    picked = example

    for number, answer in enumerate(st.session_state.history):
        with st.chat_message("user"):
            st.text(answer.question)
        with st.chat_message("assistant"):
            show_answer(answer, number, retriever, script, t)

    question = st.chat_input(t("chat_placeholder"), max_chars=limits.question_chars) or picked
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
                placeholder.caption(t("searching"))
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
    with st.spinner(t("loading_cases")):
        library = load_cases(index_dir, manifest["built_at"], retriever)
    shown = [n for n in library.names if not filters or any(filters.accepts(chunks[r]) for r in library.case(n).rows)]
    unit = t("cases_section") if library.unit == "section" else t("cases_document")
    st.caption(" ".join([unit, t("cases_kept", kept=len(shown), total=len(library.names))]) if filters else unit)
    map_column, table_column = st.columns([3, 2])
    chart_labels = {"case": t("case_label"), "other_case": t("chart_other_case"), "theme": t("colour_theme"),
                    "institution_type": t("colour_institution_type"), "similarity": t("chart_similarity")}
    with map_column:
        colour_by = st.radio(t("colour_by"), ["theme", "institution_type"], format_func=chart_labels.get, horizontal=True)
        st.caption(t("cases_map"))
        event = st.altair_chart(case_map(library, shown, colour_by, chart_labels), on_select="rerun", selection_mode=MAP_SELECTION, key="case-map", width="stretch")
        picked = [p["case"] for p in event.selection.get(MAP_SELECTION, []) if p.get("case") in library.names]
        if picked and picked[0] != st.session_state.get("case-map-picked"):  # a new click, not the one already applied
            st.session_state["case-map-picked"] = st.session_state["case-choice"] = picked[0]
    with table_column:
        st.markdown(f"**{t('cases_counts')}**")
        st.caption(t("cases_counts_note"))
        st.dataframe(theme_type_counts(library, shown, chart_labels), width="stretch")
    case = st.selectbox(t("case_label"), library.names, index=None, key="case-choice", placeholder=t("choose_case"))
    if case:
        st.subheader(t("similar_cases"))
        nearest = show_similar(library, case, filters, script, t)
        st.subheader(t("side_by_side"))
        others = st.multiselect(
            t("compare_with"), [n for n in library.names if n != case],
            default=nearest[:2], max_selections=2, key=f"compare-{case}",
        )
        if others:
            show_comparison(library, [case, *others], filters, script, t)
    if len(shown) > 1:
        st.subheader(t("heatmap"))
        ranked = [case, *(s.case for s in library.similar(case=case, k=HEATMAP_CASES - 1))] if case else shown[:HEATMAP_CASES]
        heat = [n for n in ranked if n in shown][:HEATMAP_CASES]
        st.caption(t("heatmap_note_nearest", n=len(heat)) if case else t("heatmap_note", n=len(heat)))
        st.altair_chart(similarity_heatmap(library, heat, chart_labels), width="stretch")

with lesson_tab:
    st.caption(t("lesson_hint"))
    topic = st.text_input(t("lesson_topic"), placeholder=t("lesson_topic_placeholder"), max_chars=limits.question_chars)
    passages = st.slider(t("key_passages"), 3, 12, LessonSettings.passages)
    if st.button(t("build_lesson"), type="primary", disabled=not topic.strip()):
        with st.spinner(t("collecting_and_asking", model=escape_markdown(chat.name)) if chat else t("collecting")):
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
            left.download_button(t("download_lesson_markdown"), lesson_markdown(pack, stamp, t), "casebook-lesson.md", "text/markdown", use_container_width=True)
            word_button(right, t("download_lesson_word"), lambda: lesson_docx(pack, stamp, t), "casebook-lesson.docx", use_container_width=True)
            st.markdown(f"**{t('key_terms')}** · " + escape_markdown("、".join(in_script(term, script) for term in pack.terms)))
            if pack.plan:
                st.caption(t("outline_by", model=escape_markdown(pack.model)))
                st.markdown(outline_markdown(in_script(pack.plan, script)))
            st.markdown(f"**{t('key_passages')}**")
            for n, hit in enumerate(pack.passages, start=1):
                with st.container(border=True):
                    show_passage(hit.chunk, script, t, f"[{n}]")
