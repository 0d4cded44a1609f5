"""File names as they arrive on disk: any bytes, shown decoded, kept reversibly.

A Windows ZIP unpacked on Linux or macOS leaves GBK (or Big5) bytes as file names, and Python
hands such names over with surrogate escapes, which no UTF-8 text (a hash, JSON, a terminal)
accepts. Owns turning a file's path into a `FileName`: the name as a person reads it (valid
UTF-8 as is; else the GB18030 or Big5 reading the text decoder finds plausible; else the
undecodable bytes escaped as \\xNN; control characters always escaped), which is also the
document id, made unique among the files of a run; a note saying how a name that is not UTF-8
was read; and, whenever the id differs from the bytes on disk, those bytes percent-escaped
(reversible: `urllib.parse.unquote_to_bytes`) for the manifest.
"""
from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable
from urllib.parse import quote_from_bytes

from .decode import read_legacy

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class FileName:
    doc: str  # document id and the name shown: valid Unicode, unique within a run
    note: str  # how a name that is not UTF-8 was read; "" for UTF-8 names
    escaped: str  # the path's bytes percent-escaped when `doc` is not exactly them, else ""


def _shown(raw: bytes) -> tuple[str, str]:
    try:
        text, note = raw.decode("utf-8"), ""
    except UnicodeDecodeError:
        legacy = read_legacy(raw)
        if legacy:
            text, note = legacy[0], f"file name not UTF-8, read as {legacy[1].upper()}"
        else:
            text, note = raw.decode("utf-8", "backslashreplace"), "file name not UTF-8, GB18030 or Big5: bad bytes shown as \\xNN"
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text), note


def file_names(root_and_files: Iterable[tuple[Path, Path]]) -> list[FileName]:
    """The `FileName` of each (root, file), in order; ids are relative to each root."""
    raws = [os.fsencode(file.relative_to(root)) for root, file in root_and_files]
    shown = [_shown(raw) for raw in raws]
    exact = {text for raw, (text, _) in zip(raws, shown) if text.encode("utf-8") == raw}
    counts = Counter(text for text, _ in shown)
    named = []
    for raw, (text, note) in zip(raws, shown):
        if text.encode("utf-8") != raw and (text in exact or counts[text] > 1):  # a name read differently never takes another's
            path = PurePosixPath(text)
            text = str(path.with_name(f"{path.stem} [{hashlib.sha256(raw).hexdigest()[:8]}]{path.suffix}"))
        named.append(FileName(doc=text, note=note, escaped="" if text.encode("utf-8") == raw else quote_from_bytes(raw, safe="/")))
    return named
