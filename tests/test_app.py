"""The Streamlit app through AppTest, with the real bundled model (slow): ask, open a citation,
filter, switch script, upload good and bad files, export, a broken LLM URL, similar cases and
a comparison, a lesson pack."""
import re
from dataclasses import asdict

import pytest

from qa.i18n import messages
from qa.language import PHRASES

from .conftest import SYNTHETIC_SIMPLIFIED_GREEN, SYNTHETIC_TRADITIONAL, indexed_library, shown, start_app
from .synthetic_book import text_casebook

pytestmark = pytest.mark.slow

QUESTION = "數字金融如何推動綠色消費？"


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """The real default corpus plus SYNTHETIC case files (two short ones and a four-case book), indexed once."""
    return indexed_library(tmp_path_factory.mktemp("app"), {
        "case1_synthetic.txt": SYNTHETIC_TRADITIONAL, "case2_synthetic.txt": SYNTHETIC_SIMPLIFIED_GREEN,
        "casebook_synthetic.txt": text_casebook(),
    })


@pytest.fixture
def app(library, monkeypatch):
    started = start_app(monkeypatch, library / "index", library / "corpus")
    assert not started.exception
    return started


def markdown_text(app) -> str:
    return "\n".join(m.value for m in app.markdown)


def test_empty_state_offers_examples_for_three_kinds_of_users(app):
    assert len([b for b in app.button if b.key and b.key.startswith("example-")]) == 3
    assert "Answers: offline" in " ".join(c.value for c in app.sidebar.caption)


def test_asking_shows_a_cited_answer_and_opens_its_source(app):
    app.chat_input[0].set_value(QUESTION).run()
    assert not app.exception
    assert "推動了綠色消費的普及" in markdown_text(app) and "[1]" in markdown_text(app)
    sources = app.radio(key="source-0")
    assert sources.value == 1
    assert ":orange-background[" in markdown_text(app)  # the supporting sentence, highlighted
    assert any("characters" in c.value and "》" in c.value for c in app.code)  # copyable reference
    assert [b.label for b in app.sidebar.get("download_button")] == ["Export Markdown", "Export Word"]


def test_a_refusal_offers_the_closest_passages_without_citing_them(app):
    app.chat_input[0].set_value("红烧肉应该怎么做？").run()
    assert not app.exception
    assert PHRASES["hans"].not_found in markdown_text(app)
    assert not [r for r in app.radio if r.key == "source-0"]  # no sources to open: nothing is cited
    captions = [c.value for c in app.caption]
    assert messages("en")("mode_refused") in captions and not [c for c in captions if c.startswith(messages("en")("mode_extractive"))]  # nothing was quoted
    [closest] = [e for e in app.expander if e.label == messages("en")("nearest_passages")]
    assert len(closest.markdown) == 3 and all(c.value.startswith("《") for c in closest.caption)


def test_opening_another_citation_shows_its_passage(app):
    app.chat_input[0].set_value("How does digital finance help small businesses get loans?").run()
    sources = app.radio(key="source-0")
    assert len(sources.options) >= 2
    sources.set_value(2).run()
    assert any(m.value.startswith("**[2]** 《") for m in app.markdown)
    assert not any(m.value.startswith("**[1]** 《") for m in app.markdown)


def test_simplified_display_keeps_the_verbatim_source(app):
    app.sidebar.radio[0].set_value("simplified").run()
    app.chat_input[0].set_value(QUESTION).run()
    assert "推动了绿色消费的普及" in markdown_text(app)
    assert any("推動了綠色消費的普及" in t.value for t in app.text)  # verbatim, traditional


def test_document_filter_applies_before_ranking(app):
    app.sidebar.multiselect[0].set_value(["case2_synthetic.txt"]).run()
    app.chat_input[0].set_value("區塊鏈如何記錄能耗數據？").run()
    cited = [c.value for c in app.code]
    assert cited and all("case2_synthetic.txt" in c for c in cited)


def test_uploads_are_saved_safely_and_indexed_with_a_report(app, library):
    app.sidebar.get("file_uploader")[0].set_value([
        ("../../養老金融_synthetic.txt", "合成測試：某銀行為老年客戶提供線上養老金賬戶服務。".encode("utf-8"), "text/plain"),
        ("broken.txt", b"\x00\x01binary\x00" * 20, "text/plain"),
    ]).run()
    next(b for b in app.sidebar.button if b.label == "Add and index").click().run()
    assert not app.exception
    assert (library / "corpus" / "uploads" / "養老金融_synthetic.txt").exists()
    assert any("uploads/養老金融_synthetic.txt" in shown(s.value) for s in app.sidebar.success)
    assert any("broken.txt" in shown(e.value) and "binary" in e.value for e in app.sidebar.error)
    app.chat_input[0].set_value("某銀行為老年客戶提供了什麼線上服務？").run()
    assert any("uploads/養老金融_synthetic.txt" in c.value for c in app.code)


