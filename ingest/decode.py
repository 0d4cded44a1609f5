"""Decoding text bytes: UTF-8 (with or without BOM), UTF-16 with BOM, GB18030/GBK and Big5.

A Chinese user's .txt is as often GBK as UTF-8, and legacy bytes often decode without error
under the wrong codec, so candidates are ranked by how much of the result is ordinary text
(common CJK characters, ASCII, CJK punctuation) rather than by "no error".
"""
from __future__ import annotations

import codecs
from functools import lru_cache

from .errors import UndecodableText

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_LEGACY = ("gb18030", "big5hkscs")
_PLAUSIBLE = 0.6  # share of ordinary characters below which a reading is taken for the wrong codec
_PUNCT = set("，。、；：？！“”‘’「」『』（）《》〈〉【】—…·．,.;:?!()[]\"'-%/ \n\r\t　")


@lru_cache(maxsize=1)
def _common_chars() -> frozenset[str]:
    """The 3,500 most frequent simplified characters (from jieba's dictionary) and their
    traditional forms: text decoded with the wrong codec is mostly rare characters."""
    import jieba
    import opencc

    counts: dict[str, int] = {}
    with open(jieba.get_dict_file().name, encoding="utf-8") as fh:
        for line in fh:
            word, freq = line.split(" ")[:2]
            for ch in word:
                counts[ch] = counts.get(ch, 0) + int(freq)
    top = "".join(sorted(counts, key=counts.get, reverse=True)[:3500])
    return frozenset(top) | frozenset(opencc.OpenCC("s2t").convert(top))


def _plausibility(text: str) -> float:
    if not text:
        return 0.0
    common = _common_chars()
    good = sum(1 for ch in text if ch in common or ch.isascii() or ch in _PUNCT)
    return good / len(text)


def check_not_binary(text: str) -> None:
    """Raise UndecodableText when decoded text is full of control characters."""
    controls = sum(1 for ch in text if ch < " " and ch not in "\n\r\t\f")
    if controls > max(2, len(text) // 200):
        raise UndecodableText("looks like binary data, not text")


def decode_text(data: bytes) -> tuple[str, str]:
    """Return (text, encoding name). Raises UndecodableText naming what was tried."""
    text, name = _decode(data)
    check_not_binary(text)
    return text, name


def _decode(data: bytes) -> tuple[str, str]:
    if b"\x00" in data[:8192] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UndecodableText("looks like binary data, not text")
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as exc:
                raise UndecodableText(f"has a {name} byte-order mark but invalid bytes at {exc.start}") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = _legacy_readings(data)
    if not candidates:
        raise UndecodableText("not valid UTF-8, UTF-16, GB18030 or Big5 text")
    score, name, text = max(candidates)
    if score < _PLAUSIBLE:
        raise UndecodableText("bytes decode only to unlikely characters (binary or an unknown encoding)")
    return text, name


def _legacy_readings(data: bytes) -> list[tuple[float, str, str]]:
    """(plausibility, encoding name, text) for each legacy codec that decodes `data`."""
    readings = []
    for codec in _LEGACY:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        readings.append((_plausibility(text), "big5" if codec == "big5hkscs" else codec, text))
    return readings


def read_legacy(data: bytes) -> tuple[str, str] | None:
    """(text, encoding name) of the most plausible GB18030 or Big5 reading of `data`, or None
    when neither reads it as likely text. File names that are not UTF-8 are read this way."""
    readings = [r for r in _legacy_readings(data) if r[0] >= _PLAUSIBLE]
    if not readings:
        return None
    _, name, text = max(readings)
    return text, name
