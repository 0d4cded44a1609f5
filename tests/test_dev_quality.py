"""Retrieval and answer quality on the shared dev set, and answers on our own question set,
with the real model and the shipped pipeline (slow).

The thresholds are the figures measured with the general dictionary and the fusion and
answerability fitted on DRCD (issue 10), a little below them; see README "Quality"."""
import json
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


@needs_dev
def test_own_question_set_answers(index_dir, tmp_path):
    """Our own 16 answerable and 14 unanswerable questions (never fitted on since issue 10);
    figures as measured, see README."""
    figures = score("ask", OWN, ask(index_dir, OWN), tmp_path)
    assert figures["refusal_accuracy"] >= 0.75 and figures["false_refusals"] <= 2 and figures["cited_evidence_rate"] >= 0.85, figures


def test_follow_up_carries_the_topic_offline(index_dir):
    from qa.answer import Turn
    from qa.assistant import Assistant
    from qa.retrieve import open_retriever

    answer = Assistant(open_retriever(index_dir)).ask("谁负责制定它的技术标准？", history=[Turn("数字人民币在哪些领域开展了试点应用？")])
    assert answer.found and "負責制定技術標準" in answer.text
