"""The app as an attacker meets it, through AppTest with the real model (slow): the operator's
API key never reaches a URL a visitor typed, and off a loopback address a visitor cannot type
one; text planted in a model reply or a server error never becomes a link or an image; uploads are capped and refused ones removed; exporting a
passage with control characters works. The LLM is `tests/stub_llm.py` (exact planted text);
the real llama-cpp server is exercised by `tests/llm`."""
import re

import pytest
from markdown_it import MarkdownIt

from .conftest import indexed_library, shown, start_app
from .stub_llm import stub_llm

pytestmark = pytest.mark.slow

QUESTION = "數字金融如何推動綠色消費？"
SUPPORTED = "數字錢包、移動支付等工具的應用,推動了綠色消費的普及[1]。"
PLANTED = "![x](http://127.0.0.1:9/x) [click](http://127.0.0.1:9/c) <img src=http://127.0.0.1:9/i> www.example.com http://127.0.0.1:9/a"
OPERATOR_KEY = "sk-operator-secret-0001"
# SYNTHETIC, written for these tests: a passage holding a form feed and a vertical tab.
CONTROL_TEXT = "合成測試文本：某銀行\f為老年客戶提供\x0b線上養老金賬戶服務，審批時間從三天縮短到三分鐘。\n"


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return indexed_library(tmp_path_factory.mktemp("hardening"), {"control_synthetic.txt": CONTROL_TEXT})


@pytest.fixture
def start(library, monkeypatch):
    def started(**env):
        app = start_app(monkeypatch, library / "index", library / "corpus", **env)
        assert not app.exception
        return app

    return started


def llm_inputs(app):
    inputs = {t.label: t for t in app.sidebar.text_input}
    return inputs["Base URL"], inputs["Model"], inputs["API key"]


def answering(messages):
    return SUPPORTED


def test_the_operators_key_goes_only_to_the_operators_url(start):
    with stub_llm(answering) as operator, stub_llm(answering) as visitor:
        app = start(LLM_BASE_URL=operator.base_url, LLM_MODEL="m", LLM_API_KEY=OPERATOR_KEY)
        app.chat_input[0].set_value(QUESTION).run()
        assert operator.authorizations and set(operator.authorizations) == {f"Bearer {OPERATOR_KEY}"}

        url, _, key = llm_inputs(app)
        url.set_value(visitor.base_url).run()
        app.chat_input[0].set_value(QUESTION).run()
        assert not app.exception and visitor.authorizations  # the visitor's server was asked …
        assert not any(OPERATOR_KEY in header for header in visitor.authorizations)  # … without the operator's key

        key.set_value("sk-visitor-0002").run()
        app.chat_input[0].set_value(QUESTION).run()
        assert visitor.authorizations[-1] == "Bearer sk-visitor-0002"
        assert not any(OPERATOR_KEY in header for header in visitor.authorizations)



def test_an_app_open_to_the_network_lets_no_visitor_choose_the_llm(start):
    """Off a loopback address (AppTest has none) and with APP_VISITOR_LLM unset, the page has no
    fields for an LLM: nobody with the page can make the server request a URL of their choice.
    The operator's LLM answers."""
    with stub_llm(answering) as operator:
        app = start(APP_VISITOR_LLM="", LLM_BASE_URL=operator.base_url, LLM_MODEL="m", LLM_API_KEY=OPERATOR_KEY)
        assert not app.sidebar.text_input
        assert "Answers: LLM · m" in " ".join(shown(c.value) for c in app.sidebar.caption)
        app.chat_input[0].set_value(QUESTION).run()
        assert not app.exception and set(operator.authorizations) == {f"Bearer {OPERATOR_KEY}"}

_MARKDOWN = MarkdownIt("commonmark")
# What GFM (Streamlit's renderer) would turn into a link even without Markdown syntax.
_AUTOLINK_LITERAL = re.compile(r"(?<!\\)(?:https?://|www\.)", re.IGNORECASE)


def rendered_links(app) -> list[str]:
    """Every Markdown-rendered string on the page that would become a link, an image or HTML."""
    values = [e.value for kind in ("markdown", "caption", "warning", "info", "error", "success", "subheader", "toast") for e in app.get(kind)]
    return [v for v in values if re.search(r"<a |<img", _MARKDOWN.render(v)) or _AUTOLINK_LITERAL.search(v)]


