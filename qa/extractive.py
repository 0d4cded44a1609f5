"""The offline answer: chosen sentences quoted verbatim, each followed by its [n].

Owns the wording and numbering of extractive answers and of refusals. A traditional-script
quote answering a simplified question is followed by its simplified rendering; the citation's
text stays the verbatim passage. Choosing the sentences is `qa.evidence`'s job.
"""
from __future__ import annotations

from typing import Sequence

from .answer import Answer, Citation
from .evidence import Sentence
from .language import PHRASES, Script, ScriptDetector


def number_citations(sentences: Sequence[Sentence]) -> dict[str, Citation]:
    """Citation per passage (chunk id), numbered 1, 2, … in order of first use."""
    citations: dict[str, Citation] = {}
    for sentence in sentences:
        chunk_id = sentence.hit.chunk.id
        if chunk_id not in citations:
            citations[chunk_id] = Citation(n=len(citations) + 1, hit=sentence.hit)
    return citations


def compose(question: str, script: Script, quotes: Sequence[Sentence], detector: ScriptDetector, **fields) -> Answer:
    """An extractive answer quoting `quotes` (at least one)."""
    phrases = PHRASES[script]
    citations = number_citations(quotes)
    lines = [phrases.intro]
    for quote in quotes:
        n = citations[quote.hit.chunk.id].n
        text = quote.text.strip()
        if script == "en":
            lines.append(f'- "{text}" [{n}]')
            continue
        line = f"- 「{text}」"
        if script == "hans" and (simplified := detector.simplified(text)) != text:
            line += f"（{phrases.simplified}：{simplified}）"
        lines.append(f"{line}[{n}]")
    return Answer(question=question, found=True, text="\n".join(lines), citations=tuple(citations.values()), mode="extractive", **fields)


def refuse(question: str, script: Script, mode: str = "extractive", **fields) -> Answer:
    return Answer(question=question, found=False, text=PHRASES[script].not_found, citations=(), mode=mode, **fields)
