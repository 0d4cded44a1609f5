"""Filters, similar cases, comparisons and lesson packs over the SYNTHETIC four-case book
(tests/synthetic_book.py), with the fake embedder and a fake chat model."""
from __future__ import annotations

import io

import pytest
from docx import Document

from index.store import build_index, open_index
from ingest.tags import Tagger
from qa.cases import CaseLibrary, UnknownCase
from qa.chat import LlmError
from qa.export import lesson_docx, lesson_markdown
from qa.filters import FilterError, Filters
from qa.language import PHRASES
from qa.lesson import LessonBuilder, LessonSettings
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


def test_an_index_without_case_headings_has_its_documents_as_cases(tmp_path, matcher):
    """SYNTHETIC one-case-per-file folder: each document is a case, named by its file."""
    files = {
        "bank_synthetic.txt": "某城商銀行的小微企業線上信貸平臺，整合稅務數據審批貸款（合成測試文本）。\n",
        "farm_synthetic.txt": "某農商銀行為農戶提供線上信貸，稅務與社保數據審批貸款（合成測試文本）。\n",
        "carbon_synthetic.txt": "某證券公司用區塊鏈建立企業碳賬戶，承銷綠色債券（合成測試文本）。\n",
    }
    library = CaseLibrary(_retriever(tmp_path, files, matcher))
    assert library.unit == "document" and sorted(library.names) == sorted(files)
    assert library.resolve("carbon_synthetic") == "carbon_synthetic.txt"
    similar = library.similar(case="bank_synthetic.txt", k=2)
    assert [s.case for s in similar] == ["farm_synthetic.txt", "carbon_synthetic.txt"]
    assert similar[0].score > similar[1].score and all(0 <= s.score <= 100 for s in similar)
    assert similar[0].to_json()["score"] == round(similar[0].score, 1)


# --- lesson packs ----------------------------------------------------------------------------

TOPIC = "小微企業線上信貸"


def test_lesson_pack_without_llm_has_diverse_cited_passages_and_terms(retriever):
    pack = LessonBuilder(retriever, settings=LessonSettings(passages=4, per_case=1)).build(TOPIC)
    assert pack.notice == PHRASES["hant"].lesson_needs_llm and not pack.plan
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


def test_lesson_notices_follow_the_topics_script(retriever):
    for topic, script in (("小微企业线上信贷", "hans"), ("online lending to small businesses", "en")):
        assert LessonBuilder(retriever, settings=LessonSettings(passages=2)).build(topic).notice == PHRASES[script].lesson_needs_llm


def test_lesson_pack_with_filters_matching_nothing_is_empty_and_says_why(retriever):
    pack = LessonBuilder(retriever).build(TOPIC, Filters.parse(["scenario=信創開發"]))
    assert not pack.passages and pack.notice == "沒有段落符合篩選條件（scenario=信創開發）。"


def test_lesson_exports_open_and_quote_verbatim(retriever):
    chat = FakeChat("## Outline\n- 線上信貸 [1]\n## Discussion questions\n- 為什麼？[1]")
    pack = LessonBuilder(retriever, chat, LessonSettings(passages=3)).build(TOPIC, Filters.parse(["theme=普惠金融"]))
    markdown = shown(lesson_markdown(pack, "2026-11-27 10:00"))  # as a Markdown viewer shows it
    assert f"Lesson pack: {TOPIC}" in markdown and "Filters: theme=普惠金融" in markdown
    assert "## Key terms" in markdown and "- 線上信貸 [1]" in markdown
    first = pack.passages[0].chunk
    assert "> " + first.text.splitlines()[0] in markdown and f"characters {first.start}–{first.end}" in markdown
    document = Document(io.BytesIO(lesson_docx(pack, "2026-11-27 10:00")))
    paragraphs = [p.text for p in document.paragraphs]
    assert "Key passages" in paragraphs and "線上信貸 [1]" in paragraphs
    assert all(h.chunk.text in paragraphs for h in pack.passages)
    assert any(p.startswith("[1] 《") and f"characters {first.start}–{first.end}" in p for p in paragraphs)


# --- comparison with filters, charts and exports ---------------------------------------------

def test_the_comparison_honours_the_filters(library):
    everything = library.compare(["案例一", "案例三"])
    results_only = library.compare(["案例一", "案例三"], where=Filters.parse(["case=案例三"]).accepts)
    assert [role for role, _ in everything.cells] == ["background", "approach", "results"]
    assert all(cells[0] is None and cells[1].case == CASE3 for _, cells in results_only.cells)
    assert library.compare(["案例一", "案例三"], where=Filters.parse(["scenario=信創開發"]).accepts).cells == ()


