"""Checks an LLM's answer against its numbered sources before anyone sees it as final.

Owns: normalizing citation markers ("[1, 2]", "【1】", "。[1]"), removing markers that name no
source or sit on no content, flagging cited sentences their sources do not support, and
citing an uncited sentence when one source clearly supports it (small models often forget
to cite). Whether a source supports a statement is decided by the callables it is given
(`EvidenceFinder.supports` and `EvidenceFinder.best_support` for its words,
`FactCheck.agrees` for its numbers and negation: a sentence that keeps the words but changes
三分钟 to 三十分钟, or adds a 未, is flagged, and never given a citation).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from index.text import sentence_spans

from .retrieve import Hit

_LIST_MARKER = re.compile(r"[\[【]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]】]")
_MARKER = re.compile(r"\[(\d+)\]")
_AFTER_STOP = re.compile(r"([。！？!?；;])((?:\s*\[\d+\])+)")
_TRAILING_STOP = re.compile(r"[。！？!?；;.…]*$")
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Checked:
    text: str  # markers normalized, invalid ones removed, unsupported sentences flagged
    cited: tuple[int, ...]  # valid source numbers used, in order of first use
    flagged: tuple[str, ...]  # cited sentences (markers removed) their sources do not support
    attributed: tuple[str, ...]  # uncited sentences given the marker of the source supporting them


def normalize_markers(text: str) -> str:
    """"[1, 2]" and "【1】" become "[1][2]" and "[1]"; a marker after a sentence's end
    punctuation moves before it, so it stays with the sentence it cites."""
    text = _LIST_MARKER.sub(lambda m: "".join(f"[{n}]" for n in re.findall(r"\d+", m.group(1))), text)
    return _AFTER_STOP.sub(lambda m: m.group(2).strip() + m.group(1), text)


def keep_known_markers(text: str, sources: int) -> tuple[str, tuple[int, ...]]:
    """`text` with its markers normalized and those naming no source (outside 1..`sources`)
    removed, and the valid numbers it cites, in order of first use. For text whose sentences
    are not claims (an outline, questions), where support is not checked."""
    text = _MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= sources else "", normalize_markers(text))
    return text, tuple(dict.fromkeys(int(n) for n in _MARKER.findall(text)))


def check(
    text: str,
    sources: Sequence[Hit],
    supports: Callable[[str, Sequence[Hit]], bool],
    best_support: Callable[[str, Sequence[Hit]], int | None],
    flag: str,
    agrees: Callable[[str, Sequence[Hit]], bool],
) -> Checked:
    """`supports(claim, cited_hits)`; `best_support(claim, sources)` is the index of the one
    source that supports the claim, or None; `agrees(claim, hits)`: its numbers and negation
    are those of the hits."""
    text = normalize_markers(text)
    out: list[str] = []
    cited: list[int] = []
    flagged: list[str] = []
    attributed: list[str] = []
    cursor = 0
    for start, end in sentence_spans(text):
        out.append(text[cursor:start])
        sentence = text[start:end]
        claim = _MARKER.sub("", sentence).strip()
        valid = [n for n in map(int, _MARKER.findall(sentence)) if 1 <= n <= len(sources)]
        if len(_WORD.findall(claim)) < 2:  # nothing to cite
            sentence, valid = _MARKER.sub("", sentence), []
        else:
            sentence = _MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= len(sources) else "", sentence)
        if valid:
            cited_hits = [sources[n - 1] for n in dict.fromkeys(valid)]
            if not (supports(claim, cited_hits) and agrees(claim, cited_hits)):
                flagged.append(claim)
                sentence += flag
        elif len(_WORD.findall(claim)) >= 2 and (best := best_support(claim, sources)) is not None and agrees(claim, [sources[best]]):
            valid = [best + 1]
            attributed.append(claim)
            stop = _TRAILING_STOP.search(sentence).start()
            sentence = f"{sentence[:stop]}[{best + 1}]{sentence[stop:]}"
        cited.extend(n for n in valid if n not in cited)
        out.append(sentence)
        cursor = end
    out.append(text[cursor:])
    return Checked(text="".join(out).strip(), cited=tuple(cited), flagged=tuple(flagged), attributed=tuple(attributed))
