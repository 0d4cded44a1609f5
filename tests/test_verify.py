"""Checking an LLM answer: marker normalization, invalid markers, unsupported sentences (pure)."""
from qa.verify import check, normalize_markers

SOURCES = ["first", "second"]  # only their count matters to `check`; `supports` is given


def supports_if_not_mars(claim, hits):
    return "火星" not in claim


def test_markers_are_normalized():
    assert normalize_markers("甲[1, 2]。乙【3】") == "甲[1][2]。乙[3]"
    assert normalize_markers("甲乙丙。[1]丁。 [2][3]") == "甲乙丙[1]。丁[2][3]。"


def test_markers_naming_no_source_are_removed():
    result = check("审批只需三分钟[1][3]。其他[0]。", SOURCES, supports_if_not_mars, "(!)")
    assert result.text == "审批只需三分钟[1]。其他。"
    assert result.cited == (1,)


def test_unsupported_cited_sentences_are_flagged_and_uncited_ones_left_alone():
    result = check("审批只需三分钟[2]。火星贷款[1]。火星没有引用。", SOURCES, supports_if_not_mars, "(!)")
    assert result.text == "审批只需三分钟[2]。火星贷款[1]。(!)火星没有引用。"
    assert result.flagged == ("火星贷款。",)
    assert result.cited == (2, 1)


def test_supports_sees_each_distinct_source_once():
    seen = []
    check("三分钟[1][1][2]。", SOURCES, lambda claim, hits: seen.append((claim, list(hits))) or True, "")
    assert seen == [("三分钟。", ["first", "second"])]
