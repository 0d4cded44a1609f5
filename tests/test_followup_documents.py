"""A follow-up is answered from the conversation's documents (real model, real index): after a
question about one case, "它的不良率是多少？" is not answered with another case's rate."""
import pytest

from qa.answer import Turn
from qa.assistant import Assistant
from qa.retrieve import open_retriever

from .conftest import SYNTHETIC_SIMPLIFIED_GREEN, SYNTHETIC_TRADITIONAL, indexed_library

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Assistant:
    root = indexed_library(tmp_path_factory.mktemp("followup-documents"), {
        "bank_synthetic.txt": SYNTHETIC_TRADITIONAL, "carbon_synthetic.txt": SYNTHETIC_SIMPLIFIED_GREEN,
    })
    return Assistant(open_retriever(root / "index"))


def test_a_follow_up_on_the_bank_is_answered_from_its_document(assistant):
    answer = assistant.ask("它的不良率是多少？", history=[Turn("某農商銀行的線上信貸平臺發放了多少貸款？")])
    assert answer.found and "百分之一" in answer.text
    assert {c.chunk.doc for c in answer.citations} == {"bank_synthetic.txt"}


def test_a_follow_up_on_another_case_is_not_answered_with_the_banks_rate(assistant):
    """The carbon-account case says nothing of a non-performing-loan rate; the bank's case does,
    and the question as asked finds it. The conversation is about the carbon accounts."""
    history = [Turn("某证券公司的碳账户平台怎样核算企业的碳排放？")]
    assert "bank_synthetic.txt" not in assistant.conversation_documents("它的不良率是多少？", history)
    answer = assistant.ask("它的不良率是多少？", history=history)
    assert not answer.found, answer.text


def test_a_question_on_its_own_has_no_conversation_documents(assistant):
    assert assistant.conversation_documents("某农商银行的不良率是多少？", [Turn("某证券公司的碳账户平台怎样核算企业的碳排放？")]) is None
    assert assistant.conversation_documents("它的不良率是多少？", []) is None


def test_an_english_follow_up_is_read_in_the_conversations_documents(assistant):
    """The rule's rewrite of an English follow-up to a Chinese question mixes the two
    languages; the question as asked is then searched in the conversation's documents only."""
    bank = assistant.ask("How many farmers does it serve?", history=[Turn("某農商銀行的線上信貸平臺發放了多少貸款？")])
    assert bank.found and "八千" in bank.text and {c.chunk.doc for c in bank.citations} == {"bank_synthetic.txt"}
    carbon = assistant.ask("What is its non-performing loan ratio?", history=[Turn("某证券公司的碳账户平台怎样核算企业的碳排放？")])
    assert not carbon.found, carbon.text
