"""The interface's languages and its message catalog (`qa/messages.toml`).

Owns which interface languages exist (繁體中文, 简体中文, English), which one a browser locale
gets by default, and the fixed text of the app and of the exports in each. A message is looked
up by key and formatted with `str.format` placeholders; a key missing in a language is an
error, never a silent fallback to another language. The wording answers carry (refusals, LLM
notices) follows the question's script and belongs to `qa.language`; quoted sources are
never translated.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Formatter
from types import MappingProxyType
from typing import Literal, Mapping

Language = Literal["zh-Hant", "zh-Hans", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-Hant", "zh-Hans", "en")
CATALOG = Path(__file__).with_name("messages.toml")
# Chinese regions that write traditional characters; any other Chinese tag gets simplified.
_TRADITIONAL_REGIONS = {"tw", "hk", "mo", "hant"}


class CatalogError(Exception):
    """The catalog file is unreadable, or a message lacks a language or placeholders differ."""


@dataclass(frozen=True)
class Messages:
    """The catalog's text in one language: `t("key", name=value)`."""

    language: Language
    texts: Mapping[str, str]

    def __call__(self, key: str, **values: object) -> str:
        return self.texts[key].format(**values) if values else self.texts[key]


def language_for_locale(locale: str | None) -> Language:
    """The default interface language for a browser's language tag (`navigator.language`):
    zh-TW / zh-HK / zh-MO / zh-Hant-* → traditional, any other zh → simplified, else English."""
    parts = (locale or "").replace("_", "-").lower().split("-")
    if parts[0] != "zh":
        return "en"
    return "zh-Hant" if _TRADITIONAL_REGIONS & set(parts[1:]) else "zh-Hans"


def placeholders(text: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in Formatter().parse(text) if name is not None)


def read_catalog(path: Path = CATALOG) -> dict[Language, Messages]:
    """Every language's messages; raises CatalogError unless each key has all languages with
    the same placeholders."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"cannot read the message catalog {path}: {exc}") from exc
    problems = []
    for key, texts in table.items():
        if not isinstance(texts, dict) or set(texts) != set(LANGUAGES):
            problems.append(f"{key}: needs exactly {', '.join(LANGUAGES)}")
        elif len({placeholders(str(texts[language])) for language in LANGUAGES}) != 1:
            problems.append(f"{key}: placeholders differ between languages")
    if problems:
        raise CatalogError(f"message catalog {path}: " + "; ".join(problems))
    return {
        language: Messages(language, MappingProxyType({key: texts[language] for key, texts in table.items()}))
        for language in LANGUAGES
    }


@lru_cache(maxsize=None)
def messages(language: Language) -> Messages:
    """The interface text in `language` (the catalog is read once per process)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown interface language {language!r}; use one of {', '.join(LANGUAGES)}")
    return _catalog()[language]


@lru_cache(maxsize=1)
def _catalog() -> dict[Language, Messages]:
    return read_catalog()
