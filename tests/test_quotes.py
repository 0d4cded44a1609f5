"""Quotes that answer: what a question asks for, leads never quoted alone, the sentence with the
number for a number question, antecedents and clause continuations (hand-made sentences)."""
from __future__ import annotations

import numpy as np
import pytest

from index.records import Chunk
from index.sentences import sentence_spans
from qa.evidence import EvidenceFinder, EvidenceSettings, Sentence
from qa.questions import holds_answer_kind, question_type
from qa.retrieve import Hit


@pytest.mark.parametrize("question, kind", [
    ("这本书一共收录了多少篇案例？", "number"),
    ("数字人民币是哪一年开始试点的？", "when"),
    ("修顿球场会在什么时候变成平民夜总会？", "when"),
    ("谁为这本书写了推荐语？", "who"),
    ("总部位于哪个城市？", "where"),
    ("数字金融如何帮助科技企业解决融资难题？", "reason"),
    ("为什么说数字金融的本质仍然是金融？", "reason"),
    ("哪一家银行推出了科创e贷？", "which"),
    ("数字经济扮演什么角色？", "what"),
])
def test_question_types(question, kind):
    assert question_type(question) == kind


def test_what_a_sentence_holds():
    assert holds_answer_kind("number", "累计发放贷款十二亿元") and not holds_answer_kind("number", "系统完成审批")
    assert holds_answer_kind("when", "2019年开始试点") and holds_answer_kind("what", "任何句子")


def _sentences(text: str, scores: dict[str, float], section: str = "") -> list[Sentence]:
    hit = Hit(rank=1, chunk=Chunk(id="c1", doc="d.txt", title="d", case=None, section=section, page=None, start=0, end=len(text), text=text), score=1.0)
    rng = np.random.default_rng(0)
    out = []
    for s, e in sentence_spans(text):
        vector = rng.normal(size=8)
        out.append(Sentence(hit=hit, start=s, end=e, text=text[s:e], dense=0.0, lexical=0.0, score=scores.get(text[s:e], 0.5),
                            quotable=len(text[s:e]) >= 6, vector=vector / np.linalg.norm(vector)))
    return sorted(out, key=lambda x: -x.score)


class _Finder(EvidenceFinder):
    """The quoting rules alone (no index): sentences are given, the matcher is the real one."""

    def __init__(self, matcher, settings: EvidenceSettings = EvidenceSettings()):
        self._matcher = matcher
        self.settings = settings


def test_a_lead_line_is_never_the_quote(matcher):
    text = "首先，數字金融助力科技企業融資破局。部分銀行推出科創e貸，以專利數據評估企業信用，提供無抵押貸款。\n其次，綠色金融加速發展。"
    finder = _Finder(matcher)
    sentences = []
    for s, e in sentence_spans(text):
        sentences.append((text[s:e], finder._is_lead(text, s, e)))
    assert sentences[0] == ("首先，數字金融助力科技企業融資破局。", True)
    assert not sentences[1][1]
    assert not finder._is_lead(text, *sentence_spans(text)[2])  # a line of its own is not leading anything


def test_a_number_question_quotes_the_sentence_with_the_number(matcher):
    text = "該平臺服務小微企業。平臺上線一年，累計發放貸款十二億元。"
    sentences = _sentences(text, {"該平臺服務小微企業。": 0.90, "平臺上線一年，累計發放貸款十二億元。": 0.88})
    quotes = _Finder(matcher).quotes("平台一共发放了多少贷款？", sentences)
    assert [q.text for q in quotes] == ["平臺上線一年，累計發放貸款十二億元。"]


def test_a_restating_sentence_brings_its_neighbour_with_the_answer(matcher):
    text = "國際貨幣基金有儲備金供國家借用。借款需在5年內還清。另有其他規定說明。"
    sentences = _sentences(text, {"國際貨幣基金有儲備金供國家借用。": 0.95, "另有其他規定說明。": 0.80, "借款需在5年內還清。": 0.70})
    quotes = _Finder(matcher).quotes("借款需要在多久内还清？", sentences)
    assert [q.text for q in quotes] == ["國際貨幣基金有儲備金供國家借用。", "借款需在5年內還清。"]


def test_a_pointing_back_sentence_gets_its_antecedent_in_reading_order(matcher):
    text = "某農商銀行搭建了線上信貸平臺。其審批流程由兩周縮短為三分鐘內完成。"
    sentences = _sentences(text, {"其審批流程由兩周縮短為三分鐘內完成。": 0.95, "某農商銀行搭建了線上信貸平臺。": 0.5})
    quotes = _Finder(matcher).quotes("线上信贷平台的审批流程有什么变化？", sentences)
    assert [q.text for q in quotes] == ["某農商銀行搭建了線上信貸平臺。", "其審批流程由兩周縮短為三分鐘內完成。"]


