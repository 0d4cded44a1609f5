"""Retrieval and answer quality on the shared dev set, and answers on our own question set,
with the real model and the shipped pipeline (slow).

The thresholds are the figures measured with the general dictionary and the fusion and
answerability fitted on DRCD (issue 10), a little below them; see README "Quality" and docs/quality.md."""
import json
import re
import subprocess
import sys

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow

DEV = REPO.parent / "shared" / "eval"
OWN = REPO / "tests" / "data" / "ask_questions.jsonl"
RUN = dict(cwd=REPO, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("dev") / "idx"
    assert subprocess.run([sys.executable, "-m", "ingest", "corpus", "--index", str(path)], **RUN).returncode == 0
    return path


def score(kind, questions, output, tmp_path):
    (tmp_path / "out.jsonl").write_text(output, encoding="utf-8")
    scorer = DEV / "score.py"
    scored = subprocess.run([sys.executable, str(scorer), kind, str(questions), str(tmp_path / "out.jsonl")], **RUN)
    return json.loads(scored.stdout.strip().splitlines()[-1])


def ask(index_dir, questions):
    result = subprocess.run([sys.executable, "-m", "qa", "ask", "--extractive", "--index", str(index_dir), "--batch", str(questions), "--json"], **RUN)
    assert result.returncode == 0, result.stderr
    return result.stdout


needs_dev = pytest.mark.skipif(not (DEV / "dev.jsonl").exists(), reason="the shared dev set is not beside this checkout")


@needs_dev
def test_dev_set_retrieval(index_dir, tmp_path):
    hits = subprocess.run(
        [sys.executable, "-m", "qa", "search", "--index", str(index_dir), "--batch", str(DEV / "dev.jsonl"), "-k", "10", "--json"],
        **RUN,
    )
    assert hits.returncode == 0, hits.stderr
    figures = score("search", DEV / "dev.jsonl", hits.stdout, tmp_path)
    assert figures["recall@1"] >= 0.85 and figures["recall@5"] == 1.0 and figures["mrr@10"] >= 0.92, figures
    top5 = [len(h["text"]) for row in map(json.loads, hits.stdout.splitlines()) for h in row["hits"][:5]]
    assert sum(top5) / len(top5) <= 350


@needs_dev
def test_dev_set_answers(index_dir, tmp_path):
    figures = score("ask", DEV / "dev.jsonl", ask(index_dir, DEV / "dev.jsonl"), tmp_path)
    assert figures["cited_evidence_rate"] >= 0.92 and figures["refusal_accuracy"] == 1.0 and figures["false_refusals"] <= 1, figures


def own_figures(questions_path, output: str) -> dict:
    """`score.py ask`'s figures for our own set, scored here so that the set needs nothing
    outside this checkout; an evidence quote is covered only when a cited passage contains
    it whole (whitespace aside), stricter than score.py's 60 % overlap."""
    questions = [json.loads(line) for line in questions_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    answers = {row["question"]: row for row in map(json.loads, output.splitlines())}
    squash = lambda text: "".join(text.split())  # noqa: E731
    answerable = [q for q in questions if q["evidence"]]
    unanswerable = [q for q in questions if not q["evidence"]]
    found = {q["question"]: answers[q["question"]]["found"] for q in questions}
    cited = 0
    for q in answerable:
        row = answers[q["question"]]
        marks = {int(n) for n in re.findall(r"\[(\d+)\]", row["answer"])}
        texts = [squash(c["text"]) for c in row["citations"] if c["n"] in marks]
        cited += found[q["question"]] and any(squash(e) in t for e in q["evidence"] for t in texts)
    return {
        "cited_evidence_rate": cited / len(answerable),
        "false_refusals": sum(not found[q["question"]] for q in answerable),
        "refusal_accuracy": sum(not found[q["question"]] for q in unanswerable) / len(unanswerable),
    }


def test_own_question_set_answers(index_dir):
    """Our own 16 answerable and 14 unanswerable questions (never fitted on since issue 10); figures as measured, see docs/quality.md, "Dictionaries". Runs without
    ../shared. 13 of 14 refused since answerability is calibrated over three corpus sizes (10
    before); one English one is answered with quotes, as the English model's 3% false-refusal
    budget answers many unanswerable English questions."""
    figures = own_figures(OWN, ask(index_dir, OWN))
    assert figures["refusal_accuracy"] >= 0.85 and figures["false_refusals"] <= 2 and figures["cited_evidence_rate"] >= 0.85, figures


def test_follow_up_carries_the_topic_offline(index_dir):
    from qa.answer import Turn
    from qa.assistant import Assistant
    from qa.retrieve import open_retriever

    answer = Assistant(open_retriever(index_dir)).ask("谁负责制定它的技术标准？", history=[Turn("数字人民币在哪些领域开展了试点应用？")])
    assert answer.found and "負責制定技術標準" in answer.text


def test_a_fresh_question_taken_for_a_follow_up_is_answered_as_asked(index_dir):
    """這本書… points back by its words, so the rule carries the last topic into it; the
    corpus does not answer that rewrite but answers the question as asked, which is meant."""
    from qa.answer import Turn
    from qa.assistant import Assistant
    from qa.retrieve import open_retriever

    assistant = Assistant(open_retriever(index_dir))
    question, history = "這本書收錄了多少篇案例？", [Turn("What is the title of the preface?")]
    assert assistant.standalone(question, history) != question
    answer = assistant.ask(question, history=history)
    assert answer.found and "20篇" in answer.text and answer.standalone_question == ""


def test_start_page_examples_are_answered_from_the_default_corpus(index_dir, tmp_path):
    """Each interface language's three examples (qa/messages.toml) gets a cited answer in the
    question's script, through `qa ask` on the default corpus."""
    from qa.i18n import LANGUAGES, messages

    examples = [messages(language)(key) for language in LANGUAGES for key in ("example_question", "example_lesson", "example_cases")]
    batch = tmp_path / "examples.jsonl"
    batch.write_text("".join(json.dumps({"question": q}, ensure_ascii=False) + "\n" for q in examples), encoding="utf-8")
    answers = [json.loads(line) for line in ask(index_dir, batch).splitlines()]
    assert [a["question"] for a in answers] == examples
    unanswered = [a["question"] for a in answers if not (a["found"] and a["citations"])]
    assert not unanswered, f"start-page examples the default corpus does not answer: {unanswered}"


def test_english_claims_about_chinese_sources(index_dir):
    """20 English sentences, each translating one sentence of the default corpus
    (tests/data/english_claims.jsonl), checked as an LLM's answer would be against the top
    five passages for it. Measured (docs/answers.md, "With an LLM: checking its claims"): the word-overlap check
    cannot see them and the dense one (e5-small, cross-language cosines 0.81-0.88 for the
    right passage, 0.80-0.84 for a wrong one) does not reach its 0.88 bar, so English claims
    are flagged as unsupported and never attributed: safe, not useful (`-s` prints the figures).
    Numbers are compared across languages; negation is not (no counterpart sentence shares
    characters)."""
    from qa.evidence import EvidenceFinder
    from qa.facts import FactCheck
    from qa.retrieve import open_retriever

    retriever = open_retriever(index_dir)
    evidence, facts = EvidenceFinder(retriever), FactCheck(retriever.matcher)
    rows = [json.loads(line) for line in (REPO / "tests" / "data" / "english_claims.jsonl").read_text(encoding="utf-8").splitlines()]
    supported = wrongly_supported = attributed = 0
    for row in rows:
        hits = retriever.search(row["claim"], k=5)
        right = next(h for h in hits if row["source"] in h.chunk.text)  # retrieval finds every source
        wrong = next(h for h in hits if row["source"] not in h.chunk.text)
        supported += evidence.supports(row["claim"], [right])
        wrongly_supported += evidence.supports(row["claim"], [wrong])
        best = evidence.best_support(row["claim"], hits)
        attributed += best is not None and row["source"] not in hits[best].chunk.text  # a wrong citation added
        assert facts.agrees(row["claim"], [right]), row["claim"]
        if "changed" in row and re.search(r"\d|[Tt]hirty", row["changed"]):
            assert not facts.agrees(row["changed"], [right]), row["changed"]
    print(f"english claims: {supported}/{len(rows)} supported by their source, {wrongly_supported} by a wrong passage, {attributed} wrong citations added")
    assert wrongly_supported == 0 and attributed == 0  # never a wrong source
