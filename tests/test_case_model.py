"""The case-level model (qa/case_model.py, the real Universal Sentence Encoder multilingual v3
from its PyPI package) and the cases it feeds (qa/cases.py), on SYNTHETIC one-case-per-file
documents written for these tests."""
import json

import numpy as np
import pytest

from qa.case_model import CaseModel
from qa.cases import CaseLibrary, CaseSettings
from qa.similarity import SimilaritySettings

from .test_analysts import _retriever

pytestmark = pytest.mark.slow

LOAN = "某農商銀行搭建線上信貸平臺，為縣域小微企業和農戶提供無抵押貸款。"
LOAN_SIMPLIFIED = "某农商银行搭建线上信贷平台，为县域小微企业和农户提供无抵押贷款。"
OTHER_LOAN = "某城商銀行為小微企業提供線上信用貸款，審批只需幾分鐘。"
CARBON = "某證券公司用區塊鏈建立個人碳賬戶，記錄綠色出行的減排量。"

# SYNTHETIC: two kinds of documents, each file one case.
FILES = {
    "loan_a_synthetic.txt": "某城商銀行的小微企業線上信貸平臺，三分鐘審批貸款（合成測試文本）。\n",
    "loan_b_synthetic.txt": "某農商銀行為農戶發放線上貸款，按信用評分授信（合成測試文本）。\n",
    "loan_c_synthetic.txt": "某消費金融公司的手機貸款，額度隨信用調整，按日計息（合成測試文本）。\n",
    "green_a_synthetic.txt": "某證券公司用區塊鏈為企業建立碳賬戶，承銷綠色債券（合成測試文本）。\n",
    "green_b_synthetic.txt": "某保險公司開發光伏電站的綠色保險，按發電量理賠（合成測試文本）。\n",
    "green_c_synthetic.txt": "某交易所上線碳排放權交易平臺，企業買賣排放配額（合成測試文本）。\n",
}


@pytest.fixture(scope="module")
def model():
    return CaseModel()


def test_case_texts_become_unit_vectors_that_put_a_case_near_its_kind(model):
    vectors = model.embed([LOAN, OTHER_LOAN, CARBON, LOAN])
    assert vectors.shape == (4, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[3], atol=1e-6)  # deterministic
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2  # a loan is nearer a loan than a carbon account
    assert model.embed([]).shape == (0, 512)
    with pytest.raises(ValueError, match="threads must be at least 1"):
        CaseModel(threads=0)


def test_it_is_fed_the_matching_form_because_the_script_moves_its_vectors(model):
    # Why qa.cases gives it the simplified matching text: the same sentence in the two scripts
    # is farther apart than the form in which both reach it.
    traditional, simplified = model.embed([LOAN, LOAN_SIMPLIFIED])
    assert traditional @ simplified < 0.9


def test_similar_cases_carry_the_case_model_score_and_a_text_query_uses_it(tmp_path, matcher):
    library = CaseLibrary(_retriever(tmp_path, FILES, matcher))
    assert library.similarity.case_vectors.shape == (6, 512)
    # (the passage vectors here are the fake embedder's: the case model's own cosines are checked)
    kinds = [name.split("_")[0] for name in library.names]
    own = library.similarity.case_dense.copy()
    np.fill_diagonal(own, -np.inf)
    assert all(kinds[int(np.argmax(row))] == kind for row, kind in zip(own, kinds))
    for name in FILES:
        similar = library.similar(case=name, k=5)
        row = library.names.index(name)
        assert [s.case_model_score for s in similar] == [
            pytest.approx(float(library.similarity.case_dense[row, library.names.index(s.case)])) for s in similar]
    shown = library.similar(case="loan_a_synthetic.txt", k=1)[0].to_json()
    assert json.loads(json.dumps(shown))["case_model_score"] == round(library.similar(case="loan_a_synthetic.txt", k=1)[0].case_model_score, 6)
    by_text = library.similar(text="證券公司用區塊鏈建立碳賬戶", k=1)
    assert by_text[0].case == "green_a_synthetic.txt" and by_text[0].case_model_score is not None


class _Counting(CaseModel):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def embed(self, texts):
        self.calls += 1
        return super().embed(texts)


def test_without_weight_the_case_model_is_never_run(tmp_path, matcher):
    counting = _Counting()
    library = CaseLibrary(_retriever(tmp_path, FILES, matcher), CaseSettings(similarity=SimilaritySettings(case_model_weight=0.0)),
                          case_model=counting)
    similar = library.similar(case="loan_a_synthetic.txt", k=2) + library.similar(text="綠色保險", k=1)
    assert counting.calls == 0 and library.similarity.case_vectors is None
    assert all(s.case_model_score is None and s.to_json()["case_model_score"] is None for s in similar)
    library.compare(["loan_a_synthetic.txt", "green_a_synthetic.txt"])
    assert counting.calls == 0
