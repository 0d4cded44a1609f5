"""The follow-up set over DRCD (`bench.followups`): a question naming its subject by 它, after a
question on the same article (answerable) or on another one (other-topic)."""
import json

import opencc
import pytest

from bench.drcd import report_article_ids
from bench.followups import build_english_after_chinese, build_followups, pointed
from index.sentences import has_cjk

from .test_answerability import DRCD, needs_drcd


def test_the_title_becomes_it_only_where_it_stands_as_a_word():
    assert pointed("李白於并州遊玩時保釋了一名犯錯的將領，該人是誰?", "李白") == "它於并州遊玩時保釋了一名犯錯的將領，該人是誰?"
    assert pointed("從北京首都國際機場到關島的航班是什麼性質的？", "關島") == "從北京首都國際機場到它的航班是什麼性質的？"
    assert pointed("草地網球是哪一種運動的祖先？", "網球") is None  # inside a word
    assert pointed("網球比賽中誰擁有最終仲裁權？", "網球") is None  # 網球比賽: a compound
    assert pointed("李白與杜甫誰年長？李白幾歲？", "李白") is None  # named twice
    assert pointed("哪一位詩人最有名？", "李白") is None


@needs_drcd
def test_follow_ups_point_back_to_their_own_article_or_to_another(tmp_path):
    path = build_followups(DRCD / "DRCD_dev.json", DRCD / "questions.jsonl", DRCD / "corpus", tmp_path / "questions.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    articles = json.loads((DRCD / "DRCD_dev.json").read_text(encoding="utf-8"))["data"]
    by_id = {a["id"]: a for a in articles}
    reported = report_article_ids([json.loads(line) for line in (DRCD / "questions.jsonl").read_text(encoding="utf-8").splitlines()], articles)
    t2s = opencc.OpenCC("t2s")
    kinds = {"answerable": 0, "other-topic": 0}
    assert len({r["question"] for r in rows}) == len(rows)
    for row in rows:
        article = by_id[row["id"][1:].split("-")[0]]
        assert article["id"] in reported  # never a calibration article
        title = t2s.convert(article["title"]) if row.get("script") == "simplified" else article["title"]
        assert "它" in row["question"] and title not in row["question"] and len(row["history"]) == 1
        if row["evidence"]:
            kinds["answerable"] += 1
            assert title in row["history"][0] and row["doc"].endswith(f"_{article['title']}.txt")
            assert row["evidence"][0] in (DRCD / "corpus" / row["doc"]).read_text(encoding="utf-8")
        else:
            kinds[row["unanswerable"]] += 1
            assert row["unanswerable"] == "other-topic" and row["doc"] is None and title not in row["history"][0]
    assert kinds["answerable"] >= 80 and kinds["other-topic"] >= 25


@needs_drcd
def test_english_questions_follow_a_chinese_question_on_their_article(tmp_path):
    path = build_english_after_chinese(DRCD / "DRCD_dev.json", DRCD / "questions.jsonl", tmp_path / "questions.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    by_id = {a["id"]: a for a in json.loads((DRCD / "DRCD_dev.json").read_text(encoding="utf-8"))["data"]}
    assert len(rows) == 360 and len({r["question"] for r in rows}) == 360
    for row in rows:
        (earlier,) = row["history"]
        assert not has_cjk(row["question"]) and has_cjk(earlier)
        asked = row["id"][1:]
        article = by_id.get(asked.split("-")[0])
        if article is not None:  # the far unanswerables' articles are not in the dev split's corpus
            assert earlier in {qa["question"] for p in article["paragraphs"] for qa in p["qas"] if qa["id"] != asked}
