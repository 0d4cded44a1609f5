"""Follow-up questions over the DRCD report corpus: a question that names its subject only by "它",
asked after another question.

Owns making the follow-up set from `DRCD_dev.json` and the report corpus (a question file in the
format of `../shared/eval/drcd/questions.jsonl`, each row with a `history` of one earlier
question). Nothing is fitted on it; it measures how the assistant carries a conversation's topic.

- A DRCD question of a report article (an article the report set draws on, never a calibration
  one) that names the article's title as a word of its own (after the start, punctuation or a
  preposition, before 的/是/在…) has the title replaced by 它: 李白於并州遊玩時… → 它於并州遊玩時….
- Three in four are **answerable follow-ups**: the history is another question of the same article
  that names the title, and the answer's paragraph is in the corpus.
- One in four are **other-topic** follow-ups, unanswerable: the history is a question about
  another article. The user asks about that other subject; the corpus says nothing of its
  柏培拉港 or 海岸線, and quoting the article that has one answers about the wrong subject.
- A third are converted to simplified script, as in the report set. Deterministic (a seed);
  a follow-up whose text another already has is dropped (scorers key answers by question text).

`build_english_after_chinese` makes a second set: the report set's questions in English
(`bench.wordings.ENGLISH`), each asked after a Chinese DRCD question about the same article (a
random article's for one about an article the corpus lacks). They name their subject, but the
60 whose words point back (it, its, they …) are follow-ups to the offline rule, whose rewrite
puts the Chinese topic before the English question.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import opencc

from .drcd import evidence_sentence, report_article_ids
from .wordings import ENGLISH, drcd_id, in_wording

POINTER = "它"
# The title stands as a word of its own when it follows one of these (or starts the question) …
_BEFORE = frozenset("在於于是與与和到對对從从由把被將将及、，,「」《》〈〉（）()")
# … and is followed by one of these.
_AFTER = frozenset("的之是在於于有為为最共曾被如怎何哪什位所與与和，,？?")


def pointed(question: str, title: str) -> str | None:
    """`question` with its one mention of `title` replaced by 它, or None when the title is not
    there once, as a word of its own."""
    start = question.find(title)
    end = start + len(title)
    if start < 0 or question.find(title, end) >= 0 or end >= len(question) or question[end] not in _AFTER:
        return None
    if start > 0 and question[start - 1] not in _BEFORE:
        return None
    return question[:start] + POINTER + question[end:]


def build_followups(drcd_json: Path, report_questions: Path, corpus: Path, dest: Path, seed: int = 0,
                    other_topic_every: int = 4, simplified_every: int = 3) -> Path:
    """Write the follow-up set to `dest` (a `questions.jsonl` path) and return it."""
    articles = json.loads(drcd_json.read_text(encoding="utf-8"))["data"]
    with open(report_questions, encoding="utf-8") as fh:
        reported = report_article_ids([json.loads(line) for line in fh if line.strip()], articles)
    rng = random.Random(seed)
    t2s = opencc.OpenCC("t2s")
    candidates, by_article = [], {}
    for position, article in enumerate(articles):
        title = article["title"]
        if article["id"] not in reported or len(title) < 2:
            continue
        name = f"{position:04d}_{title}.txt"
        text = (corpus / name).read_text(encoding="utf-8") if (corpus / name).is_file() else ""
        naming = [(p, qa) for p in article["paragraphs"] for qa in p["qas"] if title in qa["question"]]
        by_article[article["id"]] = [qa["question"] for _, qa in naming]
        for paragraph, qa in naming:
            if (asked := pointed(qa["question"], title)) is not None:
                candidates.append((article["id"], name if paragraph["context"] in text else None, paragraph, qa, asked))
    rows, seen = [], set()
    for n, (article, name, paragraph, qa, asked) in enumerate(candidates):
        other_topic = n % other_topic_every == other_topic_every - 1
        if other_topic:
            earlier = [q for other, questions in sorted(by_article.items()) if other != article for q in questions]
        else:
            earlier = [q for q in by_article[article] if q != qa["question"]]
        if not earlier:
            continue
        history = rng.choice(earlier)
        simplified = n % simplified_every == simplified_every - 1
        if simplified:
            asked, history = t2s.convert(asked), t2s.convert(history)
        if asked in seen:
            continue
        seen.add(asked)
        answerable = name is not None and not other_topic
        row = {"id": ("t" if answerable else "u") + qa["id"], "question": asked, "history": [history],
               "evidence": [evidence_sentence(paragraph["context"], qa["answers"][0]["answer_start"])] if answerable else [],
               "answers": sorted({a["text"] for a in qa["answers"]}), "doc": name if answerable else None}
        if simplified:
            row["script"] = "simplified"
        if not answerable:
            row["unanswerable"] = "other-topic" if other_topic else "same-article"
        rows.append(row)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return dest


def build_english_after_chinese(drcd_json: Path, report_questions: Path, dest: Path, seed: int = 0) -> Path:
    """Write the report set's English questions, each with a Chinese `history` of one question
    about the same article, to `dest` and return it."""
    articles = {a["id"]: a for a in json.loads(drcd_json.read_text(encoding="utf-8"))["data"]}
    with open(report_questions, encoding="utf-8") as fh:
        report = [json.loads(line) for line in fh if line.strip()]
    rng = random.Random(seed)
    every = [qa["question"] for a in articles.values() for p in a["paragraphs"] for qa in p["qas"]]
    rows = []
    for q in in_wording(report, ENGLISH):
        asked = drcd_id(q["id"])
        article = articles.get(asked.split("-")[0])
        same = [qa["question"] for p in article["paragraphs"] for qa in p["qas"] if qa["id"] != asked] if article else []
        rows.append({**q, "history": [rng.choice(same or every)]})
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return dest
