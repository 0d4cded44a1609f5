"""English versions of DRCD questions, for answering questions without Chinese characters.

`data/drcd_questions_en.jsonl` holds English translations of every DRCD dev question outside the
report set's articles (so of every calibration split `bench.drcd` can make) and of the report set
(`../shared/eval/drcd/questions.jsonl`): 1,466 questions, translated by the team's engineers
(language-model agents, not a machine-translation service), names in their established English
form or romanized, checked for ids and completeness. Rows are keyed by the question's id in the
split that first used it (`t`/`u` + DRCD id); a question is looked up by its DRCD id, since
whether it is answerable (`t`) or not (`u`) depends on the split's corpus, not on the question. DRCD is CC BY-SA 3.0;
so are these translations. `python -m bench calibrate` fits the model for questions without
Chinese characters on the calibration split's; `python -m bench quality` reports on the
report set's (`drcd-en`).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

TRANSLATIONS = Path(__file__).resolve().parent / "data" / "drcd_questions_en.jsonl"


def drcd_id(question_id: str) -> str:
    """The DRCD id of a split's question id (`t1147-9-1`, `u1147-9-1` -> `1147-9-1`)."""
    return question_id.lstrip("tu")


def translations(path: Path = TRANSLATIONS) -> dict[str, str]:
    """DRCD question id (`drcd_id`) -> its English translation."""
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {drcd_id(row["id"]): row["question"] for row in rows}


def in_english(questions: Sequence[dict], english: dict[str, str] | None = None) -> list[dict]:
    """The questions that have a translation, each with its text in English (evidence, answers
    and everything else unchanged; `script` dropped)."""
    english = translations() if english is None else english
    return [
        {**{k: v for k, v in q.items() if k != "script"}, "question": english[drcd_id(q["id"])]}
        for q in questions if drcd_id(q["id"]) in english
    ]


def english_question_file(source: Path, dest: Path) -> Path:
    """`source` (a DRCD-format question file) in English, written to `dest`."""
    questions = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in in_english(questions)), encoding="utf-8")
    return dest
