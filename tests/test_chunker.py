"""Chunking: verbatim offsets, sentence boundaries, headings, sizes, sections."""
from pathlib import Path

import pytest

from index.sentences import sentence_spans
from ingest.chunker import ChunkSettings, chunk_document
from ingest.loaders import load_document
from ingest.structure import heading_level

from .conftest import SHARED_CORPUS, SYNTHETIC_TRADITIONAL, make_document

SETTINGS = ChunkSettings()


@pytest.fixture(scope="module")
def book():
    path = next(SHARED_CORPUS.glob("*.txt"))
    return load_document(SHARED_CORPUS, path)


def test_offsets_identity_on_the_real_corpus(book):
    chunks = chunk_document(book, SETTINGS)
    assert len(chunks) > 10
    for chunk in chunks:
        assert book.text[chunk.start : chunk.end] == chunk.text


def test_all_text_is_chunked_except_a_heading_with_nothing_under_it(book):
    chunks = chunk_document(book, SETTINGS)
    missing = [
        book.text[s:e]
        for s, e in sentence_spans(book.text)
        if not any(c.start <= s and e <= c.end for c in chunks)
    ]
    assert missing == ["目 錄"]  # the book's last line: a table-of-contents title with no entries


def test_chunks_end_at_sentence_ends_within_the_size_limit(book):
    ends = {e for _, e in sentence_spans(book.text)}
    for chunk in chunk_document(book, SETTINGS):
        assert len(chunk.text) <= SETTINGS.max_chars
        assert chunk.end in ends


def test_heading_joins_the_text_under_it_and_sets_the_section(book):
    chunks = chunk_document(book, SETTINGS)
    first_of_section = next(c for c in chunks if c.text.startswith("一、我國數字金融發展的背景"))
    assert first_of_section.section == "序 言 > 一、我國數字金融發展的背景"
    assert len(first_of_section.text) > len("一、我國數字金融發展的背景") + 50
    preface = next(c for c in chunks if c.text.startswith("序 言"))
    assert "破局賦能數智重構" in preface.text


def test_sections_and_case_on_synthetic_book():
    chunks = chunk_document(make_document(SYNTHETIC_TRADITIONAL), SETTINGS)
    assert [c.section.split(" > ")[-1] for c in chunks] == ["一、創新背景", "二、實施路徑", "三、應用成效"]
    assert {c.case for c in chunks} == {"案例一 某農商銀行的數字普惠金融實踐（合成測試文本）"}


def test_a_sentence_longer_than_the_limit_is_cut_at_a_clause_mark():
    long_sentence = "，".join(["數字金融服務延伸到農村地區"] * 40) + "。"
    document = make_document("一、背景\n" + long_sentence + "\n")
    chunks = chunk_document(document, SETTINGS)
    assert len(chunks) > 1
    assert all(len(c.text) <= SETTINGS.max_chars for c in chunks)
    assert all(c.text.endswith(("，", "。")) for c in chunks)


def test_long_paragraphs_overlap_a_little_and_short_ones_merge():
    paragraph = "".join(f"第{i}句話講述數字金融的一個具體做法和它帶來的變化。" for i in range(30))
    chunks = chunk_document(make_document(paragraph), SETTINGS)
    assert len(chunks) >= 3
    for before, after in zip(chunks, chunks[1:]):
        assert 0 <= before.end - after.start <= SETTINGS.overlap
    short = make_document("短段一。\n短段二。\n短段三。\n")
    assert len(chunk_document(short, SETTINGS)) == 1


def test_ids_are_content_hashes_stable_under_edits_elsewhere():
    base = chunk_document(make_document(SYNTHETIC_TRADITIONAL), SETTINGS)
    edited_text = SYNTHETIC_TRADITIONAL.replace("累計發放貸款十二億元", "累計發放貸款十三億元")
    edited = chunk_document(make_document(edited_text), SETTINGS)
    assert base[0].id == edited[0].id and base[1].id == edited[1].id
    assert base[2].id != edited[2].id


@pytest.mark.parametrize(
    "line, level",
    [
        ("第三章 數據資產融資", 1),
        ("案例十二 某銀行智能風控", 1),
        ("# Markdown title", 1),
        ("## 二級標題", 2),
        ("一、创新背景", 2),
        ("（二）實施路徑", 3),
        ("(三)风险防控与创新发展相平衡", 3),
        ("1.2 數據治理", 3),
        ("序 言", 1),
        ("内容简介", 1),
        ("1、覆蓋領域全,場景多元:案例涵蓋商業銀行、非銀行金融機構", 0),
        ("數字金融已從最初的改良型創新,演變為一場全方位的金融生態重構。", 0),
    ],
)
def test_heading_levels(line, level):
    assert heading_level(line) == level


def test_settings_errors_name_the_rule():
    with pytest.raises(ValueError, match="min_chars <= target <= max_chars"):
        ChunkSettings(target=400, max_chars=350)