def planting(messages):
    prompt = messages[-1]["content"]
    if "Standalone question:" in prompt:
        return f"{PLANTED} 綠色消費？"
    if "Lesson topic:" in prompt:
        return 500, f"server says {PLANTED}"
    return f"{SUPPORTED}{PLANTED} 這句話在來源裡找不到任何支持的內容[1]。"


def test_planted_links_and_images_in_model_and_server_text_stay_text(start):
    with stub_llm(planting) as server:
        app = start(LLM_BASE_URL=server.base_url, LLM_MODEL="m")
        app.chat_input[0].set_value(QUESTION).run()
        app.chat_input[0].set_value("它还推动了什么？").run()  # a follow-up: the model's rewrite is shown
        assert not app.exception
        shown = "\n".join(e.value for kind in ("markdown", "caption", "warning") for e in app.get(kind))
        assert "click" in shown and "searched as" in shown and "Not supported" in shown  # the planted text is on the page …
        assert rendered_links(app) == []  # … as text

        next(t for t in app.text_input if t.label == "Lesson topic").set_value("綠色消費").run()
        next(b for b in app.button if b.label == "Build lesson pack").click().run()
        assert not app.exception and any("click" in i.value for i in app.info)  # the server's error text …
        assert rendered_links(app) == []  # … as text


def test_a_cited_passage_with_control_characters_exports_to_word(start):
    app = start()
    app.chat_input[0].set_value("某銀行為老年客戶提供什麼線上服務？").run()
    assert not app.exception and any("control_synthetic.txt" in c.value for c in app.code)
    assert "Export Word" in [b.label for b in app.sidebar.get("download_button")]


def test_a_failing_word_export_is_a_message_beside_the_button(start, monkeypatch):
    import docx

    def broken():
        raise ValueError("planted failure")

    monkeypatch.setattr(docx, "Document", broken)
    app = start()
    app.chat_input[0].set_value(QUESTION).run()
    assert not app.exception
    assert "Export Markdown" in [b.label for b in app.sidebar.get("download_button")]
    assert any("could not be built" in e.value and "planted failure" in e.value for e in app.sidebar.error)

def test_uploads_over_the_cap_are_not_saved_and_refused_ones_are_removed(start, library):
    app = start()
    app.sidebar.get("file_uploader")[0].set_value([
        ("huge.txt", b"x" * (50 * 2**20 + 1), "text/plain"),
        ("broken.txt", b"\x00\x01binary\x00" * 20, "text/plain"),
    ]).run()
    next(b for b in app.sidebar.button if b.label == "Add and index").click().run()
    assert not app.exception
    uploads = library / "corpus" / "uploads"
    assert not (uploads / "huge.txt").exists() and any("huge.txt: larger than the 50 MB limit" in shown(e.value) for e in app.sidebar.error)
    assert any("broken.txt" in shown(e.value) and "binary" in e.value for e in app.sidebar.error)
    assert not (uploads / "broken.txt").exists() and any("Removed from the corpus" in i.value and "broken.txt" in shown(i.value) for i in app.sidebar.info)


def test_files_beyond_the_per_upload_cap_are_named_and_not_saved(start, library):
    app = start(MAX_UPLOAD_FILES="1")
    app.sidebar.get("file_uploader")[0].set_value([
        ("first_synthetic.txt", "合成測試文本：某銀行推出了線上養老金賬戶服務。\n".encode(), "text/plain"),
        ("second_synthetic.txt", "合成測試文本：某證券公司上線了碳賬戶平臺。\n".encode(), "text/plain"),
    ]).run()
    next(b for b in app.sidebar.button if b.label == "Add and index").click().run()
    assert not app.exception
    uploads = library / "corpus" / "uploads"
    assert (uploads / "first_synthetic.txt").exists() and not (uploads / "second_synthetic.txt").exists()
    assert any("At most 1 files per upload" in e.value and "second_synthetic.txt" in shown(e.value) for e in app.sidebar.error)
