"""Streamlit app: ask the casebook, read cited answers, open each source in context, add
documents, export the conversation.

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
from qa.assistant import Assistant, AssistantSettings, Filters
from qa.chat import LlmError, LlmSettings
from qa.display import DISPLAY_SCRIPTS, escape_markdown, in_script, reference, supporting_span
from qa.export import conversation_docx, conversation_markdown
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
    chosen_docs = st.multiselect("Documents", sorted(documents), placeholder="All documents")
    cases = sorted({c.case for c in retriever.index.chunks if c.case})
    chosen_cases = st.multiselect("Cases", cases, placeholder="All cases") if cases else []
    script = st.radio("Show text in", DISPLAY_SCRIPTS, format_func=SCRIPT_LABELS.get, horizontal=True)

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
                progress=lambda done, total: bar.progress(done / total if total else 1.0, text=f"Embedding {done}/{total} new passages"),
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
st.caption("Ask in simplified or traditional Chinese, or in English. Every claim cites the passage it comes from.")

typed = st.chat_input("例如：数字信贷如何缓解小微企业的资金压力？")  # pinned to the bottom wherever it is called
picked = None
if not st.session_state.history and not typed:
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

question = typed or picked
if question:
    assistant = Assistant(retriever, chat, AssistantSettings(passages=top_k))
    filters = Filters(docs=frozenset(chosen_docs), cases=frozenset(chosen_cases))
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
