"""Question limits (issue 19): one module, checked before any embedding at every door. Here the
Python API (Assistant, LessonBuilder, CaseLibrary, Filters) with the fake embedder over the
SYNTHETIC corpus; the CLI, the app and the HTTP API have their own tests (test_cli.py,
test_app.py, tests/test_server.py)."""
from __future__ import annotations

import pytest

from qa.answer import Turn
from qa.assistant import Assistant
from qa.cases import CaseLibrary
from qa.filters import FilterError, Filters
from qa.lesson import LessonBuilder
from qa.limits import InputRefused, Limits, LimitsConfigError
from qa.retrieve import Retriever

from .conftest import FakeEmbedder
from .synthetic_book import text_casebook
from .test_analysts import _retriever

LIMITS = Limits(question_chars=40)
BLANKS = ["", "   ", "\n\t", "？？？", "...!!", "——、。", "🙂🙂"]


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, matcher) -> Retriever:
    return _retriever(tmp_path_factory.mktemp("limits"), {"casebook_synthetic.txt": text_casebook()}, matcher)


@pytest.fixture
def counting(retriever) -> Retriever:
    """The same index with a fresh embedder whose calls are counted."""
    return Retriever(retriever.index, FakeEmbedder(), retriever.matcher)


@pytest.mark.parametrize("text", BLANKS)
def test_blank_or_punctuation_only_is_refused(text):
    with pytest.raises(InputRefused) as caught:
        Limits().text(text)
    assert caught.value.reason == "blank"


@pytest.mark.parametrize("text", ["農戶", "AI?", "2025", "what is 普惠金融"])
def test_short_real_questions_pass_unchanged(text):
    assert Limits().text(text) == text


@pytest.mark.parametrize(
    "text, words",
    [("数字金融" * 11, ["问题太长", "44 个字符", "40 个字符以内"]),
     ("數字金融" * 11, ["問題太長", "44 個字元", "40 個字元以內"]),
     ("digital finance " * 3, ["question is too long", "48 characters", "at most 40"])],
)
def test_too_long_is_refused_in_the_questions_script(text, words):
    with pytest.raises(InputRefused) as caught:
        LIMITS.text(text)
    assert caught.value.reason == "too_long" and caught.value.limit == 40
    assert all(w in caught.value.message for w in words), caught.value.message


def test_blank_refusal_names_the_kind_of_text():
    with pytest.raises(InputRefused, match="lesson topic"):
        Limits().text(" ", "topic")
    with pytest.raises(InputRefused, match="案例描述"):
        LIMITS.text("證券公司" * 20, "text")


def test_exactly_at_the_limit_passes():
    assert LIMITS.text("数" * 40) == "数" * 40


def test_limit_from_the_environment():
    assert Limits.from_env({}).question_chars == Limits().question_chars
    assert Limits.from_env({"MAX_QUESTION_CHARS": " 300 "}).question_chars == 300
    for bad in ("many", "0", "-5"):
        with pytest.raises(LimitsConfigError, match="MAX_QUESTION_CHARS"):
            Limits.from_env({"MAX_QUESTION_CHARS": bad})


def test_server_settings_from_the_environment(tmp_path):
    from qa.server import ServerSettings

    settings = ServerSettings.from_env({"INDEX_DIR": str(tmp_path), "API_TOKEN": "t", "MAX_REQUEST_BYTES": "2048", "MAX_QUESTION_CHARS": "50"})
    assert (settings.index_dir, settings.token, settings.max_request_bytes, settings.limits.question_chars) == (tmp_path, "t", 2048, 50)
    for bad in ("big", "100"):
        with pytest.raises(LimitsConfigError, match="MAX_REQUEST_BYTES"):
            ServerSettings.from_env({"MAX_REQUEST_BYTES": bad})


def test_history_keeps_the_last_turns_cut_to_their_caps():
    limits = Limits(question_chars=10, history_turns=2, history_answer_chars=5)
    turns = [Turn(f"问题{i}" * 10, "答" * 50) for i in range(5)]
    kept = limits.history(turns)
    assert [t.question for t in kept] == [("问题3" * 10)[:10], ("问题4" * 10)[:10]]
    assert all(t.answer == "答" * 5 for t in kept)


def test_filters_cap_count_and_value_length():
    limits = Limits(filter_values=2, filter_value_chars=8)
    assert Filters.parse(["theme=綠色金融", "doc=a.txt"], limits)
    with pytest.raises(FilterError, match="too many filters"):
        Filters.parse(["doc=a", "doc=b", "doc=c"], limits)
    with pytest.raises(FilterError, match="too long"):
        Filters.parse(["doc=" + "x" * 9], limits)


def test_assistant_refuses_before_embedding(counting):
    assistant = Assistant(counting, limits=LIMITS)
    for question in ("数字金融" * 25_000, "   ", "？！"):
        with pytest.raises(InputRefused):
            assistant.ask(question)
        with pytest.raises(InputRefused):
            assistant.search(question)
        with pytest.raises(InputRefused):
            next(assistant.stream(question))
    assert counting.embedder.calls == 0


def test_assistant_answers_a_question_at_the_limit_and_caps_the_history(counting):
    assistant = Assistant(counting, limits=Limits(question_chars=60, history_turns=1))
    question = ("小微企業線上信貸如何審批？" * 10)[:60]
    answer = assistant.ask(question, history=[Turn("碳賬戶" * 100, "…")] * 30)
    assert answer.question == question and counting.embedder.calls > 0
    assert len(assistant.search(question, k=2)) == 2


def test_lesson_topic_and_case_description_are_checked(counting):
    with pytest.raises(InputRefused, match="lesson topic"):
        LessonBuilder(counting, limits=LIMITS).build("  ")
    with pytest.raises(InputRefused, match="too long"):
        LessonBuilder(counting, limits=LIMITS).build("green finance " * 5)
    library = CaseLibrary(counting, limits=LIMITS)
    calls = counting.embedder.calls
    with pytest.raises(InputRefused, match="案例描述"):
        library.similar(text="證券公司用區塊鏈建立碳賬戶" * 4)
    with pytest.raises(InputRefused):
        library.similar(text="。")
    assert counting.embedder.calls == calls
    assert library.similar(text="證券公司用區塊鏈建立碳賬戶", k=1)
