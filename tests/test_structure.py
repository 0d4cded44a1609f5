"""Cases, sections, tables of contents and tags, on SYNTHETIC text written for these tests."""
import json

import pytest

from ingest.chunker import ChunkSettings, chunk_document
from ingest.structure import blocks, heading_level
from ingest.tags import DEFAULT_TAXONOMY, Tagger

from .conftest import make_document

SETTINGS = ChunkSettings()

SIMPLIFIED_BOOK = """目录
01 某城商银行的数据资产融资实践 ........ 1
02 某科技公司的大模型客服平台 ........ 9
03 某保险公司的养老服务平台 ……… 15
01 某城商银行的数据资产融资实践
案例单位：某城商银行
创新背景
科技型中小企业缺少抵押物,银行难以评估其数据资产的价值。
实施路径
银行与数据交易所合作,为企业办理数据资产质押登记,据此发放贷款。
应用成效
已为二十家企业发放数据资产质押贷款。
02 某科技公司的大模型客服平台
机构名称：某科技有限公司
（一）创新背景
客服人员难以快速检索海量产品条款。
（二）实施路径
公司部署大模型应用,结合知识库检索生成回答。
"""


def _chunks(text: str):
    return chunk_document(make_document(text, "book_synthetic.txt"), SETTINGS)


def test_contents_lines_are_text_and_their_titles_open_cases():
    chunks = _chunks(SIMPLIFIED_BOOK)
    contents = chunks[0]
    assert contents.section == "目录" and contents.case is None and "........ 9" in contents.text
    cases = {c.case for c in chunks[1:]}
    assert cases == {"01 某城商银行的数据资产融资实践", "02 某科技公司的大模型客服平台"}


def test_unnumbered_and_numbered_section_names_in_both_scripts():
    chunks = _chunks(SIMPLIFIED_BOOK)
    sections = [(c.case[:2], c.section.split(" > ")[-1]) for c in chunks[1:]]
    assert sections == [
        ("01", "01 某城商银行的数据资产融资实践"),
        ("01", "创新背景"), ("01", "实施路径"), ("01", "应用成效"),
        ("02", "02 某科技公司的大模型客服平台"),
        ("02", "（一）创新背景"), ("02", "（二）实施路径"),
    ]


@pytest.mark.parametrize("line, level", [
    ("實施路徑", 2), ("應用成效：", 2), ("3. 应用成效", 2), ("經驗啟示", 2),
    ("01 某銀行的實踐", 1), ("Case 3 Green bonds", 1), ("第二篇 非銀行金融機構", 1),
    ("創新背景下,銀行加快了轉型步伐,取得了明顯成效。", 0),
])
def test_heading_levels_for_book_vocabulary(line, level):
    assert heading_level(line) == level


def test_a_book_title_above_the_cases_does_not_hide_them():
    document = make_document("數字金融創新案例（合成測試）\n案例一 某銀行（合成）\n一、創新背景\n正文一句。\n", "b.html")
    document = type(document)(**{**document.__dict__, "headings": ((0, 14, 1), (15, 25, 2))})
    found = blocks(document.text, document.headings)
    assert [(b.level, b.opens_case) for b in found] == [(1, False), (2, True), (3, False), (0, False)]
    chunk = chunk_document(document, SETTINGS)[0]
    assert chunk.case == "案例一 某銀行（合成）"


@pytest.fixture(scope="module")
def tagger(matcher):
    return Tagger(matcher.normalize)


def test_taxonomy_file_holds_the_book_vocabulary():
    data = json.loads(DEFAULT_TAXONOMY.read_text(encoding="utf-8"))
    assert set(data["themes"]) == {"科技金融", "綠色金融", "普惠金融", "養老金融", "數字金融"}
    assert set(data["scenarios"]) == {"數據資產融資", "雙碳管理", "信創開發", "核心系統轉型", "智能風控", "大模型應用", "數據基建"}
    assert set(data["institution_types"]) == {"商業銀行", "非銀行金融機構", "科技企業"}


def test_tags_from_statements_keywords_and_case_titles(tagger):
    chunks = tagger.tag(_chunks(SIMPLIFIED_BOOK))
    bank = [c for c in chunks if c.case and c.case.startswith("01")]
    tech = [c for c in chunks if c.case and c.case.startswith("02")]
    for chunk in bank:
        assert {"institution:某城商银行", "institution_type:商業銀行", "scenario:數據資產融資"} <= set(chunk.tags)
    assert "theme:科技金融" in next(c for c in bank if "科技型中小企業" in c.text or "科技型中小企业" in c.text).tags
    for chunk in tech:
        assert {"institution:某科技有限公司", "institution_type:科技企業", "scenario:大模型應用"} <= set(chunk.tags)
    assert chunks[0].tags == ("scenario:數據資產融資", "scenario:大模型應用") or "institution" not in " ".join(chunks[0].tags)


def test_stated_type_wins_and_traditional_text_matches_traditional_keywords(tagger):
    text = "案例一 某公司的碳賬戶平臺（合成）\n機構：某公司\n機構類型：非銀行金融機構\n一、實施路徑\n記錄碳排放數據,服務雙碳目標。\n"
    chunks = tagger.tag(_chunks(text))
    assert all({"institution:某公司", "institution_type:非銀行金融機構", "theme:綠色金融", "scenario:雙碳管理"} <= set(c.tags) for c in chunks)


def test_tags_round_trip_through_json(tagger):
    chunk = tagger.tag(_chunks(SIMPLIFIED_BOOK))[2]
    data = chunk.to_json()
    assert isinstance(data["tags"], list) and type(chunk).from_json(json.loads(json.dumps(data))) == chunk