def test_a_clause_ending_in_a_semicolon_brings_the_rest(matcher):
    text = "該基金提供短期貸款；所借款項需要按期歸還。"
    sentences = _sentences(text, {"該基金提供短期貸款；": 0.95, "所借款項需要按期歸還。": 0.6})
    quotes = _Finder(matcher).quotes("该基金提供什么样的贷款？", sentences)
    assert [q.text for q in quotes] == ["該基金提供短期貸款；", "所借款項需要按期歸還。"]


def test_how_questions_quote_up_to_three_passages(matcher):
    def passage(n: int, text: str, score: float) -> Sentence:
        hit = Hit(rank=n, chunk=Chunk(id=f"c{n}", doc=f"d{n}.txt", title="d", case=None, section="", page=None, start=0, end=len(text), text=text), score=1.0)
        vector = np.eye(8)[n]
        return Sentence(hit=hit, start=0, end=len(text), text=text, dense=0.0, lexical=0.0, score=score, quotable=True, vector=vector)

    sentences = [passage(1, "銀行以專利數據評估企業信用。", 0.95), passage(2, "區塊鏈實現知識產權確權流轉。", 0.93),
                 passage(3, "人工智能監測企業研發進度。", 0.925), passage(4, "無關的句子在這裡。", 0.80)]
    quotes = _Finder(matcher).quotes("数字金融如何帮助科技企业解决融资难题？", sentences)
    assert [q.hit.chunk.id for q in quotes] == ["c1", "c2", "c3"]


def test_a_restating_sentence_brings_the_better_scored_neighbour_with_the_answer(matcher):
    text = "1388年，高麗國王派李成桂進攻遼東。李成桂反對出兵，回軍發動政變。1392年，李成桂自立為王。"
    sentences = _sentences(text, {"李成桂反對出兵，回軍發動政變。": 0.95, "1388年，高麗國王派李成桂進攻遼東。": 0.90, "1392年，李成桂自立為王。": 0.80})
    quotes = _Finder(matcher).quotes("李成桂在哪一年回军发动政变？", sentences)
    assert [q.text for q in quotes] == ["1388年，高麗國王派李成桂進攻遼東。", "李成桂反對出兵，回軍發動政變。"]


def test_what_the_question_states_is_not_its_answer():
    question = "某银行2025年的净利润是多少？"
    assert not holds_answer_kind("number", "2025年数字金融创新案例征集活动全面完成", question)
    assert holds_answer_kind("number", "2025年该行净利润为12.5亿元", question)
    assert holds_answer_kind("number", "2025年数字金融创新案例征集活动全面完成")  # without the question: a number
    assert not holds_answer_kind("who", "张三在会上发言", "张三在会上说了什么？")


def test_a_neighbour_shared_with_an_overlapping_passage_is_quoted_with_its_quote(matcher):
    # Two overlapping passages of one document: the second repeats the first's last sentence,
    # which is scored once, under the better-ranked first. The second passage's pointing-back
    # sentence brings it (this raised ValueError), under the second passage, in reading order.
    doc = "高麗末年政局動盪。朝鮮王朝由李成桂建立。他於1392年即位。"
    cut = doc.index("朝")
    chunks = [Chunk(id="c1", doc="d.txt", title="d", case=None, section="", page=None, start=0, end=doc.index("他"), text=doc[: doc.index("他")]),
              Chunk(id="c2", doc="d.txt", title="d", case=None, section="", page=None, start=cut, end=len(doc), text=doc[cut:])]
    hits = [Hit(rank=1, chunk=chunks[0], score=1.0), Hit(rank=2, chunk=chunks[1], score=0.9)]
    scores = {"高麗末年政局動盪。": 0.5, "朝鮮王朝由李成桂建立。": 0.6, "他於1392年即位。": 0.95}
    sentences = []
    for n, (hit, spans) in enumerate(((hits[0], [(0, cut), (cut, doc.index("他"))]), (hits[1], [(doc.index("他"), len(doc))]))):
        for s, e in spans:
            sentences.append(Sentence(hit=hit, start=s, end=e, text=doc[s:e], dense=0.0, lexical=0.0, score=scores[doc[s:e]], quotable=True,
                                      vector=np.eye(8)[len(sentences)]))
    sentences.sort(key=lambda x: -x.score)
    quotes = _Finder(matcher).quotes("李成桂在哪一年即位？", sentences)
    assert [(q.text, q.hit.chunk.id) for q in quotes] == [("朝鮮王朝由李成桂建立。", "c2"), ("他於1392年即位。", "c2")]
    assert all(doc[q.start : q.end] == q.text == q.hit.chunk.text[q.start - q.hit.chunk.start : q.end - q.hit.chunk.start] for q in quotes)
