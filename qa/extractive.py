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


def excerpts(quotes: Sequence[Sentence]) -> list[tuple[str, str]]:
    """(verbatim text, chunk id) per excerpt: quotes of one passage that follow each other in
    one paragraph (nothing but spaces between them) read as one excerpt, the passage's text
    from the first's start to the last's end; the others stay apart, in the given order."""
    out: list[tuple[str, str]] = []
    previous: Sentence | None = None
    for quote in quotes:
        chunk = quote.hit.chunk
        if previous is not None and previous.hit.chunk.id == chunk.id and quote.start >= previous.end:
            between = chunk.text[previous.end - chunk.start : quote.start - chunk.start]
            if not between.strip() and "\n" not in between:
                out[-1] = (out[-1][0] + between + quote.text, chunk.id)
                previous = quote
                continue
        out.append((quote.text, chunk.id))
        previous = quote
    return out


def compose(question: str, script: Script, quotes: Sequence[Sentence], detector: ScriptDetector, **fields) -> Answer:
    """An extractive answer quoting `quotes` (at least one), consecutive ones as one excerpt."""
    phrases = PHRASES[script]
    citations = number_citations(quotes)
    lines = [phrases.intro]
    for excerpt, chunk_id in excerpts(quotes):
        n = citations[chunk_id].n
        text = excerpt.strip()
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
