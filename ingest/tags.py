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


_VALUE = re.compile(r"\s*([^\n,，;；。]{2,40})")


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

    def _stated(self, statement: re.Pattern[str], case_text: str) -> tuple[str, str] | None:
        """(value as written, value in matching form) of the first line making `statement`."""
        for line in case_text.splitlines():
            if statement.search(self._normalize(line)):
                value = _VALUE.match(re.split(r"[:：]", line, maxsplit=1)[1])
                if value:
                    return value.group(1).strip(), self._normalize(value.group(1))
        return None

    def case_tags(self, case_text: str) -> list[str]:
        """institution / institution_type tags stated in the text of one case."""
        tags = []
        stated_type = self._stated(self._institution_type, case_text)
        institution = self._stated(self._institution, case_text)
        if institution:
            tags.append(f"institution:{institution[0]}")
        kind = None
        if stated_type:
            kind = next((label for name, label in self._type_names.items() if name in stated_type[1]), None)
        if kind is None and institution:
            kind = next((label for label, words in self._type_keywords.items() if any(w in institution[1] for w in words)), None)
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

