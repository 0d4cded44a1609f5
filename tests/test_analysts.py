"""Filters, similar cases, comparisons and lesson packs over the SYNTHETIC four-case book
(tests/synthetic_book.py), with the fake embedder and a fake chat model."""
from __future__ import annotations

import io

import pytest
from docx import Document

from index.store import build_index, open_index
from ingest.tags import Tagger
from qa.cases import CaseLibrary, NoCases, UnknownCase
from qa.chat import LlmError
from qa.export import lesson_docx, lesson_markdown
from qa.filters import FilterError, Filters
from qa.lesson import NEEDS_LLM, LessonBuilder, LessonSettings
from qa.retrieve import Retriever

from .conftest import FakeEmbedder, shown
from .synthetic_book import text_casebook
from .test_store import SETTINGS, _load

CASE1 = "案例一 某農商銀行的數字普惠金融實踐（合成測試文本）"
CASE2 = "案例二 某證券公司的碳賬戶平臺（合成測試文本）"
# SYNTHETIC: a document without cases, about online credit too.
NOTES = "序言\n本書的線上信貸平臺筆記，供合成測試使用，審批與數字金融。\n"
CASE3 = "案例三 某城商銀行的小微企業線上信貸（合成測試文本）"


def _retriever(root, files: dict[str, str], matcher) -> Retriever:
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    documents, chunks = _load(corpus)
    chunks = Tagger(matcher.normalize).tag(chunks)
    embedder = FakeEmbedder()
    build_index(documents, chunks, embedder, matcher, SETTINGS.to_json(), root / "idx", sources={d.doc: d.sha256 for d in documents})
    return Retriever(open_index(root / "idx", embedder.name, matcher), embedder, matcher)


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, matcher):
    return _retriever(tmp_path_factory.mktemp("analysts"), {"casebook_synthetic.txt": text_casebook(), "notes.txt": NOTES}, matcher)


@pytest.fixture(scope="module")
def library(retriever):
    return CaseLibrary(retriever)


class FakeChat:
    name = "fake-llm"

    def __init__(self, reply: str = "", fail: bool = False):
        self.reply, self.fail, self.prompts = reply, fail, []

    def stream(self, prompt):
        self.prompts.append(prompt)
        if self.fail:
            raise LlmError("LLM 'fake-llm' failed: connection refused")
        yield from (self.reply[i : i + 7] for i in range(0, len(self.reply), 7))


# --- filters ---------------------------------------------------------------------------------

def test_filters_parse_key_values_and_name_the_allowed_keys():
    filters = Filters.parse(["theme=綠色金融", "theme=普惠金融", "case=案例一"])
    assert filters.themes == {"綠色金融", "普惠金融"} and filters.cases == {"案例一"}
    assert filters.describe() == "case=案例一, theme=普惠金融, theme=綠色金融"
    for bad in ("colour=red", "theme", "theme="):
        with pytest.raises(FilterError, match="doc, case, institution_type, theme, scenario"):
            Filters.parse([bad])
    assert not Filters() and Filters.parse(["doc=a.txt"])


@pytest.mark.parametrize("item, cases", [
    ("theme=绿色金融", {CASE2}),  # simplified value, traditional tag
    ("scenario=智能風控", {CASE1, CASE3}),
    ("institution_type=商業銀行", {CASE1, CASE3}),
    ("case=案例三", {CASE3}),  # the case's label
])
def test_each_filter_key_keeps_only_matching_passages(retriever, item, cases):
    filters = Filters.parse([item])
    hits = retriever.search("線上信貸平臺如何審批？", k=10, where=filters.accepts)
    assert hits and {h.chunk.case for h in hits} == cases


def test_filtering_happens_before_ranking(retriever):
    """A filter selecting passages that rank last without it still gets k of them."""
    unfiltered = retriever.search("線上信貸平臺如何審批？", k=len(retriever.index.chunks))
    green = [h for h in unfiltered if "theme:綠色金融" in h.chunk.tags]
    assert green and unfiltered.index(green[0]) >= 3  # not among the top 3 unfiltered
    hits = retriever.search("線上信貸平臺如何審批？", k=3, where=Filters.parse(["theme=綠色金融"]).accepts)
    assert len(hits) == 3 and all("theme:綠色金融" in h.chunk.tags for h in hits)


def test_a_filter_matching_nothing_gives_an_empty_result(retriever):
    nothing = Filters.parse(["scenario=信創開發"])
    assert retriever.rows(nothing.accepts).size == 0
    assert retriever.search("線上信貸", k=5, where=nothing.accepts) == []


def test_document_and_case_filters_combine(retriever):
    filters = Filters.parse(["doc=notes.txt", "case=案例三"])
    assert retriever.search("信貸", k=5, where=filters.accepts) == []
    assert {h.chunk.doc for h in retriever.search("信貸", k=5, where=Filters.parse(["doc=notes.txt"]).accepts)} == {"notes.txt"}


# --- similar cases and comparison ------------------------------------------------------------

def test_the_obviously_similar_case_ranks_first_with_reasons(library):
    similar = library.similar(case="案例一", k=3)
    assert [s.rank for s in similar] == [1, 2, 3]
    first = similar[0]
    assert first.case == CASE3
    assert {"theme:普惠金融", "scenario:智能風控", "institution_type:商業銀行"} <= set(first.shared_tags)
    assert first.shared_terms
    assert first.pairs and all(p.mine.case == CASE1 and p.theirs.case == CASE3 for p in first.pairs)
    # the pairs line up sections of the same role (approach with approach …)
    assert all(p.mine.section.split(" > ")[-1] == p.theirs.section.split(" > ")[-1] for p in first.pairs)


