"""Numbers and negation of an LLM's sentence against its sources (real jieba, cn2an, text2num);
SYNTHETIC source text."""
import pytest

from index.records import Chunk
from qa.facts import FactCheck
from qa.retrieve import Hit

SOURCE = "審批時間從三天縮短到三分鐘，覆蓋百分之三十的小微企業，累計發放貸款十二億元。該行推動了綠色消費的普及。"


def hits(text=SOURCE):
    return [Hit(rank=1, chunk=Chunk(id="c", doc="d.txt", title="d", case=None, section="", page=None, start=0, end=len(text), text=text), score=1.0)]


@pytest.fixture(scope="module")
def facts(matcher):
    return FactCheck(matcher)


@pytest.mark.parametrize("claim", [
    "审批时间缩短到三分钟。", "審批時間從3天縮短到3分鐘。", "覆盖30%的小微企业。", "累计发放贷款12亿元。", "累计发放贷款1,200,000,000元。",
    "该行推动了绿色消费的普及。", "Approval time fell from three days to three minutes.", "It covers 30% of small firms.",
    "一些小微企业获得了贷款。",  # 一些 is not a count
])
def test_claims_that_keep_the_facts_agree(facts, claim):
    assert facts.agrees(claim, hits()), claim


@pytest.mark.parametrize("claim", [
    "审批时间缩短到三十分钟。", "審批時間縮短到30分鐘。", "覆盖百分之四十的小微企业。", "累计发放贷款十三亿元。",
    "该行未推动绿色消费的普及。", "该行没有推动绿色消费的普及。", "Approval time fell to thirty minutes.",
])
def test_a_changed_number_or_an_added_negation_disagrees(facts, claim):
    assert not facts.agrees(claim, hits()), claim


def test_a_dropped_negation_disagrees_too(facts):
    assert facts.agrees("该行并未出现不良贷款。", hits("該行並未出現不良貸款。"))
    assert not facts.agrees("该行出现了不良贷款。", hits("該行並未出現不良貸款。"))


def test_words_that_only_start_like_a_negation_are_not_one(facts):
    for text in ("不良率下降", "未来可期", "无论如何", "非常重要", "不断提升"):
        assert not facts.negated(text), text
