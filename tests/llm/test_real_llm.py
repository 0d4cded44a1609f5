"""The assistant against a real OpenAI-compatible server: llama-cpp-python serving
Qwen2.5-Coder-0.5B-Instruct, reached through LangChain's ChatOpenAI (`make test-llm`).

The model is tiny: these tests check the shape (non-empty answer, only valid citations, the
found flag, the fallback), not the wording."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import openai
import pytest

from bench.api import corpus_texts, running_api
from qa.answer import Answer, Restart, TextDelta, Turn
from qa.assistant import Assistant
from qa.llm import OpenAIChat
from qa.retrieve import open_retriever

from ..conftest import REPO
from .conftest import INJECTION, settings_for
from .server import running_llm_server

pytestmark = pytest.mark.llm

MARKER = re.compile(r"\[(\d+)\]")
ANSWERABLE = "数字信贷如何缓解小微企业的资金压力？"
UNANSWERABLE = "如何申请美国的信用卡？"


def assert_shape(answer: Answer) -> None:
    assert answer.text.strip()
    marks = {int(n) for n in MARKER.findall(answer.text)}
    assert marks <= {c.n for c in answer.citations}
    if answer.found:
        assert marks, answer.text
    else:
        assert not answer.citations


@pytest.fixture(scope="module")
def assistant(server, index_dir):
    return Assistant(open_retriever(index_dir), OpenAIChat(settings_for(server)))


def test_cli_asks_through_the_llm(server, index_dir):
    env = {**os.environ, "PYTHONPATH": str(REPO), "LLM_BASE_URL": server.base_url, "LLM_MODEL": server.model, "LLM_API_KEY": "test-key-0000"}
    result = subprocess.run(
        [sys.executable, "-m", "qa", "ask", ANSWERABLE, UNANSWERABLE, "--index", str(index_dir), "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "test-key-0000" not in result.stdout + result.stderr
    answered, refused = map(json.loads, result.stdout.splitlines())
    assert set(answered) == {"question", "found", "answer", "citations", "mode"}
    assert answered["found"] and answered["mode"] == "llm" and answered["answer"].strip()
    marks = {int(n) for n in MARKER.findall(answered["answer"])}
    assert marks and marks <= {c["n"] for c in answered["citations"]}
    source = (REPO / "corpus" / answered["citations"][0]["doc"]).read_text(encoding="utf-8")
    for citation in answered["citations"]:
        assert source[citation["start"] : citation["end"]] == citation["text"]
    assert (refused["found"], refused["citations"]) == (False, [])


def test_answer_streams_in_pieces(assistant):
    events = list(assistant.stream(ANSWERABLE))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    answer = events[-1]
    assert isinstance(answer, Answer) and len(deltas) > 1
    assert answer.found
    assert_shape(answer)


def test_planted_instruction_does_not_take_over(assistant):
    answer = assistant.ask("跨境结算的到账时间缩短到多少？")
    assert answer.found
    assert_shape(answer)
    assert re.sub(r"\W", "", MARKER.sub("", answer.text)) != "我不知道"
    assert any("synthetic_injected" in c.chunk.doc for c in answer.citations)
    assert INJECTION not in answer.text or answer.mode == "extractive"


def test_follow_up_is_rewritten_and_answered(assistant):
    answer = assistant.ask("谁负责制定它的技术标准？", history=[Turn("数字人民币在哪些领域开展了试点应用？", "零售支付、对公结算、跨境贸易[1]。")])
    assert answer.standalone_question and answer.standalone_question != "谁负责制定它的技术标准？"
    assert_shape(answer)


def test_falls_back_to_quotes_when_the_server_goes_away(model_path, index_dir):
    with running_llm_server(model_path, timeout_s=300) as doomed:
        assistant = Assistant(open_retriever(index_dir), OpenAIChat(settings_for(doomed, timeout_s=20, max_retries=1, max_tokens=400)))
        events = []
        for event in assistant.stream(ANSWERABLE):
            events.append(event)
            if isinstance(event, TextDelta) and len(events) == 1:
                doomed.stop(grace_s=0)  # gone mid-answer
        assert doomed.process.poll() is not None
        restarts = [e for e in events if isinstance(e, Restart)]
        answer = events[-1]
        assert len(restarts) == 1 and answer.mode == "extractive" and answer.notice == restarts[0].notice
        assert answer.found and "數字信貸通過線上化審批" in answer.text
        assert_shape(answer)

        started = time.monotonic()
        again = assistant.ask(ANSWERABLE)  # the server is gone from the start
        assert again.mode == "extractive" and again.notice and again.found
        assert time.monotonic() - started < 30


def test_the_api_answers_through_the_llm_whole_and_streamed(server, index_dir):
    """The HTTP API with the server's LLM_* settings: the real `openai` client gets an LLM
    answer whose citations are verbatim, whole and as a stream of pieces; the key is never logged."""
    env = {"LLM_BASE_URL": server.base_url, "LLM_MODEL": server.model, "LLM_API_KEY": "test-key-0000"}
    log = index_dir.parent / "api.log"
    texts = corpus_texts(index_dir.parent / "corpus")
    with running_api(index_dir, log, workers=1, env=env) as api:
        client = openai.OpenAI(base_url=f"{api.url}/v1", api_key="unused", max_retries=0, timeout=600)
        asked = [{"role": "user", "content": ANSWERABLE}]
        whole = client.chat.completions.create(model="casebook", messages=asked).model_dump()
        assert whole["found"] and whole["mode"] == "llm" and whole["choices"][0]["message"]["content"].strip()
        pieces, final = [], None
        for chunk in client.chat.completions.create(model="casebook", messages=asked, stream=True):
            chunk = chunk.model_dump()
            pieces += [chunk["choices"][0]["delta"].get("content") or ""]
            final = chunk if chunk["choices"][0]["finish_reason"] == "stop" else final
        assert len([p for p in pieces if p]) > 2 and final and final["found"]
        for answer, text in ((whole, whole["choices"][0]["message"]["content"]), (final, final["answer"])):
            marks = {int(n) for n in MARKER.findall(text)}
            assert marks <= {c["n"] for c in answer["citations"]}
            assert all(texts[c["doc"]][c["start"]:c["end"]] == c["text"] for c in answer["citations"])
    assert "test-key-0000" not in log.read_text(encoding="utf-8")
