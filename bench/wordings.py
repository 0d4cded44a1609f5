"""Other wordings of DRCD questions: English translations, and Chinese rewordings that do not reuse
the article's words. Each is a file of `{"id", "question"}` rows under `data/`, one per question.

- `ENGLISH` (`data/drcd_questions_en.jsonl`): English translations of every DRCD dev question
  outside the report set's articles (so of every calibration split `bench.drcd` can make) and of
  the report set (`../shared/eval/drcd/questions.jsonl`): 1,466 questions, translated by the
  team's engineers (language-model agents, not a machine-translation service), names in their
  established English form or romanized, checked for ids and completeness.
- `REWORDED` (`data/drcd_questions_zh_reworded.jsonl`): the same 1,466 questions back in Chinese,
  translated from the English by engineers (language-model agents) who did not see the Chinese
  originals or the articles, asked to write them as a reader would ask in their own words
  (Simplified script). Back-translation is the usual way to make paraphrases: the rewordings keep
  what is asked and lose the article's phrasing, as a user's own question does (DRCD's questions
  were written looking at the paragraph and share most of its words).

Rows are keyed by the question's id in the split that first used it (`t`/`u` + DRCD id); a question
is looked up by its DRCD id, since whether it is answerable (`t`) or not (`u`) depends on the
split's corpus, not on the question. DRCD is CC BY-SA 3.0; so are these wordings.
`python -m bench calibrate` fits the model for questions without Chinese characters on the
calibration split's English, and the Chinese model on its Chinese questions and their rewordings;
`python -m bench quality` reports on the report set's (`drcd-en`, `drcd-reworded`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Wording:
    """One other wording of the DRCD questions: its name (each question in it says so, as
    `wording`), its file, and the script its questions are in (None: no Chinese characters)."""

    name: str
    path: Path
    script: str | None


ENGLISH = Wording("english", DATA / "drcd_questions_en.jsonl", None)
REWORDED = Wording("reworded", DATA / "drcd_questions_zh_reworded.jsonl", "simplified")


def drcd_id(question_id: str) -> str:
    """The DRCD id of a split's question id (`t1147-9-1`, `u1147-9-1` -> `1147-9-1`)."""
    return question_id.lstrip("tu")


def texts(wording: Wording) -> dict[str, str]:
    """DRCD question id (`drcd_id`) -> the question in `wording`."""
    rows = (json.loads(line) for line in wording.path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {drcd_id(row["id"]): row["question"] for row in rows}


def in_wording(questions: Sequence[dict], wording: Wording, table: dict[str, str] | None = None) -> list[dict]:
    """The questions that have a text in `wording`, each with that text and the wording's name
    (evidence, answers and everything else unchanged; `script` the wording's, or dropped)."""
    table = texts(wording) if table is None else table
    script = {"script": wording.script} if wording.script else {}
    return [
        {**{k: v for k, v in q.items() if k != "script"}, "question": table[drcd_id(q["id"])], "wording": wording.name, **script}
        for q in questions if drcd_id(q["id"]) in table
    ]


def question_file(source: Path, dest: Path, wording: Wording) -> Path:
    """`source` (a DRCD-format question file) in `wording`, written to `dest`."""
    questions = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in in_wording(questions, wording)), encoding="utf-8")
    return dest