def test_map_heatmap_and_counts_describe_the_cases(library):
    from qa.case_views import MAP_SELECTION, case_map, similarity_heatmap, theme_type_counts

    spec = case_map(library, library.names, "institution_type").to_dict()
    points = spec["datasets"][next(iter(spec["datasets"]))]
    assert {p["case"] for p in points} == set(library.names)
    assert spec["params"][0]["name"] == MAP_SELECTION and spec["encoding"]["color"]["field"] == "Institution type"
    assert {p["Institution type"] for p in points} == {"商業銀行", "非銀行金融機構", "科技企業"}
    heat = similarity_heatmap(library, library.names).to_dict()
    cells = heat["datasets"][next(iter(heat["datasets"]))]
    assert len(cells) == 4 * 3 and all(0 <= c["similarity"] <= 100 for c in cells)
    counts = theme_type_counts(library, library.names)
    assert counts.loc["普惠金融", "商業銀行"] == 2 and counts.loc["綠色金融", "非銀行金融機構"] == 1
    with pytest.raises(ValueError, match="colour_by must be one of"):
        case_map(library, library.names, "colour")



def test_the_charts_and_the_counts_speak_the_interfaces_language(library):
    from qa.case_views import LABELS, case_map, similarity_heatmap, theme_type_counts

    zh = {"case": "案例", "other_case": "對照案例", "theme": "主題", "institution_type": "機構類型", "similarity": "相似度 0–100"}
    assert set(zh) == set(LABELS)
    spec = case_map(library, library.names, "institution_type", zh).to_dict()
    points = spec["datasets"][next(iter(spec["datasets"]))]
    assert spec["encoding"]["color"]["field"] == "機構類型" and {p["主題"] for p in points} >= {"普惠金融"}
    assert [t.get("title") for t in spec["encoding"]["tooltip"]][0] == "案例"
    heat = similarity_heatmap(library, library.names, zh).to_dict()["encoding"]
    assert heat["color"]["title"] == "相似度 0–100" and [t["title"] for t in heat["tooltip"]] == ["案例", "對照案例", "相似度 0–100"]
    counts = theme_type_counts(library, library.names, zh)
    assert (counts.index.name, counts.columns.name) == ("主題", "機構類型")
    assert "Theme" not in str(spec) and "Institution type" not in str(spec)


def test_exports_quote_passages_verbatim_with_citation_columns(library, retriever):
    import csv
    import openpyxl

    from qa.case_export import comparison_table, similar_table, table_csv, table_xlsx
    from qa.display import reference

    similar = library.similar(case="案例一", k=2)
    table = similar_table(CASE1, similar, "theme=普惠金融")
    assert table.header[:5] == ("case", "filters", "rank", "similar case", "similarity (0-100)")
    assert "citation 1 (similar case)" in table.header and len(table.rows) == 2
    first = similar[0]
    row = dict(zip(table.header, table.rows[0]))
    assert row["similar case"] == CASE3 and row["passage 1 (similar case)"] == first.pairs[0].theirs.text
    assert row["citation 1 (similar case)"] == reference(first.pairs[0].theirs) and row["filters"] == "theme=普惠金融"
    assert row["case model cosine"] == round(first.case_model_score, 4)
    read = list(csv.reader(io.StringIO(table_csv(table).decode("utf-8-sig"))))
    assert tuple(read[0]) == table.header and read[1][table.header.index("passage 1 (this case)")] == first.pairs[0].mine.text
    sheet = openpyxl.load_workbook(io.BytesIO(table_xlsx(table))).active
    assert tuple(c.value for c in sheet[1]) == table.header
    assert sheet.cell(row=2, column=table.header.index("passage 1 (similar case)") + 1).value == first.pairs[0].theirs.text
    comparison = comparison_table(library.compare(["案例一", "案例二"]))
    assert comparison.header == ("role", "filters", f"{CASE1}: passage", f"{CASE1}: citation", f"{CASE2}: passage", f"{CASE2}: citation")
    assert [r[0] for r in comparison.rows] == ["創新背景 background", "實施路徑 approach", "應用成效 results"]
    source = (retriever.index.path.parent / "corpus" / "casebook_synthetic.txt").read_text(encoding="utf-8")
    assert all(cell in source for r in comparison.rows for cell in r[2::2])


def test_exported_text_never_becomes_a_formula():
    import openpyxl

    from qa.case_export import Table, table_csv, table_xlsx

    table = Table("t", ("passage",), (("=HYPERLINK(\"x\")（合成測試文本）",),))
    cell = openpyxl.load_workbook(io.BytesIO(table_xlsx(table))).active["A2"]
    assert cell.value == table.rows[0][0] and cell.data_type == "s"
    assert table_csv(table).decode("utf-8-sig").splitlines()[1].startswith("\"'=HYPERLINK")
