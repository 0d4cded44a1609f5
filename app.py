"""Streamlit page: ask a question, read the passages that answer it, each with its reference.

Thin by design: state in st.session_state, the retriever in st.cache_resource, everything
else in `qa`. Document text is shown as plain text, never as HTML.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from index.embedder import EmbedderError
from index.store import IndexUnavailable, default_index_dir
from qa.retrieve import open_retriever

st.set_page_config(page_title="數字金融案例助手 · Casebook", page_icon="📚", layout="wide")


@st.cache_resource(show_spinner="Loading the index and the embedding model…")
def retriever(index_dir: str):
    return open_retriever(Path(index_dir))


try:
    search = retriever(str(default_index_dir()))
except (IndexUnavailable, EmbedderError) as exc:
    st.error(str(exc))
    st.stop()

manifest = search.index.manifest
with st.sidebar:
    st.header("Index")
    documents = len(manifest["documents"])
    st.write(f"{documents} document{'s' if documents != 1 else ''} · {manifest['chunks']} passages")
    st.caption(f"Model: {manifest['embedding_model']} · built {manifest['built_at']}")
    top_k = st.slider("Passages per question", 1, 10, 5)

st.title("數字金融創新案例 · search")
st.caption("Ask in simplified or traditional Chinese, or in English. Every passage is quoted verbatim with its reference.")

if "history" not in st.session_state:
    st.session_state.history = []

question = st.chat_input("例如：数字信贷如何缓解小微企业的资金压力？")
if question:
    st.session_state.history.append((question, search.search(question, k=top_k)))

for asked, hits in reversed(st.session_state.history):
    with st.chat_message("user"):
        st.text(asked)
    with st.chat_message("assistant"):
        if not hits:
            st.info("No passage in the corpus matches this question.")
        for hit in hits:
            chunk = hit.chunk
            reference = " › ".join(part for part in (chunk.title, chunk.section) if part)
            page = f" · p. {chunk.page}" if chunk.page else ""
            with st.expander(f"[{hit.rank}] {reference}{page}", expanded=hit.rank == 1):
                st.text(chunk.text)
                st.caption(f"{chunk.doc} · characters {chunk.start}–{chunk.end}")
