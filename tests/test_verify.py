"""Checking an LLM answer: marker normalization, invalid markers, unsupported sentences (pure)."""
from qa.verify import check as _check, normalize_markers

SOURCES = ["first", "second"]  # only their count matters to `check`; `supports` is given


def supports_if_not_mars(claim, hits):
    return "火星" not in claim


def never_attribute(claim, hits):
    return None


def facts_agree(claim, hits):
    return True


def check(text, sources, supports, flag, best_support=never_attribute, agrees=facts_agree):
    return _check(text, sources, supports, best_support, flag, agrees)


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


def test_markers_on_no_content_are_dropped():
    assert check("[1] [2]。", SOURCES, supports_if_not_mars, "(!)").cited == ()


def test_an_uncited_sentence_gets_the_marker_of_the_source_that_supports_it():
    def second_for_approval(claim, hits):
        return 1 if "审批" in claim else None

    result = check("系统三分钟完成审批。火星贷款。", SOURCES, supports_if_not_mars, "(!)", best_support=second_for_approval)
    assert result.text == "系统三分钟完成审批[2]。火星贷款。"
    assert result.cited == (2,) and result.attributed == ("系统三分钟完成审批。",)
