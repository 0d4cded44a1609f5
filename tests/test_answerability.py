"""Answerability: the shipped model file, the calibration fit, the calibration split's
disjointness from the report set, and `python -m bench quality` on a small slice (slow)."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest

from bench.calibrate import CALIBRATION_SPLITS, MAX_FALSE_REFUSALS, balanced_weights, fit
from index.sentences import has_cjk
from qa.answerability import FEATURE_NAMES, MODEL_PATH, MODELS, ModelMismatch, load_answerability

from .conftest import REPO

DRCD = REPO.parent / "shared" / "eval" / "drcd"
needs_drcd = pytest.mark.skipif(not (DRCD / "DRCD_dev.json").exists(), reason="the shared DRCD set is not beside this checkout")


def test_the_shipped_models_load_and_say_how_they_were_fitted():
    answerability = load_answerability()
    for model in (answerability.chinese, answerability.other):
        assert model.names == FEATURE_NAMES and 0 < model.threshold < 1
    fitted = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert fitted["command"] == "python -m bench calibrate"
    assert all(fitted[name]["fitted_on"]["questions"] >= 900 for name in MODELS)
    assert fitted["chinese"]["cross_validated"]["roc_auc"] > 0.95
    # English questions over Chinese text: weaker, but better than their best cosine alone
    other = fitted["other"]["cross_validated"]
    assert other["roc_auc"] > other["ablation_roc_auc"]["best_dense alone"] + 0.05


@pytest.mark.parametrize("name", MODELS)
def test_a_model_for_other_features_is_refused(tmp_path, name):
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    data[name]["model"]["names"] = ["best_dense"]
    (tmp_path / "m.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelMismatch, match="bench calibrate"):
        load_answerability(tmp_path / "m.json")


@needs_drcd
@pytest.mark.parametrize("wording", ["english", "reworded"])
def test_every_calibration_and_report_question_has_its_other_wordings(tmp_path, wording):
    from bench.drcd import build_split
    from bench.wordings import ENGLISH, REWORDED, in_wording, texts

    chosen = {"english": ENGLISH, "reworded": REWORDED}[wording]
    question_files = [build_split(DRCD / "DRCD_dev.json", DRCD / "questions.jsonl", tmp_path / str(n), split)[1]
                      for n, split in enumerate(CALIBRATION_SPLITS)]
    table = texts(chosen)
    for path in (*question_files, DRCD / "questions.jsonl"):
        questions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        worded = in_wording(questions, chosen, table)
        assert [q["id"] for q in worded] == [q["id"] for q in questions]
        assert all(has_cjk(q["question"]) == (chosen.script is not None) for q in worded)
        assert all(w["question"] != q["question"] and w["wording"] == wording for w, q in zip(worded, questions))


def test_fit_is_deterministic_and_keeps_false_refusals_within_budget():
    rng = np.random.default_rng(0)
    y = np.array([1] * 300 + [0] * 200)
    x = rng.normal(size=(500, len(FEATURE_NAMES))) + y[:, None] * 1.5
    model, held_out = fit(x, y)
    again, _ = fit(x, y)
    assert model == again
    assert np.mean(held_out[y == 1] < model.threshold) <= MAX_FALSE_REFUSALS
    assert np.mean(held_out[y == 0] < model.threshold) > 0.5  # and it still refuses most unanswerables
    # with questions asked over two corpora (grouped in folds) and near and far weighted alike
    groups, kinds = np.arange(500) // 2, ["answerable"] * 300 + ["same-article"] * 50 + ["other-article"] * 150
    grouped, held_out = fit(x, y, groups, balanced_weights(kinds))
    assert grouped == fit(x, y, groups, balanced_weights(kinds))[0] and grouped.coef != model.coef
    assert np.mean(held_out[y == 1] < grouped.threshold) <= MAX_FALSE_REFUSALS


@needs_drcd
@pytest.mark.parametrize("split", CALIBRATION_SPLITS, ids=lambda split: f"{split.articles}-articles")
def test_the_calibration_splits_never_touch_the_report_set(tmp_path, split):
    from bench.drcd import build_split

    corpus, questions_file = build_split(DRCD / "DRCD_dev.json", DRCD / "questions.jsonl", tmp_path, split)
    questions = [json.loads(line) for line in questions_file.read_text(encoding="utf-8").splitlines()]
    report = [json.loads(line) for line in (DRCD / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert not {q["question"] for q in questions} & {q["question"] for q in report}
    report_docs = {q["doc"] for q in report if q["doc"]}
    assert len(list(corpus.iterdir())) == split.articles and not {p.name for p in corpus.iterdir()} & report_docs
    kinds = Counter(q.get("unanswerable", "answerable") for q in questions)
    assert kinds["answerable"] > 150 and kinds["same-article"] > 80 and kinds["other-article"] > 250
    text = {p.name: p.read_text(encoding="utf-8") for p in corpus.iterdir()}
    for q in questions:
        if q["evidence"]:
            assert q["evidence"][0] in text[q["doc"]]
        assert not q["evidence"] or any(a in text[q["doc"]] for a in q["answers"])


@needs_drcd
def test_two_held_out_paragraphs_leave_one_and_make_more_near_questions(tmp_path):
    """An article keeps at least one paragraph, with its questions answerable; holding out two
    paragraphs where there are three or more asks more near unanswerable questions."""
    from bench.drcd import SplitSettings, build_split

    def kinds(held_out):
        corpus, questions = build_split(DRCD / "DRCD_dev.json", DRCD / "questions.jsonl", tmp_path / str(held_out), SplitSettings(held_out=held_out))
        assert all(len(p.read_text(encoding="utf-8").split("\n\n")) >= 2 for p in corpus.iterdir())  # the title and a paragraph
        return Counter(json.loads(line).get("unanswerable", "answerable") for line in questions.read_text(encoding="utf-8").splitlines())

    one, two = kinds(1), kinds(2)
    assert two["same-article"] > one["same-article"] and two["answerable"] < one["answerable"]
    assert two["same-article"] + two["answerable"] == one["same-article"] + one["answerable"]


def test_balanced_weights_count_near_and_far_alike():
    kinds = ["answerable"] * 5 + ["same-article"] * 2 + ["other-article"] * 8
    weights = balanced_weights(kinds)
    assert list(weights[:5]) == [1.0] * 5
    near, far = weights[5:7].sum(), weights[7:].sum()
    assert near == pytest.approx(far) and near + far == pytest.approx(10)


@pytest.mark.slow
@needs_drcd
def test_bench_quality_scores_every_configuration_on_a_slice(tmp_path):
    """Three DRCD articles and their questions, three of each kind: every configuration is
    searched and answered, and the shared scorer's figures come back side by side."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    report = [json.loads(line) for line in (DRCD / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    docs = sorted({q["doc"] for q in report if q["doc"]})[:3]
    for doc in docs:
        (corpus / doc).write_text((DRCD / "corpus" / doc).read_text(encoding="utf-8"), encoding="utf-8")
    chosen = [q for q in report if q["doc"] in docs] + [q for q in report if not q["evidence"]][:3]
    (tmp_path / "q.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in chosen), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "quality", "--set", f"slice={corpus},{tmp_path / 'q.jsonl'},{DRCD / 'score_drcd.py'}",
         "--limit", "3", "--work", str(tmp_path / "work"), "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])["quality_sets"]["slice"]
    assert set(figures) == {"ours", "bm25", "dense", "langchain_default", "chatchat_style"}
    for configuration in figures.values():
        assert configuration["search"]["n"] == min(3, len(chosen) - 3) and 0 <= configuration["search"]["mrr@10"] <= 1
        assert configuration["ask"]["unanswerable"] == 3 and "answer_has_text" in configuration["ask"]
    assert figures["langchain_default"]["ask"]["refusal_accuracy"] == 0  # peers never refuse


def _features(matcher, question: str, best: str, passages: list[str]):
    """The features of `question` when `best` (a sentence of the first passage) scores best."""
    import bm25s

    from index.records import Chunk
    from index.sentences import sentence_spans
    from qa.answerability import features
    from qa.evidence import Sentence
    from qa.retrieve import Hit

    hits = [Hit(rank=n + 1, chunk=Chunk(id=f"c{n}", doc="d.txt", title="d", case=None, section="", page=None, start=0, end=len(t), text=t), score=1.0)
            for n, t in enumerate(passages)]
    sentences = [Sentence(hit=h, start=s, end=e, text=h.chunk.text[s:e], dense=0.9, lexical=0.5, score=0.9 + (h.chunk.text[s:e] == best), quotable=True, vector=np.zeros(4))
                 for h in hits for s, e in sentence_spans(h.chunk.text)]
    sentences.sort(key=lambda x: -x.score)
    bm25 = bm25s.BM25()
    bm25.index([matcher.tokens(t) for t in passages], show_progress=False)
    import faiss

    dense = faiss.IndexFlatIP(4)
    dense.add(np.eye(4, dtype=np.float32))
    retriever = SimpleNamespace(
        matcher=matcher, index=SimpleNamespace(bm25=bm25, chunks=[h.chunk for h in hits], dense=dense, sentence_dense=dense),
        question_vector=lambda q: np.full((1, 4), 0.5, dtype=np.float32), cosine_spread=lambda q: ((0.0, 1.0), (0.0, 1.0)),
    )
    return features(question, sentences, retriever)


def test_words_every_retrieved_passage_shares_count_little_for_the_fact_asked(matcher):
    """A question about the article's subject asking what no passage says matches the topic
    (best_lexical) but not the fact (specific_lexical); one whose fact is there matches both."""
    passages = ["寧王朱權受封大寧。寧王善於用兵，帶甲八萬。", "寧王後來改封南昌。寧王在南昌去世。"]
    missing = _features(matcher, "寧王的本名是什麼？", "寧王善於用兵，帶甲八萬。", passages)
    there = _features(matcher, "寧王後來改封到哪裡？", "寧王後來改封南昌。", passages)
    assert missing.best_lexical > 0.3 and missing.specific_lexical == 0.0
    assert there.specific_lexical > 0.4 and there.passage_bigrams > missing.passage_bigrams


def test_the_operating_point_is_told_apart_by_wording():
    from bench.calibrate import by_wording

    questions = [{"evidence": ["a"]}, {"evidence": [], "unanswerable": "same-article"},
                 {"evidence": ["a"], "wording": "reworded"}, {"evidence": ["a"], "wording": "reworded"}]
    told = by_wording(questions, np.array([0.9, 0.1, 0.2, 0.8]), threshold=0.5)
    assert told == {"drcd": {"answerable": "1/1", "same-article": "1/1"}, "reworded": {"answerable": "1/2"}}