def test_broken_llm_url_falls_back_to_quotes_with_a_notice(app):
    llm_inputs = app.sidebar.text_input
    llm_inputs[0].set_value("http://127.0.0.1:9/v1")
    llm_inputs[1].set_value("any-model").run()
    assert "Answers: LLM · any-model" in " ".join(shown(c.value) for c in app.sidebar.caption)
    app.chat_input[0].set_value(QUESTION).run()
    assert not app.exception
    assert app.warning and "推動了綠色消費的普及" in markdown_text(app)
    assert app.radio(key="source-0").value == 1


CASE1 = "案例一 某農商銀行的數字普惠金融實踐（合成測試文本）"
CASE3 = "案例三 某城商銀行的小微企業線上信貸（合成測試文本）"


def test_a_case_shows_its_nearest_cases_and_a_cited_comparison(app):
    app.selectbox[0].set_value(CASE1).run()  # click 1: the case
    assert not app.exception
    ranked = [m.value for m in app.markdown if m.value.startswith("**1. ") or m.value.startswith("**2. ") or m.value.startswith("**3. ")]
    assert len(ranked) == 3 and "案例三 某城商銀行" in ranked[0]
    compare = next(m for m in app.multiselect if m.label.startswith("Compare with"))
    assert len(compare.value) == 2 and "案例三" in compare.value[0]  # click 2 is already made: the two nearest
    text = markdown_text(app)
    assert all(label in text for label in ("創新背景 background", "實施路徑 approach", "應用成效 results"))
    references = [c.value for c in app.caption if "characters" in c.value]
    assert any("案例三" in r and "實施路徑" in r for r in references)


def test_cases_tab_maps_counts_and_exports_and_its_comparison_honours_the_filters(app):
    assert any(c.value.startswith("Each case is a case section") for c in app.caption)
    assert [e.type for e in app.main if e.type == "vega_lite_chart"] == ["vega_lite_chart"] * 2  # the map and the heatmap
    counts = app.dataframe[0].value
    assert counts.loc["普惠金融", "商業銀行"] >= 2
    app.selectbox[0].set_value(CASE1).run()
    assert [b.label for b in app.get("download_button")].count("Download Excel") == 2  # similar cases and comparison
    next(m for m in app.sidebar.multiselect if m.label == "Cases").set_value([CASE1]).run()  # a filter the other cases fail
    assert not app.exception
    assert any("No other case matches the filters" in i.value for i in app.info)
    assert any("Filters keep 1 of" in c.value for c in app.caption)
    compare = next(m for m in app.multiselect if m.label.startswith("Compare with"))
    compare.set_value([CASE3]).run()
    assert any("No section of this kind in this case" in c.value for c in app.caption)  # 案例三's passages are filtered out
    assert not [c.value for c in app.caption if "characters" in c.value and "案例三" in c.value]


def test_lesson_pack_without_llm_exports_markdown_and_word(app):
    next(t for t in app.text_input if t.label == "Lesson topic").set_value("小微企業線上信貸").run()
    next(b for b in app.button if b.label == "Build lesson pack").click().run()
    assert not app.exception
    assert any("需要大型語言模型" in i.value for i in app.info)  # the topic's script, like answers
    labels = [b.label for b in app.get("download_button")]
    assert "Download lesson (Markdown)" in labels and "Download lesson (Word)" in labels
    assert any(c.value.startswith("\\[1\\]") or c.value.startswith("[1]") for c in app.caption)


def test_filters_that_match_nothing_say_so(app):
    kinds = next(m for m in app.sidebar.multiselect if m.label == "Institution types")
    kinds.set_value(["科技企業"]).run()
    next(m for m in app.sidebar.multiselect if m.label == "Themes").set_value(["綠色金融"]).run()
    assert any("No passages match the filters" in w.value for w in app.sidebar.warning)
    app.chat_input[0].set_value("區塊鏈如何記錄能耗數據？").run()
    assert not app.exception and not app.code  # nothing cited


def test_missing_index_is_a_clear_error(tmp_path, monkeypatch):
    app = start_app(monkeypatch, tmp_path / "none", timeout=60)
    assert "no index at" in app.error[0].value


