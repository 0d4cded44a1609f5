"""Checks an LLM's answer against its numbered sources before anyone sees it as final.

Owns: normalizing citation markers ("[1, 2]", "【1】", "。[1]"), removing markers that name no
source, and flagging cited sentences their sources do not support. Whether a statement is
supported is decided by the `supports` callable it is given (`EvidenceFinder.supports`).
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


@dataclass(frozen=True)
class Checked:
    text: str  # markers normalized, invalid ones removed, unsupported sentences flagged
    cited: tuple[int, ...]  # valid source numbers used, in order of first use
    flagged: tuple[str, ...]  # cited sentences (markers removed) their sources do not support


def normalize_markers(text: str) -> str:
    """"[1, 2]" and "【1】" become "[1][2]" and "[1]"; a marker after a sentence's end
    punctuation moves before it, so it stays with the sentence it cites."""
    text = _LIST_MARKER.sub(lambda m: "".join(f"[{n}]" for n in re.findall(r"\d+", m.group(1))), text)
    return _AFTER_STOP.sub(lambda m: m.group(2).strip() + m.group(1), text)


def check(text: str, sources: Sequence[Hit], supports: Callable[[str, Sequence[Hit]], bool], flag: str) -> Checked:
    text = normalize_markers(text)
    out: list[str] = []
    cited: list[int] = []
    flagged: list[str] = []
    cursor = 0
    for start, end in sentence_spans(text):
        out.append(text[cursor:start])
        sentence = text[start:end]
        numbers = [int(n) for n in _MARKER.findall(sentence)]
        valid = [n for n in numbers if 1 <= n <= len(sources)]
        sentence = _MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= len(sources) else "", sentence)
        if valid:
            claim = _MARKER.sub("", sentence).strip()
            if not supports(claim, [sources[n - 1] for n in dict.fromkeys(valid)]):
                flagged.append(claim)
                sentence += flag
            cited.extend(n for n in valid if n not in cited)
        out.append(sentence)
        cursor = end
    out.append(text[cursor:])
    return Checked(text="".join(out).strip(), cited=tuple(cited), flagged=tuple(flagged))
