"""Quotes that answer: what a question asks for, leads never quoted alone, quotes chosen by the
selector's probabilities (hand-set models, and the shipped one on hand-made sentences),
antecedents and clause continuations, the shipped selector's file."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from index.records import Chunk
from index.sentences import sentence_spans
from qa.evidence import EvidenceFinder, EvidenceSettings, Sentence
from qa.logistic import ModelMismatch
from qa.selector import FEATURE_NAMES, MODEL_FEATURES, MODEL_PATH as SELECTOR_PATH, QuoteModel, QuoteModels, load_quote_models, sentence_features
from qa.questions import holds_answer_kind, question_type
from qa.retrieve import Hit


@pytest.mark.parametrize("question, kind", [
    ("这本书一共收录了多少篇案例？", "number"),
    ("数字人民币是哪一年开始试点的？", "when"),
    ("修顿球场会在什么时候变成平民夜总会？", "when"),
    ("谁为这本书写了推荐语？", "who"),
    ("总部位于哪个城市？", "where"),
    ("总部位于哪一个城市？", "where"),
    ("该行由哪一位行长创办？", "who"),
    ("这项改革始于哪一个时期？", "when"),
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
        score = scores.get(text[s:e], 0.5)
        out.append(Sentence(hit=hit, start=s, end=e, text=text[s:e], dense=score, lexical=0.0, score=score,
                            quotable=len(text[s:e]) >= 6, vector=vector / np.linalg.norm(vector)))
    return sorted(out, key=lambda x: -x.score)


def _model(names: tuple[str, ...] = FEATURE_NAMES, **coef: float) -> QuoteModels:
    """A hand-set selector for either language: P = σ(Σ coef · feature), features unscaled."""
    n = len(names)
    model = QuoteModel(names, (0.0,) * n, (1.0,) * n, tuple(coef.get(name, 0.0) for name in names), 0.0)
    return QuoteModels(model, model)


# The evidence score decides alone (σ(100 · gap to the best): a sentence 0.01 below is 0.37 as likely).
BY_SCORE = _model(score_gap=100.0)


class _Finder(EvidenceFinder):
    """The quoting rules alone (no index): sentences are given, the matcher is the real one."""

    def __init__(self, matcher, settings: EvidenceSettings = EvidenceSettings(), quote_models: QuoteModels = BY_SCORE):
        self._matcher = matcher
        self.settings = settings
        self._given_quote_models = quote_models


def test_a_lead_line_is_never_the_quote(matcher):
    text = "首先，數字金融助力科技企業融資破局。部分銀行推出科創e貸，以專利數據評估企業信用，提供無抵押貸款。\n其次，綠色金融加速發展。"
    finder = _Finder(matcher)
    sentences = []
    for s, e in sentence_spans(text):
        sentences.append((text[s:e], finder._is_lead(text, s, e)))
    assert sentences[0] == ("首先，數字金融助力科技企業融資破局。", True)
    assert not sentences[1][1]
    assert not finder._is_lead(text, *sentence_spans(text)[2])  # a line of its own is not leading anything


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


def test_a_clause_running_on_into_a_quote_brings_its_start(matcher):
    text = "某銀行推出線上貸款產品；審批時間由兩周縮短至三分鐘。客戶反映良好。"
    sentences = _sentences(text, {"審批時間由兩周縮短至三分鐘。": 0.95, "某銀行推出線上貸款產品；": 0.5, "客戶反映良好。": 0.5})
    quotes = _Finder(matcher).quotes("审批时间缩短到多久？", sentences)
    assert [q.text for q in quotes] == ["某銀行推出線上貸款產品；", "審批時間由兩周縮短至三分鐘。"]


def test_the_sentence_between_two_quotes_of_a_passage_is_quoted_with_them(matcher):
    text = "平臺服務小微企業和農戶。貸款無需抵押。平臺以交易數據評估信用。客戶反映良好。"
    scores = {"平臺服務小微企業和農戶。": 0.95, "貸款無需抵押。": 0.5, "平臺以交易數據評估信用。": 0.945, "客戶反映良好。": 0.5}
    quotes = _Finder(matcher).quotes("平台如何服务小微企业？", _sentences(text, scores))
    assert [q.text for q in quotes] == ["平臺服務小微企業和農戶。", "貸款無需抵押。", "平臺以交易數據評估信用。"]  # one excerpt, in reading order


def test_a_neighbour_nearly_as_likely_as_the_first_quote_is_quoted_with_it(matcher):
    text = "平臺去年上線。平臺服務小微企業和農戶。貸款審批在線完成。"
    # P by score: σ(0) = 0.5 for the first, σ(-1) = 0.27 (0.54 of it) before, σ(-2) = 0.12 (0.24) after
    sentences = _sentences(text, {"平臺服務小微企業和農戶。": 0.95, "平臺去年上線。": 0.94, "貸款審批在線完成。": 0.93})
    question = "这个平台的服务对象是什么？"  # a what question: no neighbour for holding a kind

    def quoted(**settings) -> list[str]:
        return [q.text for q in _Finder(matcher, EvidenceSettings(keep_within=0.0, **settings)).quotes(question, sentences)]

    assert quoted() == ["平臺去年上線。", "平臺服務小微企業和農戶。"]  # 0.54 ≥ 0.3: the likelier neighbour, in reading order
    assert quoted(neighbour_share=0.2) == ["平臺去年上線。", "平臺服務小微企業和農戶。"]  # one neighbour at most
    assert quoted(neighbour_share=0.6) == ["平臺服務小微企業和農戶。"]


def test_quotes_following_each_other_in_a_paragraph_are_one_excerpt():
    from qa.extractive import compose
    from qa.language import ScriptDetector

    text = "平臺去年上線。 平臺服務小微企業和農戶。\n貸款審批在線完成。"
    by_text = {x.text: x for x in _sentences(text, {})}
    quotes = [by_text["平臺去年上線。"], by_text["平臺服務小微企業和農戶。"], by_text["貸款審批在線完成。"]]
    answer = compose("平台服务谁？", "hant", quotes, ScriptDetector())
    # one excerpt, verbatim with the space between; a new paragraph starts another
    assert answer.text.splitlines()[1:] == ["- 「平臺去年上線。 平臺服務小微企業和農戶。」[1]", "- 「貸款審批在線完成。」[1]"]
    assert text[quotes[0].start : quotes[1].end] in answer.text
    apart = compose("平台服务谁？", "hant", [quotes[0], quotes[2]], ScriptDetector())  # a sentence between: apart
    assert apart.text.splitlines()[1:] == ["- 「平臺去年上線。」[1]", "- 「貸款審批在線完成。」[1]"]


def test_what_the_question_states_is_not_its_answer():
    question = "某银行2025年的净利润是多少？"
    assert not holds_answer_kind("number", "2025年数字金融创新案例征集活动全面完成", question)
    assert holds_answer_kind("number", "2025年该行净利润为12.5亿元", question)
    assert holds_answer_kind("number", "2025年数字金融创新案例征集活动全面完成")  # without the question: a number
    assert not holds_answer_kind("who", "张三在会上发言", "张三在会上说了什么？")
    # a numeral with its unit is stated too: the sentence repeating 第二次 gives no year
    question = "该行在哪一年开展了第二次改革？"
    assert not holds_answer_kind("when", "该行的第二次改革扩大了农村网点", question)
    assert holds_answer_kind("when", "该行于2016年开展第二次改革", question)


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


def _passages(*scored: tuple[str, float]) -> list[Sentence]:
    """One sentence per passage, passages ranked in the given order, orthogonal vectors."""
    out = []
    for n, (text, score) in enumerate(scored, start=1):
        hit = Hit(rank=n, chunk=Chunk(id=f"c{n}", doc=f"d{n}.txt", title="d", case=None, section="", page=None, start=0, end=len(text), text=text), score=1.0)
        out.append(Sentence(hit=hit, start=0, end=len(text), text=text, dense=score, lexical=0.0, score=score, quotable=True, vector=np.eye(8)[n]))
    return sorted(out, key=lambda x: -x.score)


def test_further_quotes_are_those_nearly_as_likely_as_the_first(matcher):
    sentences = _passages(("銀行以專利數據評估企業信用。", 0.95), ("區塊鏈實現知識產權確權流轉。", 0.945),
                          ("人工智能監測企業研發進度。", 0.94), ("監管沙盒支持產品試點。", 0.935), ("無關的句子在這裡。", 0.80))
    question = "数字金融如何帮助科技企业解决融资难题？"
    # P by score: σ(0) = 0.5, σ(-0.5) = 0.38, σ(-1) = 0.27, σ(-1.5) = 0.18, σ(-15) ≈ 0
    alone = EvidenceSettings(keep_within=0.0)  # the share alone
    assert [q.hit.chunk.id for q in _Finder(matcher, alone).quotes(question, sentences)] == ["c1", "c2"]  # 0.38 ≥ 0.6 × 0.5 > 0.27
    wide = EvidenceSettings(quote_share=0.1, keep_within=0.0)
    assert [q.hit.chunk.id for q in _Finder(matcher, wide).quotes(question, sentences)] == ["c1", "c2", "c3"]  # max_quotes 3
    near = EvidenceSettings(quote_share=0.9)  # too few as likely, but c2 and c3 score within 0.02 of the best
    assert [q.hit.chunk.id for q in _Finder(matcher, near).quotes(question, sentences)] == ["c1", "c2", "c3"]


def test_the_likeliest_sentence_is_quoted_first_and_the_best_scored_with_it(matcher):
    sentences = _passages(("該平臺服務小微企業。", 0.95), ("平臺上線一年，累計發放貸款十二億元。", 0.92))
    finder = _Finder(matcher, quote_models=_model(score_gap=100.0, holds_kind=6.0))  # holding a number: σ(6 - 3) against σ(0)
    quotes = finder.quotes("平台一共发放了多少贷款？", sentences)
    assert [q.text for q in quotes] == ["平臺上線一年，累計發放貸款十二億元。", "該平臺服務小微企業。"]  # passages in the order of their quotes
    assert [q.text for q in _Finder(matcher).quotes("平台一共发放了多少贷款？", sentences)] == ["該平臺服務小微企業。"]  # by score alone


def test_a_factoid_quote_lacking_what_is_asked_brings_its_neighbour_that_holds_it(matcher):
    text = "該平臺服務小微企業。平臺上線一年，累計發放貸款十二億元。"
    sentences = _sentences(text, {"該平臺服務小微企業。": 0.95, "平臺上線一年，累計發放貸款十二億元。": 0.90})
    assert [q.text for q in _Finder(matcher).quotes("平台一共发放了多少贷款？", sentences)] == ["該平臺服務小微企業。", "平臺上線一年，累計發放貸款十二億元。"]
    assert [q.text for q in _Finder(matcher).quotes("这个平台的服务对象是什么？", sentences)] == ["該平臺服務小微企業。"]  # a what question: no neighbour


def test_sentence_features_see_the_asked_kind_the_neighbour_and_what_the_question_lacks(matcher):
    text = "國際貨幣基金有儲備金供國家借用。所借款項必須於5年內清還。另有其他規定說明。"
    sentences = _sentences(text, {"國際貨幣基金有儲備金供國家借用。": 0.95, "另有其他規定說明。": 0.80, "所借款項必須於5年內清還。": 0.90})
    x = {s.text: dict(zip(FEATURE_NAMES, row)) for s, row in zip(sentences, sentence_features("国际货币基金的借款需在多久内还清？", sentences, matcher))}
    restating, answer, other = x["國際貨幣基金有儲備金供國家借用。"], x["所借款項必須於5年內清還。"], x["另有其他規定說明。"]
    assert answer["holds_kind"] == 1.0 and restating["holds_kind"] == 0.0
    assert answer["next_to_best"] == 1.0 and other["next_to_best"] == 0.0 and restating["next_to_best"] == 0.0
    assert restating["score_gap"] == 0.0 and answer["score_gap"] < 0 and restating["order"] == 0.0
    assert restating["novelty"] < answer["novelty"]  # a restatement adds few characters the question lacks
    assert restating["position"] == 0.0 and other["position"] == 1.0


def test_the_second_models_cosines_and_their_order_follow_the_shipped_features(matcher):
    text = "國際貨幣基金有儲備金供國家借用。所借款項必須於5年內清還。另有其他規定說明。"
    sentences = _sentences(text, {"國際貨幣基金有儲備金供國家借用。": 0.95, "另有其他規定說明。": 0.80, "所借款項必須於5年內清還。": 0.90})
    question = "How soon must IMF loans be repaid?"
    plain = sentence_features(question, sentences, matcher)
    second = np.array([0.3, 0.1, 0.6])  # one per sentence, in their order (best-scored first)
    x = sentence_features(question, sentences, matcher, second)
    assert x.shape == (3, len(MODEL_FEATURES["other"])) and np.array_equal(x[:, : len(FEATURE_NAMES)], plain)
    columns = dict(zip(MODEL_FEATURES["other"], x.T))
    assert list(columns["second"]) == [0.3, 0.1, 0.6] and list(columns["second_order"]) == pytest.approx(np.log1p([1, 2, 0]))


def test_an_english_question_is_quoted_with_the_sentence_the_second_model_finds(matcher):
    sentences = _passages(("該平臺服務小微企業。", 0.95), ("平臺上線一年，累計發放貸款十二億元。", 0.90))
    cosines = {"該平臺服務小微企業。": 0.2, "平臺上線一年，累計發放貸款十二億元。": 0.7}
    english = QuoteModel(MODEL_FEATURES["other"], (0.0,) * 16, (1.0,) * 16, (0.0,) * 14 + (20.0, 0.0), -10.0)
    finder = _Finder(matcher, quote_models=QuoteModels(BY_SCORE.chinese, english))
    finder._retriever = SimpleNamespace(second=SimpleNamespace(of_sentences=lambda question, given: np.array([cosines[s.text] for s in given])))
    assert [q.text for q in finder.quotes("平台的服务对象是什么？", sentences)] == ["該平臺服務小微企業。"]  # Chinese: by score alone
    quoted = [q.text for q in finder.quotes("Whom does the platform serve?", sentences)]
    assert quoted[0] == "平臺上線一年，累計發放貸款十二億元。" and len(quoted) == 2  # the likeliest first, the best-scored with it
    finder._retriever = SimpleNamespace(second=None)
    with pytest.raises(ValueError, match="second model"):
        finder.quotes("Whom does the platform serve?", sentences)


def test_the_shipped_quote_selector_says_how_it_was_fitted_and_beats_the_evidence_score():
    models = load_quote_models()
    assert models.chinese.names == FEATURE_NAMES and models.other.names == MODEL_FEATURES["other"]
    fitted = json.loads(SELECTOR_PATH.read_text(encoding="utf-8"))
    assert fitted["command"] == "python -m bench calibrate" and fitted["fitted_on"]["questions"]["chinese"] >= 400
    chinese = fitted["cross_validated"]["chinese"]  # held-out articles
    assert chinese["likeliest_holds_answer"] > chinese["evidence_best_holds_answer"]
    assert chinese[f"quote_share {EvidenceSettings().quote_share}"]["quotes_hold_answer"] > 0.88
    other = fitted["cross_validated"]["other"]  # English questions, with the second model's cosines
    assert other["likeliest_holds_answer"] > other["evidence_best_holds_answer"] + 0.05


def test_the_shipped_selector_quotes_the_neighbour_that_answers_a_restated_question(matcher):
    # A calibration-split case (IMF loans) retold: the sentence restating the question scores
    # best (cosine and the question's words); the one after it holds the answer, "5年".
    question = "国际货币基金的借款需要在多久内还清？"
    text = "國際貨幣基金有儲備金，供國家借用，以在短時間內穩定貨幣；做法類似在往來戶口中透支。所借款項必須於5年內清還。"
    cosines = {"國際貨幣基金有儲備金，供國家借用，以在短時間內穩定貨幣；": 0.93, "做法類似在往來戶口中透支。": 0.87, "所借款項必須於5年內清還。": 0.90}
    finder = _Finder(matcher, quote_models=load_quote_models())
    weights = finder._question_weights(question)
    hit = Hit(rank=1, chunk=Chunk(id="c1", doc="d.txt", title="d", case=None, section="", page=None, start=0, end=len(text), text=text), score=1.0)
    sentences = []
    for n, (s, e) in enumerate(sentence_spans(text)):
        lexical = finder._match(text[s:e], np.zeros(8), np.zeros(8), weights)[1]
        sentences.append(Sentence(hit=hit, start=s, end=e, text=text[s:e], dense=cosines[text[s:e]], lexical=lexical,
                                  score=cosines[text[s:e]] + 0.1 * lexical, quotable=True, vector=np.eye(8)[n]))
    sentences.sort(key=lambda x: -x.score)
    assert sentences[0].text.startswith("國際貨幣基金")
    assert "所借款項必須於5年內清還。" in [q.text for q in finder.quotes(question, sentences)]


def test_a_selector_fitted_on_other_features_is_refused(tmp_path):
    data = json.loads(SELECTOR_PATH.read_text(encoding="utf-8"))
    data["models"]["other"]["names"] = list(FEATURE_NAMES)  # fitted without the second model's cosines
    (tmp_path / "q.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelMismatch, match="bench calibrate"):
        load_quote_models(tmp_path / "q.json")