# ---- the interface language (issue 16)

def started(library, monkeypatch, locale):
    """The app as a browser with `locale` (navigator.language) first opens it."""
    app = start_app(monkeypatch, library / "index", library / "corpus", locale=locale)
    assert not app.exception
    return app


def _strings(message, visible=("label", "body", "placeholder", "help", "options", "content")):
    for field, value in message.ListFields():
        if field.type == field.TYPE_MESSAGE:
            for item in value if field.is_repeated else [value]:
                yield from _strings(item)
        elif field.type == field.TYPE_STRING and field.name in visible:
            yield from value if field.is_repeated else [value]


def page_text(node) -> list[str]:
    """Every string the page shows: labels, bodies, placeholders, help, options, tab names."""
    found = list(_strings(node.proto)) if getattr(node, "proto", None) is not None else []
    for child in getattr(node, "children", {}).values():
        found += page_text(child)
    return found


def latin_words(*texts: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{2,}", " ".join(texts)))


@pytest.mark.parametrize(("locale", "language"), [("zh-TW", "zh-Hant"), ("zh-CN", "zh-Hans")])
def test_chinese_interface_shows_no_english_fallback(library, monkeypatch, locale, language):
    """Start page, an answer with its source open, a case with similar cases and a comparison,
    and a lesson pack: every Latin word on the page is one the catalog's Chinese text itself
    uses (PDF, Word, API …) or comes from the indexed documents and the index's settings."""
    t = messages(language)
    app = started(library, monkeypatch, locale)
    assert app.title[0].value == t("title") and [tab.label for tab in app.tabs] == [t("tab_ask"), t("tab_cases"), t("tab_lesson")]
    next(b for b in app.button if b.key == "example-question").click().run()
    assert app.radio(key="source-0").label == t("sources")
    app.selectbox[0].set_value(CASE1).run()
    next(ti for ti in app.text_input if ti.label == t("lesson_topic")).set_value("小微企業線上信貸").run()
    next(b for b in app.button if b.label == t("build_lesson")).click().run()
    assert not app.exception and app.get("download_button")
    corpus = library / "corpus"
    data = [p.read_text(encoding="utf-8") + str(p.relative_to(corpus)) for p in corpus.rglob("*.txt")]
    allowed = latin_words(
        *t.texts.values(), *data, (library / "index" / "manifest.json").read_text(encoding="utf-8"), str(corpus),
        "https://api.deepseek.com/v1 deepseek-chat",  # technical examples in the LLM fields, typed as shown
    )
    allowed |= latin_words(messages("en")("language_name"))  # the selector names each language in itself
    allowed |= latin_words(*(text for script in ("hant", "hans") for text in map(str, asdict(PHRASES[script]).values())))  # answers' own Chinese wording
    shown = [re.sub(r":orange-background\[", "", s) for s in page_text(app._tree)]  # the highlight's markup
    stray = {word: [s for s in shown if word in s][:2] for word in latin_words(*shown) - allowed}
    assert not stray, f"English on the {language} page: {stray}"


def test_language_follows_the_browser_then_the_sidebar_choice(library, monkeypatch):
    app = started(library, monkeypatch, "en-GB")
    assert app.title[0].value == messages("en")("title")
    app.button_group(key="language").set_value("zh-Hant").run()
    assert app.title[0].value == messages("zh-Hant")("title")
    assert app.sidebar.header[0].value == messages("zh-Hant")("index_header")
    next(b for b in app.button if b.key == "example-question").click().run()  # the choice lasts the session
    assert app.title[0].value == messages("zh-Hant")("title")
    assert [b.label for b in app.sidebar.get("download_button")] == [messages("zh-Hant")("export_markdown"), messages("zh-Hant")("export_word")]
    assert started(library, monkeypatch, "zh-SG").title[0].value == messages("zh-Hans")("title")
def test_blank_questions_are_refused_and_long_ones_capped_by_the_chat_box(app):
    """Issue 19: a blank or punctuation-only question gets a message and is never answered; the
    chat box itself caps a question at the limit (Streamlit cuts a longer value to max_chars)."""
    assert app.chat_input[0].max_chars == 1000
    app.chat_input[0].set_value("？？").run()
    assert not app.exception and "blank or punctuation-only" in app.warning[0].value
    assert not app.chat_message and not app.code  # nothing asked, nothing cited
    app.chat_input[0].set_value("數字金融" * 300).run()
    assert not app.exception
    assert [len(a.question) for a in app.session_state.history] == [1000]
