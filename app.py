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
from index.store import IndexBusy, IndexUnavailable, default_index_dir
from ingest.formats import SUFFIXES
from ingest.pipeline import ingest
from ingest.uploads import save_upload
from qa.answer import Answer, Restart, TextDelta, Turn
from qa.assistant import Assistant, AssistantSettings
from qa.cases import ROLE_LABELS, CaseLibrary
from qa.chat import LlmError, LlmSettings
from qa.display import DISPLAY_SCRIPTS, escape_markdown, in_script, outline_markdown, reference, supporting_span, tag_label
from qa.export import conversation_docx, conversation_markdown, lesson_docx, lesson_markdown
from qa.filters import Filters, tag_values
from qa.lesson import LessonBuilder, LessonSettings
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

st.set_page_config(page_title="數字金融案例助手 · Casebook", page_icon="📚", layout="wide")


@st.cache_resource(show_spinner="Loading the index and the embedding model…")
def load_retriever(index_dir: str) -> Retriever:
    return open_retriever(Path(index_dir))


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
        st.warning(answer.notice, icon="⚠️")
    for sentence in answer.flagged:
        st.warning(f"Not supported by its cited source: {sentence}")
    mode = "offline · quotes from the sources" if answer.mode == "extractive" else "LLM · checked against its sources"
    st.caption(mode + (f" · searched as: {answer.standalone_question}" if answer.standalone_question else ""))
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


def show_similar(library: CaseLibrary, case: str, filters: Filters, script: str) -> list[str]:
    """The three cases nearest `case`, each with why; returns their names."""
    similar = library.similar(case=case, k=3, where=filters.accepts if filters else None)
    if not similar:
        st.info("No other case matches the filters." if filters else "No other case in the index.")
    for s in similar:
        with st.container(border=True):
            st.markdown(f"**{s.rank}. {escape_markdown(s.case)}** · similarity {s.score:.2f}")
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


def show_comparison(library: CaseLibrary, cases: list[str], script: str) -> None:
    """Rows for background, approach and results; one cited passage per cell."""
    comparison = library.compare(cases)
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
        st.info("None of these cases has 創新背景 / 實施路徑 / 應用成效 sections to line up.")


def chat_model(base_url: str, model: str, api_key: str):
    """The LLM for this session, or None for offline answers. Kept in the session only."""
    settings = LlmSettings.from_env({"LLM_BASE_URL": base_url, "LLM_MODEL": model, "LLM_API_KEY": api_key})
    if settings is None:
        return None
    from qa.llm import OpenAIChat  # LangChain loads only when an LLM is configured

    return OpenAIChat(settings)


index_dir = str(default_index_dir())
try:
    retriever = load_retriever(index_dir)
except (IndexUnavailable, EmbedderError) as exc:
    st.error(str(exc))
    st.info("Add documents to the corpus folder and run `make run` (or `python -m ingest corpus`).")
    st.stop()

st.session_state.setdefault("history", [])
manifest = retriever.index.manifest