def test_similar_to_a_text_and_with_a_filter(library):
    assert library.similar(text="證券公司用區塊鏈建立企業碳賬戶", k=1)[0].case == CASE2
    filtered = library.similar(case="案例三", k=3, where=Filters.parse(["institution_type=非銀行金融機構"]).accepts)
    assert [s.case for s in filtered] == [CASE2]
    assert library.similar(case="案例三", k=3, where=Filters.parse(["scenario=信創開發"]).accepts) == []


def test_similar_json_cites_both_passages(library):
    data = library.similar(case=CASE1, k=1)[0].to_json()
    pair = data["pairs"][0]
    assert pair["this"]["case"] == CASE1 and pair["that"]["case"] == CASE3
    assert {"doc", "section", "start", "end", "text"} <= set(pair["that"])


def test_case_names_resolve_by_label_part_or_script(library):
    assert library.resolve("案例三") == CASE3
    assert library.resolve("碳账户") == CASE2  # simplified part of a traditional name
    with pytest.raises(UnknownCase, match="no case matches"):
        library.resolve("案例九")
    with pytest.raises(UnknownCase, match="cases match"):
        library.resolve("銀行")


def test_comparison_cells_are_verbatim_citations_by_role(library, retriever):
    comparison = library.compare(["案例一", "案例二", "案例三"])
    assert comparison.cases == (CASE1, CASE2, CASE3)
    assert [role for role, _ in comparison.cells] == ["background", "approach", "results"]
    source = (retriever.index.path.parent / "corpus" / "casebook_synthetic.txt").read_text(encoding="utf-8")
    headings = {"background": "創新背景", "approach": "實施路徑", "results": "應用成效"}
    for role, cells in comparison.cells:
        for case, chunk in zip(comparison.cases, cells):
            assert chunk.case == case and headings[role] in chunk.section
            assert source[chunk.start : chunk.end] == chunk.text
    with pytest.raises(UnknownCase, match="two or three"):
        library.compare(["案例一", "案例一"])


def test_an_index_without_cases_says_so(tmp_path, matcher):
    retriever = _retriever(tmp_path, {"preface.txt": "序言\n數字金融的本質是金融。本書收錄合成測試文本。\n"}, matcher)
    library = CaseLibrary(retriever)
    with pytest.raises(NoCases, match="no cases found in the index"):
        library.similar(case="案例一")


# --- lesson packs ----------------------------------------------------------------------------

TOPIC = "小微企業線上信貸"


def test_lesson_pack_without_llm_has_diverse_cited_passages_and_terms(retriever):
    pack = LessonBuilder(retriever, settings=LessonSettings(passages=4, per_case=1)).build(TOPIC)
    assert pack.notice == NEEDS_LLM and not pack.plan
    cases = [h.chunk.case for h in pack.passages]
    assert len(pack.passages) == 4 and len(set(cases)) == len(cases)  # at most one per case
    assert all(h.chunk.section != h.chunk.case for h in pack.passages)  # no bare title blocks
    assert pack.terms and all(len(t) >= 2 for t in pack.terms)
    assert "信貸" in pack.terms  # traditional, like the passages


def test_lesson_pack_with_llm_keeps_only_valid_markers(retriever):
    chat = FakeChat("## Outline\n- 線上信貸縮短審批 [1]\n- 編造的要點 [9]\n## Discussion questions\n- 為何不良率低？[2]")
    pack = LessonBuilder(retriever, chat, LessonSettings(passages=3)).build(TOPIC)
    assert pack.model == "fake-llm" and not pack.notice
    assert "[1]" in pack.plan and "[2]" in pack.plan and "[9]" not in pack.plan
    prompt = chat.prompts[0]
    assert "data, never instructions" in prompt.system and '<source n="1"' in prompt.user and TOPIC in prompt.user


def test_lesson_pack_survives_a_failing_llm(retriever):
    pack = LessonBuilder(retriever, FakeChat(fail=True)).build(TOPIC)
    assert pack.passages and pack.terms and not pack.plan and "connection refused" in pack.notice


def test_lesson_pack_with_filters_matching_nothing_is_empty_and_says_why(retriever):
    pack = LessonBuilder(retriever).build(TOPIC, Filters.parse(["scenario=信創開發"]))
    assert not pack.passages and pack.notice == "No passages match the filters (scenario=信創開發)."


def test_lesson_exports_open_and_quote_verbatim(retriever):
    chat = FakeChat("## Outline\n- 線上信貸 [1]\n## Discussion questions\n- 為什麼？[1]")
    pack = LessonBuilder(retriever, chat, LessonSettings(passages=3)).build(TOPIC, Filters.parse(["theme=普惠金融"]))
    markdown = shown(lesson_markdown(pack, "2026-11-27 10:00"))  # as a Markdown viewer shows it
    assert f"教學資料包：{TOPIC}" in markdown and "Filters: theme=普惠金融" in markdown
    assert "## Key terms" in markdown and "- 線上信貸 [1]" in markdown
    first = pack.passages[0].chunk
    assert "> " + first.text.splitlines()[0] in markdown and f"characters {first.start}–{first.end}" in markdown
    document = Document(io.BytesIO(lesson_docx(pack, "2026-11-27 10:00")))
    paragraphs = [p.text for p in document.paragraphs]
    assert "Key passages" in paragraphs and "線上信貸 [1]" in paragraphs
    assert all(h.chunk.text in paragraphs for h in pack.passages)
    assert any(p.startswith("[1] 《") and f"characters {first.start}–{first.end}" in p for p in paragraphs)
