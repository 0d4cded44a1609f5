"""One filter record for the CLI, the assistant and the app: which passages may be retrieved.

Keys: `doc`, `case`, `institution_type`, `theme`, `scenario`. Values of one key are
alternatives (any of them); different keys must all hold. `theme`, `scenario` and
`institution_type` are read from a chunk's tags (`theme:綠色金融` …, ingest/tags.py). Values
are compared after NFKC, traditional→simplified and case folding, so `theme=绿色金融` selects
`theme:綠色金融`; a `case` value also matches a case name that starts with it followed by a
space (`case=案例一` selects `案例一 某農商銀行…`). Filtering is the retriever's job (before
ranking); this module only says which chunks pass.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Iterable

from index.records import Chunk

from .display import in_script
from .limits import Limits

FILTER_KEYS = ("doc", "case", "institution_type", "theme", "scenario")
_FIELDS = {"doc": "docs", "case": "cases", "institution_type": "institution_types", "theme": "themes", "scenario": "scenarios"}
_TAG_KEYS = ("institution_type", "theme", "scenario")


class FilterError(ValueError):
    """A filter the user wrote cannot be read; the message names the allowed keys."""


@lru_cache(maxsize=8192)  # a small vocabulary (tag values, documents, case names), asked per chunk
def fold(text: str) -> str:
    """The form in which filter values are compared: NFKC, simplified, case-folded, trimmed."""
    return in_script(unicodedata.normalize("NFKC", text), "simplified").casefold().strip()


def tag_values(chunk: Chunk, key: str) -> list[str]:
    """The values of `chunk`'s tags of kind `key` (e.g. key "theme" → ["綠色金融"])."""
    prefix = key + ":"
    return [tag[len(prefix):] for tag in chunk.tags if tag.startswith(prefix)]


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some documents, cases, institution types, themes and scenarios
    (an empty set: no restriction on that key)."""

    docs: frozenset[str] = frozenset()
    cases: frozenset[str] = frozenset()
    institution_types: frozenset[str] = frozenset()
    themes: frozenset[str] = frozenset()
    scenarios: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, items: Iterable[str], limits: Limits = Limits()) -> Filters:
        """From `key=value` strings (a repeated key gives alternatives), at most
        `limits.filter_values` of them, each value at most `limits.filter_value_chars`. Raises FilterError."""
        values: dict[str, set[str]] = {}
        for count, item in enumerate(items, start=1):
            if count > limits.filter_values:
                raise FilterError(f"too many filters: at most {limits.filter_values}")
            key, sep, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not value:
                raise FilterError(f"filter {item[:60]!r} is not key=value; keys: {', '.join(FILTER_KEYS)}")
            if key not in _FIELDS:
                raise FilterError(f"unknown filter key {key[:60]!r}; use one of {', '.join(FILTER_KEYS)}")
            if len(value) > limits.filter_value_chars:
                raise FilterError(f"the {key} filter's value is too long: at most {limits.filter_value_chars} characters")
            values.setdefault(_FIELDS[key], set()).add(value)
        return cls(**{name: frozenset(v) for name, v in values.items()})

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def items(self) -> list[tuple[str, str]]:
        """(key, value) pairs, in key order: what `describe` and exports show."""
        return [(key, value) for key in FILTER_KEYS for value in sorted(getattr(self, _FIELDS[key]))]

    def describe(self) -> str:
        return ", ".join(f"{key}={value}" for key, value in self.items())

    def accepts(self, chunk: Chunk) -> bool:
        if self.docs and not _matches(self.docs, [chunk.doc]):
            return False
        if self.cases and not (chunk.case and _matches_case(self.cases, chunk.case)):
            return False
        return all(
            _matches(wanted, tag_values(chunk, key))
            for key in _TAG_KEYS
            if (wanted := getattr(self, _FIELDS[key]))
        )


def _matches(wanted: frozenset[str], values: list[str]) -> bool:
    folded = {fold(v) for v in values}
    return any(fold(w) in folded for w in wanted)


def _matches_case(wanted: frozenset[str], case: str) -> bool:
    name = fold(case)
    return any(name == w or name.startswith(w + " ") for w in map(fold, wanted))