with st.sidebar:
    st.header("Index")
    documents = manifest["documents"]
    st.write(f"{len(documents)} document{'s' if len(documents) != 1 else ''} · {manifest['chunks']} passages")
    st.caption(f"Model {manifest['embedding_model']} · built {manifest['built_at']} · corpus folder `{CORPUS_DIR}`")

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
        st.warning(f"No passages match the filters ({filters.describe()}): clear one to see results.")

    with st.expander("LLM (optional)"):
        st.caption("Any OpenAI-compatible server. Empty: offline answers quoted from the sources.")
        base_url = st.text_input("Base URL", value=os.environ.get("LLM_BASE_URL", ""), placeholder="https://api.deepseek.com/v1")
        model = st.text_input("Model", value=os.environ.get("LLM_MODEL", ""), placeholder="deepseek-chat")
        typed_key = st.text_input("API key", type="password", help="Kept in this session's memory only; never saved or logged.")
    try:
        chat = chat_model(base_url.strip(), model.strip(), typed_key or os.environ.get("LLM_API_KEY", ""))
    except LlmError as exc:
        st.error(str(exc))
        chat = None
    st.caption(f"Answers: LLM · {chat.name}" if chat else "Answers: offline, quoted from the sources")

    st.header("Add documents")
    uploads = st.file_uploader(
        "PDF, Word, EPUB, HTML, TXT or Markdown", type=sorted(s.lstrip(".") for s in SUFFIXES), accept_multiple_files=True
    )
    if st.button("Add and index", disabled=not uploads, type="primary"):
        for upload in uploads:
            path, created = save_upload(UPLOAD_DIR, upload.name, upload.getvalue())
            st.caption(f"{'Saved' if created else 'Already in the corpus'}: {path.relative_to(CORPUS_DIR)}")
        bar = st.progress(0.0, text="Reading files…")
        try:
            result = ingest(
                [CORPUS_DIR], Path(index_dir),
                progress=lambda state: bar.progress(state.fraction, text=state.summary()),
            )
        except (IndexBusy, EmbedderError) as exc:
            st.error(f"{exc}. The current index keeps answering.")
        else:
            bar.progress(1.0, text="Done")
            for file in result.files:
                {"indexed": st.success, "skipped": st.info, "error": st.error}[file.status](f"{file.name}: {file.detail}")
            if result.build is None:
                st.error("Nothing could be indexed; the current index keeps answering.")
            else:
                load_retriever.clear()
                st.toast(f"Index updated: {result.changes}")

    st.header("Conversation")
    if st.session_state.history:
        stamp = time.strftime("%Y-%m-%d %H:%M")
        st.download_button("Export Markdown", conversation_markdown(st.session_state.history, stamp), "casebook-conversation.md", "text/markdown")
        st.download_button(
            "Export Word", conversation_docx(st.session_state.history, stamp), "casebook-conversation.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
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

    question = st.chat_input("例如：数字信贷如何缓解小微企业的资金压力？") or picked
    if question:
        assistant = Assistant(retriever, chat, AssistantSettings(passages=top_k))
        history = [Turn(a.question, a.text) for a in st.session_state.history]
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
                    st.warning(event.notice, icon="⚠️")
                else:
                    st.session_state.history.append(event)
        st.rerun()

with cases_tab:
    library = load_cases(index_dir, manifest["built_at"], retriever)
    if not library.names:
        st.info("No cases found in the index: its documents have no case headings (案例一, 第三章, 01 …). Add the book in the sidebar to compare cases.")
    else:
        case = st.selectbox("Case", library.names, index=None, placeholder="Choose a case to see its nearest cases")
        if case:
            st.subheader("Similar cases")
            nearest = show_similar(library, case, filters, script)
            st.subheader("Side by side")
            others = st.multiselect(
                "Compare with (one or two cases)", [n for n in library.names if n != case],
                default=nearest[:2], max_selections=2, key=f"compare-{case}",
            )
            if others:
                show_comparison(library, [case, *others], script)

with lesson_tab:
    st.caption("Key passages on a topic, each quoted with its full reference, key terms and — with an LLM — an outline and discussion questions.")
    topic = st.text_input("Lesson topic", placeholder="例如：數字金融如何支持小微企業融資")
    passages = st.slider("Key passages", 3, 12, LessonSettings.passages)
    if st.button("Build lesson pack", type="primary", disabled=not topic.strip()):
        with st.spinner("Collecting passages" + (f" and asking {chat.name}…" if chat else "…")):
            st.session_state.lesson = LessonBuilder(retriever, chat, LessonSettings(passages=passages)).build(topic.strip(), filters)
    pack = st.session_state.get("lesson")
    if pack is not None:
        st.subheader(pack.topic)
        if pack.notice:
            st.info(pack.notice)
        if pack.passages:
            stamp = time.strftime("%Y-%m-%d %H:%M")
            left, right = st.columns(2)
            left.download_button("Download lesson (Markdown)", lesson_markdown(pack, stamp), "casebook-lesson.md", "text/markdown", use_container_width=True)
            right.download_button(
                "Download lesson (Word)", lesson_docx(pack, stamp), "casebook-lesson.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document", use_container_width=True,
            )
            st.markdown("**Key terms** · " + escape_markdown("、".join(in_script(t, script) for t in pack.terms)))
            if pack.plan:
                st.caption(f"Outline and discussion questions by {pack.model}; [n] refers to the passages below.")
                st.markdown(outline_markdown(in_script(pack.plan, script)))
            st.markdown("**Key passages**")
            for n, hit in enumerate(pack.passages, start=1):
                with st.container(border=True):
                    show_passage(hit.chunk, script, f"[{n}]")
