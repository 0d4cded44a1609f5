"""Tags for chunks from a transparent keyword taxonomy (`ingest/data/taxonomy.json`).

A chunk's tags are strings `kind:value`:
- `theme:X` (one of the five articles) and `scenario:X` when the chunk's text or its case
  title contains one of X's keywords;
- `institution:X` and `institution_type:X` on every chunk of a case whose text states them
  (機構：… / 機構類型：…); a type not stated is read from keywords in the institution's name.
Keywords and text are compared in matching form (the normalizer given at construction, e.g.
`TextMatcher.normalize`), so one script per keyword serves both. Owns nothing else.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable

from index.records import Chunk

DEFAULT_TAXONOMY = Path(__file__).parent / "data" / "taxonomy.json"


class Tagger:
    def __init__(self, normalize: Callable[[str], str], taxonomy: Path = DEFAULT_TAXONOMY):
        raw = taxonomy.read_bytes()
        data = json.loads(raw)
        self.taxonomy_hash = hashlib.sha256(raw).hexdigest()[:16]
        self._normalize = normalize
        self._keywords = {
            f"{kind}:{label}": [normalize(k) for k in words]
            for kind, key in (("theme", "themes"), ("scenario", "scenarios"))
            for label, words in data[key].items()
        }
        self._type_keywords = {label: [normalize(k) for k in words] for label, words in data["institution_types"].items()}
        self._type_names = {normalize(label): label for label in data["institution_types"]}
        self._institution = self._statement(data["institution_statements"])
        self._institution_type = self._statement(data["institution_type_statements"])

    def _statement(self, labels: list[str]) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(self._normalize(label)) for label in sorted(labels, key=len, reverse=True))
        return re.compile(rf"^\s*(?:{alternatives})\s*[:：]\s*(?P<value>[^\n,，;；。]{{2,40}})", re.MULTILINE)

    def keyword_tags(self, text: str) -> list[str]:
        normalized = self._normalize(text)
        return [tag for tag, words in self._keywords.items() if any(w in normalized for w in words)]

    def case_tags(self, case_text: str) -> list[str]:
        """institution / institution_type tags stated in the text of one case."""
        normalized = self._normalize(case_text)
        tags = []
        stated_type = self._institution_type.search(normalized)
        institution = self._institution.search(normalized)
        if institution:
            start, end = institution.span("value")
            tags.append(f"institution:{_original(case_text, normalized, start, end)}")
        kind = None
        if stated_type:
            value = stated_type.group("value").strip()
            kind = next((label for name, label in self._type_names.items() if name in value), None)
        if kind is None and institution:
            name = institution.group("value")
            kind = next((label for label, words in self._type_keywords.items() if any(w in name for w in words)), None)
        if kind:
            tags.append(f"institution_type:{kind}")
        return tags

    def tag(self, chunks: Iterable[Chunk]) -> list[Chunk]:
        """The same chunks with `tags` set (case tags from all chunks of the same case)."""
        chunks = list(chunks)
        case_texts: dict[str, list[str]] = {}
        for chunk in chunks:
            if chunk.case:
                case_texts.setdefault(chunk.case, []).append(chunk.text)
        per_case = {case: self.case_tags("\n".join(texts)) for case, texts in case_texts.items()}
        return [
            replace(chunk, tags=tuple(dict.fromkeys(
                per_case.get(chunk.case, []) + self.keyword_tags(f"{chunk.case or ''}\n{chunk.text}")
            )))
            for chunk in chunks
        ]


def _original(text: str, normalized: str, start: int, end: int) -> str:
    """The original-script words at normalized[start:end] when normalizing kept the length
    (the usual case for Chinese), else the normalized words."""
    if len(text) == len(normalized):
        return text[start:end].strip()
    return normalized[start:end].strip()
