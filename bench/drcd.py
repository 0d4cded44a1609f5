"""The calibration split of DRCD's dev set: a corpus and questions disjoint from the report set.

Owns making, from `DRCD_dev.json`, a corpus folder and a question file in the format of
`../shared/eval/drcd/questions.jsonl`, for fitting (answerability, fusion) on questions that
are never reported. The articles of the report set (every article one of its questions names
or was taken from) are left out, so fitted settings see neither its questions nor its texts.
Of the other articles, `articles` (a seeded sample) make the corpus. Unanswerable questions are
made as `../shared/eval/drcd/README.md` describes: "near" ones about paragraphs held out of an
article the corpus has (`held_out` of each, never all), "far" ones about the remaining
non-report articles, which the corpus does not have. A third of the questions are converted to simplified script, as in the report
set. Deterministic (a seed). `bench.ranking` takes every non-report article (`articles=None`)
to tune ranking on.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import opencc

from index.sentences import sentence_spans


@dataclass(frozen=True)
class SplitSettings:
    articles: int | None = 100  # in the corpus (embedding them is the cost of calibrating; None: all)
    far_questions: int = 400  # questions about articles the corpus does not have
    # Paragraphs held out of each article of the corpus (never all of them: at least one stays,
    # with its answerable questions); their questions are the "near" unanswerable ones.
    held_out: int = 1
    simplified_every: int = 3  # every n-th question is converted to simplified script
    seed: int = 0


def report_article_ids(report: Sequence[dict], articles: Sequence[dict]) -> set[str]:
    """Ids of the articles the report set draws on (its `doc` files are `NNNN_title.txt`,
    NNNN the article's position in DRCD_dev.json; unanswerable ids are `u<article>-…`)."""
    ids = set()
    for q in report:
        if q.get("doc"):
            ids.add(articles[int(q["doc"][:4])]["id"])
        ids.add(q["id"].lstrip("tu").split("-")[0])
    return ids


def evidence_sentence(context: str, answer_start: int) -> str:
    """The sentence of `context` that holds the answer starting at `answer_start`."""
    return next((context[s:e] for s, e in sentence_spans(context) if s <= answer_start < e), context)


def build_split(drcd_json: Path, report_questions: Path, dest: Path, settings: SplitSettings = SplitSettings()) -> tuple[Path, Path]:
    """Write `dest/corpus/NNNN_title.txt` and `dest/questions.jsonl`; return both paths."""
    articles = json.loads(drcd_json.read_text(encoding="utf-8"))["data"]
    with open(report_questions, encoding="utf-8") as fh:
        report = [json.loads(line) for line in fh if line.strip()]
    reported = report_article_ids(report, articles)
    rng = random.Random(settings.seed)
    t2s = opencc.OpenCC("t2s")
    corpus = dest / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    candidates = [(position, a) for position, a in enumerate(articles) if a["id"] not in reported]
    rng.shuffle(candidates)
    taken = len(candidates) if settings.articles is None else settings.articles
    chosen, others = candidates[:taken], candidates[taken:]
    far = [
        {"id": f"u{qa['id']}", "question": qa["question"], "evidence": [], "answers": [a["text"] for a in qa["answers"]],
         "doc": None, "unanswerable": "other-article"}
        for _, article in others for p in article["paragraphs"] for qa in p["qas"]
    ]
    questions: list[dict] = []
    for position, article in sorted(chosen, key=lambda pair: pair[0]):
        paragraphs = article["paragraphs"]
        held = set(rng.sample(range(len(paragraphs)), min(settings.held_out, len(paragraphs) - 1)))
        name = f"{position:04d}_{article['title']}.txt"
        (corpus / name).write_text("\n\n".join([article["title"], *(p["context"] for i, p in enumerate(paragraphs) if i not in held)]) + "\n", encoding="utf-8")
        for i, p in enumerate(paragraphs):
            for qa in p["qas"]:
                answers = [a["text"] for a in qa["answers"]]
                if i in held:
                    questions.append({"id": f"u{qa['id']}", "question": qa["question"], "evidence": [], "answers": answers,
                                      "doc": None, "unanswerable": "same-article"})
                else:
                    questions.append({"id": f"t{qa['id']}", "question": qa["question"], "evidence": [evidence_sentence(p["context"], qa["answers"][0]["answer_start"])],
                                      "answers": answers, "doc": name})
    questions += rng.sample(far, min(settings.far_questions, len(far)))
    for n, q in enumerate(questions):
        if n % settings.simplified_every == 0:
            q["question"] = t2s.convert(q["question"])
            q["script"] = "simplified"
    path = dest / "questions.jsonl"
    path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    return corpus, path
